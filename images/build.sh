#!/usr/bin/env bash
# Builds the product images from images/ with podman (skipping what is up to date); npm run images.
#   images/build.sh          build them
#   images/build.sh --list   print their references, one per line
# The podman helpers and the locally made base images are the local cluster's (e2e/cluster), which
# loads these images into its nodes.
# PostgreSQL: one image per major version, from the Debian suite that carries it.
set -euo pipefail
source "$(dirname "$0")/../e2e/cluster/lib/common.sh"
source "$CLUSTER_SCRIPTS/lib/images.sh"

# major:suite; bookworm's PostgreSQL 15 gets trixie's Patroni 4 (bookworm has only Patroni 3).
POSTGRES_BUILDS=("15:bookworm" "17:trixie" "18:sid")
postgres_ref() { echo "localhost/pgop/postgres:$1"; }
OPERATOR_IMAGE="localhost/pgop/operator:dev"
NODE_MAJOR=24
NODE_IMAGE="docker.io/library/node:$NODE_MAJOR-trixie-slim"

if [ "${1:-}" = --list ]; then
  for b in "${POSTGRES_BUILDS[@]}"; do postgres_ref "${b%%:*}"; done
  echo "$OPERATOR_IMAGE"
  exit 0
fi

# The Node.js base image, made locally under its public name (see e2e/images/node/Dockerfile).
build_node_base() {
  local node="$REPO_ROOT/node_modules/node/bin/node" npm_dir="$PGOP_CACHE_DIR/npm/$NPM_VERSION"
  [ -x "$node" ] || die "$node is missing: run npm ci first"
  [ "$("$node" -p 'process.versions.node.split(".")[0]')" = "$NODE_MAJOR" ] || die "node_modules/node is not Node $NODE_MAJOR"
  if [ ! -f "$npm_dir/npm.tgz" ]; then
    mkdir -p "$npm_dir"
    npm pack --silent --pack-destination "$npm_dir" "npm@$NPM_VERSION" >/dev/null
    mv "$npm_dir/npm-$NPM_VERSION.tgz" "$npm_dir/npm.tgz"
  fi
  build_image_from_files "$NODE_IMAGE" "$REPO_ROOT/e2e/images/node/Dockerfile" "$node" "$npm_dir/npm.tgz"
}

for b in "${POSTGRES_BUILDS[@]}"; do
  major="${b%%:*}" suite="${b##*:}"
  bash "$REPO_ROOT/e2e/cluster/debian-base.sh" "$suite"
  apt_options=""
  # The archive these machines reach serves sid as a snapshot whose Release file has expired.
  [ "$suite" = sid ] && apt_options="-o Acquire::Check-Valid-Until=false"
  patroni_suite=""
  [ "$suite" = bookworm ] && patroni_suite=trixie
  build_image "$(postgres_ref "$major")" "$REPO_ROOT/images/postgres" "$REPO_ROOT/images/postgres/Dockerfile" \
    --build-arg "DEBIAN_SUITE=$suite" --build-arg "PG_MAJOR=$major" --build-arg "APT_OPTIONS=$apt_options" \
    --build-arg "PATRONI_SUITE=$patroni_suite"
done

bash "$REPO_ROOT/e2e/cluster/debian-base.sh" trixie
build_node_base
REPO_CONTEXT_INPUTS=(package.json package-lock.json tsconfig.base.json packages e2e/package.json)
# npm's cache from the host; with --prefer-offline the image's `npm ci` downloads nothing it already has.
# For what the cache lacks, npm reaches the registry through the CA bundle the host's npm trusts
# (npm's cafile, or Node's NODE_EXTRA_CA_CERTS).
npm_ca_options=()
npm_cafile=$(npm config get cafile 2>/dev/null || true)
[ -f "$npm_cafile" ] || npm_cafile="${NODE_EXTRA_CA_CERTS:-}"
if [ -n "$npm_cafile" ] && [ -f "$npm_cafile" ]; then
  npm_ca_options=(--volume "$npm_cafile:/etc/pgop-build/npm-ca.crt:ro" --build-arg NPM_CAFILE=/etc/pgop-build/npm-ca.crt)
fi
build_image "$OPERATOR_IMAGE" "$REPO_ROOT" "$REPO_ROOT/images/operator/Dockerfile" \
  --build-arg "NODE_IMAGE=$NODE_IMAGE" --volume "$(npm config get cache 2>/dev/null):/root/.npm" \
  "${npm_ca_options[@]}"
