# Shared settings and helpers of the local cluster scripts (sourced, not run).
# shellcheck shell=bash
# The local cluster's scripts (e2e/cluster); this file is in its lib/.
CLUSTER_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$CLUSTER_SCRIPTS/../.." && pwd)"
source "$REPO_ROOT/e2e/scripts/versions.sh"

# Everything the cluster writes lives here (certificates, etcd, containerd, kubelet, volumes, logs),
# so `cluster:down` can remove it all. Runtime sockets go under /run.
CLUSTER_DIR="${PGOP_CLUSTER_DIR:-/var/lib/pgop-cluster}"
RUN_DIR="/run/pgop-cluster"
PKI="$CLUSTER_DIR/pki"
LOGS="$CLUSTER_DIR/logs"
PIDS="$CLUSTER_DIR/pids"
KUBECONFIG_ADMIN="$CLUSTER_DIR/kubeconfig"
API_PORT=6443
SERVICE_CIDR="10.96.0.0/16"
KUBERNETES_SERVICE_IP="10.96.0.1"
DNS_SERVICE_IP="10.96.0.10"
POD_CIDR="10.244.0.0/16"
CLUSTER_DOMAIN="cluster.local"

# Two nodes, both on this machine, each a kubelet with its own containerd, CNI bridge, pod CIDR,
# cgroup root and ports. Node 1 runs everything. Node 2 exists for the lost-node drill: it is
# tainted (DRILL_NODE_TAINT_KEY=true:NoSchedule) so only pods that tolerate it go there, and
# holds only the images those pods and the volume provisioner's helper need (docs/development.md).
NODES=(1 2)
DRILL_NODE_TAINT_KEY="e2e.pgop.example.com/node-loss-drill"

# Sets the NODE_* variables (and the per-node paths) for node n; node 1's keep their old names.
select_node() { # n
  local n="$1" suffix=""
  [ "$n" = 1 ] || suffix="-$n"
  NODE_NUMBER="$n"
  NODE_NAME="pgop-node-$n"
  NODE_SUFFIX="$suffix"
  NODE_POD_CIDR="10.244.$((n - 1)).0/24" # this node's share of POD_CIDR, given to its CNI bridge
  CNI_BRIDGE="pgop$((n - 1))"
  CNI_NETWORK="pgop$suffix"
  CNI_CONF_DIR="$CLUSTER_DIR/cni/net.d$suffix"
  CONTAINERD_ROOT="$CLUSTER_DIR/containerd$suffix"
  CONTAINERD_SOCK="$RUN_DIR/containerd$suffix/containerd.sock"
  KUBELET_ROOT="$CLUSTER_DIR/kubelet$suffix"
  KUBELET_PORT=$((10250 + 10 * (n - 1)))
  KUBELET_HEALTHZ_PORT=$((10248 + 10 * (n - 1)))
  # Node 1's pods live in the host's /kubepods cgroups, node 2's under /pgop-node-2/kubepods.
  if [ "$n" = 1 ]; then CGROUP_ROOT="/"; else CGROUP_ROOT="/$NODE_NAME"; fi
}
select_node 1

export PATH="$KUBE_BIN_DIR:$TOOLS_BIN_DIR:$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

log() { echo "[cluster $(date +%H:%M:%S)] $*" >&2; }
die() { echo "[cluster] error: $*" >&2; exit 1; }

# The address of the interface that carries the default route: the node's IP. The API server
# must advertise a non-loopback address, because pods reach it through the `kubernetes` Service.
node_ip() {
  ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1
}

kubectl_admin() { kubectl --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
# ctr on the selected node's containerd, in the CRI's namespace.
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" -n k8s.io "$@"; }

# Pod containers outlive the kubelet: SIGKILL every task of the selected node's containerd.
kill_pod_containers() {
  local task
  pid_of "containerd$NODE_SUFFIX" >/dev/null || return 0
  for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true; done
}

# The runc shims of the selected node's containerd, which outlive containerd itself.
kill_shims() { pkill -KILL -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK( |$)" 2>/dev/null || true; }

# Writes stdin to a file only if the content differs: kube-proxy exits when its config file
# is rewritten, even with the same content.
write_if_changed() { # file
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

pid_of() { # name -> pid if the daemon is alive
  local f="$PIDS/$1.pid" pid
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Starts a daemon in its own session, logging to $LOGS/<name>.log, unless it is already running.
start_daemon() { # name command...
  local name="$1"
  shift
  if pid_of "$name" >/dev/null; then return 0; fi
  mkdir -p "$LOGS" "$PIDS"
  log "starting $name"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

stop_daemon() { # name
  local name="$1" pid
  pid=$(pid_of "$name") || { rm -f "$PIDS/$name.pid"; return 0; }
  log "stopping $name"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$PIDS/$name.pid"
}

# Polls a command until it succeeds; on timeout prints the tail of the named daemon's log.
wait_for() { # description timeout-seconds log-name command...
  local what="$1" timeout="$2" logname="$3" deadline output
  shift 3
  deadline=$(($(date +%s) + timeout))
  # In a subshell: a command that exits (die) fails this attempt instead of silently ending the
  # script; its last output is shown if the wait times out.
  until output=$("$@" 2>&1); do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "[cluster] timed out after ${timeout}s waiting for $what" >&2
      [ -z "$output" ] || tail -5 <<<"$output" >&2
      [ -z "$logname" ] || [ ! -f "$LOGS/$logname.log" ] || tail -30 "$LOGS/$logname.log" >&2
      return 1
    fi
    if [ -n "$logname" ] && [ -f "$PIDS/$logname.pid" ] && ! pid_of "$logname" >/dev/null; then
      echo "[cluster] $logname exited while waiting for $what" >&2
      tail -30 "$LOGS/$logname.log" >&2
      return 1
    fi
    sleep 0.5
  done
}
