# Images of the local cluster: built with podman from our Dockerfiles, then imported into the
# node's containerd (no registry is involved). Sourced by up.sh; see also images/build.sh.
# shellcheck shell=bash

# No CAP_SYS_RESOURCE here: RUN steps get limits at or below this shell's hard limits (npm ci
# opens many cache files at once, so nofile is as high as allowed).
PODMAN_BUILD=(podman build --quiet --network host
  --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=1000:1000)
IMAGE_HASH_LABEL="dev.pgop.context-hash"

# The files of a build context, NUL-separated. For the repository root, only the paths the
# Dockerfile copies (REPO_CONTEXT_INPUTS) that git does not ignore: a change to the docs must
# not rebuild the operator image.
context_files() { # dir
  if [ "$(cd "$1" && pwd)" = "$REPO_ROOT" ]; then
    git -C "$1" ls-files -z --cached --others --exclude-standard -- "${REPO_CONTEXT_INPUTS[@]}" | sort -z
  else
    (cd "$1" && find . -type f -print0 | sort -z)
  fi
}

# Builds an image unless podman already has one built from the same context, Dockerfile and args.
build_image() { # ref context dockerfile [build args...]
  local ref="$1" context="$2" dockerfile="$3"
  shift 3
  local hash current
  hash=$( {
    context_files "$context" | (cd "$context" && xargs -0 -r sha256sum)
    sha256sum <"$dockerfile"
    echo "$@"
  } | sha256sum | cut -c1-16)
  current=$(podman image inspect --format "{{index .Labels \"$IMAGE_HASH_LABEL\"}}" "$ref" 2>/dev/null || true)
  [ "$current" = "$hash" ] && return 0
  log "building image $ref"
  local output
  output=$(mktemp "${TMPDIR:-/tmp}/pgop-build.XXXXXX")
  if ! "${PODMAN_BUILD[@]}" --label "$IMAGE_HASH_LABEL=$hash" -f "$dockerfile" -t "$ref" "$@" "$context" >"$output" 2>&1; then
    tail -40 "$output" >&2
    rm -f "$output"
    die "building $ref failed"
  fi
  rm -f "$output"
}

# Imports an image from podman into the node's containerd unless that exact image is there.
load_image() { # ref
  local ref="$1" id marker
  id=$(podman image inspect --format '{{.Id}}' "$ref")
  marker="$CLUSTER_DIR/images$NODE_SUFFIX/$(echo "$ref" | tr '/:' '__')"
  [ -f "$marker" ] && [ "$(cat "$marker")" = "$id" ] && return 0
  log "loading image $ref into the containerd of $NODE_NAME"
  mkdir -p "$(dirname "$marker")"
  podman save --format docker-archive "$ref" | ctr_k8s images import - >/dev/null
  echo "$id" >"$marker"
}

# Builds an image whose context is just the given files (copied under their base names).
build_image_from_files() { # ref dockerfile file... [-- build args...]
  local ref="$1" dockerfile="$2" context
  shift 2
  context=$(mktemp -d "${TMPDIR:-/tmp}/pgop-image.XXXXXX")
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    cp "$(readlink -f "$1")" "$context/$(basename "$1")"
    shift
  done
  [ $# -eq 0 ] || shift
  build_image "$ref" "$context" "$dockerfile" "$@"
  rm -rf "$context"
}

# An image of one static binary (e2e/images/static-binary).
build_static_binary_image() { # ref binary-path
  build_image_from_files "$1" "$REPO_ROOT/e2e/images/static-binary/Dockerfile" "$2" -- \
    --build-arg "BINARY=$(basename "$2")"
}
