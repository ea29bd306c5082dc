#!/usr/bin/env bash
# Builds pinned Kubernetes binaries and etcd from the Go module proxy into the cache
# (see versions.sh). Usage: build-kube-binaries.sh [etcd] [kube-apiserver] [kubectl] ...
# Already-built binaries are skipped, so a second run takes well under a second.
#
# k8s.io/kubernetes cannot be `go install`ed: its go.mod maps the staging modules to
# ./staging/... with replace directives, which only apply in the main module. We build
# from a throw-away wrapper module that replaces each staging module with the published
# v0.Y.Z tag of the same release.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/versions.sh"

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(etcd kube-apiserver kubectl)
mkdir -p "$KUBE_BIN_DIR"
missing=()
for b in "${wanted[@]}"; do [ -x "$KUBE_BIN_DIR/$b" ] || missing+=("$b"); done
[ ${#missing[@]} -gt 0 ] || exit 0

# Debian-style installs put Go in /usr/local/go without adding it to PATH.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
work="$PGOP_CACHE_DIR/build/kube-v$KUBE_VERSION"
mkdir -p "$work"

build_etcd() {
  local dir="$work/etcd"
  mkdir -p "$dir" && cd "$dir"
  [ -f go.mod ] || go mod init local.pgop/etcdbin >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$KUBE_BIN_DIR/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$KUBE_BIN_DIR/etcd.tmp" "$KUBE_BIN_DIR/etcd"
}

prepare_kube_module() {
  local dir="$work/kubernetes"
  mkdir -p "$dir" && cd "$dir"
  [ -f .ready ] && return 0
  rm -f go.mod go.sum
  local gomod minor
  gomod=$(go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" | sed -n 's|.*"GoMod": "\(.*\)".*|\1|p')
  minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  {
    echo "module local.pgop/kubebins"
    sed -n 's/^go \(.*\)/go \1/p' "$gomod"
    grep '^godebug' "$gomod" | sort -u
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    echo "replace ("
    sed -n 's|.*\(k8s.io/[a-z0-9-]*\) => ./staging/src/k8s.io/.*|\1|p' "$gomod" |
      while read -r mod; do echo "  $mod => $mod v0.$minor.${KUBE_VERSION##*.}"; done
    echo ")"
  } >go.mod
  cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kubelet"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  go mod tidy -e >/dev/null 2>&1 || go mod tidy
  touch .ready
}

build_kube() {
  local name="$1" minor v=v$KUBE_VERSION ld="-s -w"
  minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  prepare_kube_module
  cd "$work/kubernetes"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld="$ld -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  # One link at a time: the machines have 2 cores and the links are large.
  go build -p 2 -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ld" \
    -o "$KUBE_BIN_DIR/$name.tmp" "k8s.io/kubernetes/cmd/$name"
  mv "$KUBE_BIN_DIR/$name.tmp" "$KUBE_BIN_DIR/$name"
}

for b in "${missing[@]}"; do
  start=$(date +%s)
  echo "building $b ($KUBE_VERSION / etcd $ETCD_VERSION) into $KUBE_BIN_DIR ..." >&2
  case "$b" in
    etcd) build_etcd ;;
    kube-apiserver | kube-controller-manager | kube-scheduler | kube-proxy | kubelet | kubectl) build_kube "$b" ;;
    *) echo "unknown binary: $b" >&2; exit 2 ;;
  esac
  echo "built $b in $(($(date +%s) - start)) s" >&2
done
