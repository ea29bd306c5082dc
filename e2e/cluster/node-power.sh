#!/usr/bin/env bash
# Kills or restarts a node of the local cluster (for the lost-node drill).
# Usage: node-power.sh kill|kill-kubelet|start <node number>
#   kill:  SIGKILL the node's kubelet, every container on it, its containerd and shims.
#   kill-kubelet: SIGKILL only its kubelet: the node goes NotReady, its containers run on.
#   start: start its containerd and kubelet again and wait until the node is Ready and schedulable.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$CLUSTER_SCRIPTS/lib/node.sh"
[ "$(id -u)" = 0 ] || die "run it as root"
[ "${2:-}" = 1 ] && [[ "${1:-}" = kill* ]] && die "node 1 runs the operator and the add-ons: only node 2 may be killed"
[[ " ${NODES[*]} " == *" ${2:-none} "* ]] || die "usage: $0 kill|start <node number: ${NODES[*]}>"
select_node "$2"
no_condition_taints() {
  local keys
  keys=$(kubectl_admin get node "$NODE_NAME" -o jsonpath='{.spec.taints[*].key}') || return 1
  [[ "$keys" != *node.kubernetes.io/* ]]
}
NODE_IP=$(cat "$CLUSTER_DIR/node-ip")
case "$1" in
  kill) kill_node ;;
  kill-kubelet) pid=$(pid_of "kubelet$NODE_SUFFIX") && kill -KILL "$pid" && rm -f "$PIDS/kubelet$NODE_SUFFIX.pid" ;;
  start)
    start_containerd
    start_kubelet
    wait_for "node $NODE_NAME Ready" 180 "kubelet$NODE_SUFFIX" \
      kubectl_admin wait "node/$NODE_NAME" --for condition=Ready --timeout 5s
    # The node controller lifts its not-ready/unreachable taints a moment after Ready: until then
    # nothing new is scheduled there.
    wait_for "node $NODE_NAME without the node controller's taints" 120 "kubelet$NODE_SUFFIX" \
      no_condition_taints
    ;;
  *) die "usage: $0 kill|kill-kubelet|start <node number>" ;;
esac
