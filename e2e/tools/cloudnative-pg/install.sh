#!/usr/bin/env bash
# CloudNativePG on the local Kubernetes, for the peers benchmark (npm run bench:peers) only:
#   install.sh install   build its operator (pinned by go.mod here) and image, load the image into
#                        both nodes, apply upstream's release manifest from the same module
#   install.sh remove    delete everything the manifest made (its CRDs, and with them its clusters)
#   install.sh manifest  print that manifest (bench:scale takes its CRDs for the integration API server)
# The PostgreSQL image of its clusters is pgop's own PostgreSQL 17 image (same Debian packages).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../cluster/lib/common.sh"
source "$CLUSTER_SCRIPTS/lib/images.sh"

VERSION=$(awk '$1 == "require" && $2 == "github.com/cloudnative-pg/cloudnative-pg" { print $3 }' "$here/go.mod")
IMAGE="localhost/pgop-peers/cloudnative-pg:${VERSION#v}"
MANIFEST="$(cd "$here" && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' github.com/cloudnative-pg/cloudnative-pg)/releases/cnpg-${VERSION#v}.yaml"

# Upstream's manifest with the image built here (never pulled: there is no registry).
manifest() {
  sed -e "s#ghcr.io/cloudnative-pg/cloudnative-pg:${VERSION#v}#$IMAGE#g" \
    -e 's#imagePullPolicy: Always#imagePullPolicy: Never#' "$MANIFEST"
}

case "${1:-}" in
  install)
    bash "$REPO_ROOT/e2e/scripts/build-go-tools.sh" cloudnative-pg
    build_image_from_files "$IMAGE" "$here/Dockerfile" "$TOOLS_BIN_DIR/cloudnative-pg"
    for n in "${NODES[@]}"; do select_node "$n" && load_image "$IMAGE"; done
    manifest | kubectl_admin apply --server-side --force-conflicts -f - >/dev/null
    kubectl_admin -n cnpg-system rollout status deployment/cnpg-controller-manager --timeout 300s >&2
    log "CloudNativePG $VERSION installed (namespace cnpg-system)"
    ;;
  remove)
    manifest | kubectl_admin delete --ignore-not-found --wait=true -f - >/dev/null
    log "CloudNativePG removed"
    ;;
  manifest)
    manifest
    ;;
  *)
    echo "usage: $0 install|remove|manifest" >&2
    exit 2
    ;;
esac
