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
# NetworkPolicy enforcement: the bridge CNI enforces nothing (docs/development.md, "NetworkPolicy").
KUBE_NETWORK_POLICIES_VERSION="0.8.0"
# cert-manager: its controllers (e2e/tools/cert-manager pins the module in go.mod) and CRDs.
CERT_MANAGER_VERSION="1.18.2"
# Prometheus and promtool: the alert rules' tests and the monitoring e2e test (docs/monitoring.md).
PROMETHEUS_VERSION="0.316.0"
# The prometheus-operator's CRDs (PodMonitor, PrometheusRule) the chart's monitoring objects are
# checked against (e2e/scripts/prometheus-operator-crds.sh).
PROMETHEUS_OPERATOR_VERSION="0.85.0"
TOOLS_BIN_DIR="$PGOP_CACHE_DIR/tools/bin"
# The Debian archive for the base images (debootstrap): the one this machine's own apt uses, so
# the scripts follow whatever mirror a machine is set up with; DEBIAN_MIRROR overrides it. The
# images then install from the mirror their base was made from (images/postgres/Dockerfile).
debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then
    echo "$DEBIAN_MIRROR"
    return
  fi
  local codename uri
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  # deb822 sources: the first enabled stanza of type deb for this release's suite, component main.
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v codename="$codename" '
    BEGIN { RS = ""; FS = "\n" }
    {
      types = uris = suites = components = ""; enabled = "yes"
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^[ \t]*#/ || index($i, ":") == 0) continue
        key = tolower(substr($i, 1, index($i, ":") - 1)); value = substr($i, index($i, ":") + 1)
        gsub(/^[ \t]+|[ \t]+$/, "", value)
        if (key == "types") types = value; else if (key == "uris") uris = value
        else if (key == "suites") suites = value; else if (key == "components") components = value
        else if (key == "enabled") enabled = tolower(value)
      }
      if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " codename " ") &&
          (" " components " ") ~ / main /) { split(uris, u, " "); print u[1]; exit }
    }')
  # One-line sources: deb [options] uri suite components...
  [ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v codename="$codename" '
    $1 == "deb" {
      i = 2
      if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) != codename) next
      for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit }
    }')
  [ -n "$uri" ] || { echo "no Debian archive for ${codename:-this release} in /etc/apt/sources.list*: set DEBIAN_MIRROR" >&2; return 1; }
  echo "$uri"
}
# npm in the locally made Node.js base image (e2e/images/node).
NPM_VERSION="11.21.2"
