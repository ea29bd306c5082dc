#!/usr/bin/env bash
# Builds the pinned CoreDNS, Helm, MinIO, local-path-provisioner, kube-network-policies, Prometheus and
# promtool from the Go module proxy into the cache (see versions.sh), and cert-manager's controller
# and postgres_exporter from their packages (e2e/tools/<name> says why).
# Usage: build-go-tools.sh [coredns] [helm] [minio] [local-path-provisioner] [kube-network-policies]
#        [cert-manager] [postgres-exporter] [prometheus] [promtool] [cloudnative-pg]
# Already-built tools are skipped. The binary name carries the version, so bumping a
# version in versions.sh rebuilds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/versions.sh"

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=(coredns helm minio local-path-provisioner kube-network-policies cert-manager)
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN=local CGO_ENABLED=0
mkdir -p "$TOOLS_BIN_DIR"

install_tool() { # name package version
  local name="$1" pkg="$2" version="$3" target="$TOOLS_BIN_DIR/$1-$3"
  if [ ! -x "$target" ]; then
    local start tmp
    start=$(date +%s)
    tmp=$(mktemp -d "$PGOP_CACHE_DIR/build/gobin.XXXXXX")
    echo "building $name $version into $TOOLS_BIN_DIR ..." >&2
    GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "$pkg@$version"
    mv "$tmp/$(basename "$pkg")" "$target"
    rm -rf "$tmp"
    echo "built $name in $(($(date +%s) - start)) s" >&2
  fi
  ln -sfn "$name-$version" "$TOOLS_BIN_DIR/$name"
}

# A program of this repository (e2e/tools/<name>, its dependencies pinned by its go.sum), or a
# package of one of those dependencies: the binary's name carries a hash of the module's sources,
# so a change rebuilds it.
build_local_tool() { # name [package, default: the module itself]
  local name="$1" package="${2:-.}" dir="$here/../tools/$1" hash target
  hash=$(cat "$dir"/*.go "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-12)
  target="$TOOLS_BIN_DIR/$name-$hash"
  if [ ! -x "$target" ]; then
    local start
    start=$(date +%s)
    echo "building $name ($hash) into $TOOLS_BIN_DIR ..." >&2
    (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$target.tmp" "$package" && mv "$target.tmp" "$target")
    echo "built $name in $(($(date +%s) - start)) s" >&2
  fi
  ln -sfn "$name-$hash" "$TOOLS_BIN_DIR/$name"
}

mkdir -p "$PGOP_CACHE_DIR/build"
for t in "${wanted[@]}"; do
  case "$t" in
    coredns) install_tool coredns github.com/coredns/coredns "v$COREDNS_VERSION" ;;
    helm) install_tool helm helm.sh/helm/v4/cmd/helm "v$HELM_VERSION" ;;
    minio) install_tool minio github.com/minio/minio "$MINIO_VERSION" ;;
    local-path-provisioner)
      install_tool local-path-provisioner github.com/rancher/local-path-provisioner "v$LOCAL_PATH_PROVISIONER_VERSION" ;;
    kube-network-policies) # its main package is cmd/, so go install names the binary "cmd"
      install_tool kube-network-policies sigs.k8s.io/kube-network-policies/cmd "v$KUBE_NETWORK_POLICIES_VERSION" ;;
    cert-manager) build_local_tool cert-manager ;;
    # Carried by the PostgreSQL images (images/build.sh): the instances' metrics sidecar.
    postgres-exporter)
      build_local_tool postgres-exporter github.com/prometheus-community/postgres_exporter/cmd/postgres_exporter ;;
    # The alert rules' unit tests (promtool) and the monitoring e2e test's Prometheus.
    prometheus) install_tool prometheus github.com/prometheus/prometheus/cmd/prometheus "v$PROMETHEUS_VERSION" ;;
    promtool) install_tool promtool github.com/prometheus/prometheus/cmd/promtool "v$PROMETHEUS_VERSION" ;;
    # Not for the tests: the peers benchmark's (e2e/tools/cloudnative-pg says why it is built so).
    cloudnative-pg) build_local_tool cloudnative-pg github.com/cloudnative-pg/cloudnative-pg/cmd/manager ;;
    *) echo "unknown tool: $t (coredns, helm, minio, local-path-provisioner, kube-network-policies, cert-manager, postgres-exporter, prometheus, promtool, cloudnative-pg)" >&2; exit 2 ;;
  esac
done
