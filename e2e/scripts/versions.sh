# Pinned versions of everything the tests build from the Go module proxy.
# One Kubernetes version for the integration harness and (later) the local cluster.
KUBE_VERSION="1.36.3"
ETCD_VERSION="3.6.16"
# Where built binaries are cached: outside the repository, so a fresh clone reuses them.
PGOP_CACHE_DIR="${PGOP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pgop}"
KUBE_BIN_DIR="$PGOP_CACHE_DIR/kube-v$KUBE_VERSION/bin"
