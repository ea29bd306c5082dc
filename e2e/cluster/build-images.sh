#!/usr/bin/env bash
# Builds the product images from images/ with podman (skipping what is up to date).
#   build-images.sh          build them
#   build-images.sh --list   print their references, one per line
# PostgreSQL: one image per major version, from the Debian suite that carries it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$CLUSTER_SCRIPTS/images.sh"

# major:suite
POSTGRES_BUILDS=("17:trixie")
postgres_ref() { echo "localhost/pgop/postgres:$1"; }

if [ "${1:-}" = --list ]; then
  for b in "${POSTGRES_BUILDS[@]}"; do postgres_ref "${b%%:*}"; done
  exit 0
fi

for b in "${POSTGRES_BUILDS[@]}"; do
  major="${b%%:*}" suite="${b##*:}"
  bash "$REPO_ROOT/e2e/scripts/images/debian-base.sh" "$suite"
  build_image "$(postgres_ref "$major")" "$REPO_ROOT/images/postgres" "$REPO_ROOT/images/postgres/Dockerfile" \
    --build-arg "DEBIAN_SUITE=$suite" --build-arg "PG_MAJOR=$major"
done
