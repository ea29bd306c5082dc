# Pinned versions of everything the tests build from the Go module proxy.
# One Kubernetes version for the integration harness and (later) the local cluster.
KUBE_VERSION="1.36.3"
ETCD_VERSION="3.6.16"
# Where built binaries are cached: outside the repository, so a fresh clone reuses them.
PGOP_CACHE_DIR="${PGOP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pgop}"
KUBE_BIN_DIR="$PGOP_CACHE_DIR/kube-v$KUBE_VERSION/bin"
# The local cluster (npm run cluster:up): DNS, S3 server and Helm, also from the Go module proxy.
COREDNS_VERSION="1.15.0"
HELM_VERSION="4.3.1"
# MinIO publishes RELEASE.* tags, which are not semantic versions; the proxy knows its commits.
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
# Dynamic PersistentVolumes: the provisioner kind uses, on a directory all nodes share.
LOCAL_PATH_PROVISIONER_VERSION="0.0.30"
TOOLS_BIN_DIR="$PGOP_CACHE_DIR/tools/bin"
# Debian archive used for base images (debootstrap) and package installs.
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# npm in the locally made Node.js base image (e2e/images/node).
NPM_VERSION="11.21.2"
