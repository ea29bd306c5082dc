#!/usr/bin/env bash
# npm run cluster:down — stops everything cluster:up started and removes its state (etcd data,
# volumes, containerd's store, certificates, iptables rules, the CNI bridge). Idempotent.
# Built binaries and images stay cached (~/.cache/pgop, podman's store), so the next up is warm.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
[ "$(id -u)" = 0 ] || die "run it as root (it stops containerd and removes iptables rules)"

stop_daemon kube-proxy
for n in "${NODES[@]}"; do
  select_node "$n"
  stop_daemon "kubelet$NODE_SUFFIX"
  # Kill the pod containers through containerd before stopping it.
  if pid_of "containerd$NODE_SUFFIX" >/dev/null; then
    kill_pod_containers
    sleep 1
    for task in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks delete -f "$task" >/dev/null 2>&1 || true; done
  fi
  stop_daemon "containerd$NODE_SUFFIX"
  kill_shims
done
stop_daemon kube-scheduler
stop_daemon kube-controller-manager
stop_daemon kube-apiserver
stop_daemon etcd

# Mounts made by the kubelet and containerd (volumes, rootfs, sandbox shm), innermost first.
for dir in "$CLUSTER_DIR" "$RUN_DIR"; do
  { findmnt -rn -o TARGET | grep -F "$dir/" || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
done

# Network: kube-proxy's and the kubelet's chains (KUBE-*), the CNI plugins' per-pod chains
# (CNI-*), the diversion to the NetworkPolicy enforcer (PGOP-*), the bridge, IPAM leases.
if [ -x "$KUBE_BIN_DIR/kube-proxy" ]; then kube-proxy --cleanup >/dev/null 2>&1 || true; fi
for ipt in iptables ip6tables; do
  for table in nat filter mangle; do
    { $ipt -t "$table" -S 2>/dev/null | grep -E '^-A .* -j (CNI|KUBE|PGOP)-' || true; } | sed 's/^-A/-D/' |
      while read -r rule; do eval "$ipt -t $table $rule" 2>/dev/null || true; done
    # Flush every chain before deleting any: they may jump to each other.
    mapfile -t chains < <($ipt -t "$table" -S 2>/dev/null | sed -n 's/^-N \(\(CNI\|KUBE\|PGOP\)-[^ ]*\)$/\1/p')
    for chain in "${chains[@]}"; do $ipt -t "$table" -F "$chain" 2>/dev/null || true; done
    for chain in "${chains[@]}"; do $ipt -t "$table" -X "$chain" 2>/dev/null || true; done
  done
done
for n in "${NODES[@]}"; do
  select_node "$n"
  ip link delete "$CNI_BRIDGE" 2>/dev/null || true
  rm -rf "/var/lib/cni/networks/$CNI_NETWORK" "/var/lib/cni/results/$CNI_NETWORK"-*
done

# Empty cgroups the kubelets made for pods (node 1's under /kubepods, node 2's under its root).
for hierarchy in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/pgop-node-*; do
  [ -d "$hierarchy" ] && find "$hierarchy" -depth -type d -exec rmdir {} + 2>/dev/null || true
done

rm -rf "$CLUSTER_DIR" "$RUN_DIR"

# Nothing may be left behind: say what is, and fail.
leftovers=()
pgrep -f -- "$CLUSTER_DIR|$RUN_DIR" >/dev/null && leftovers+=("processes: $(pgrep -f -d ' ' -- "$CLUSTER_DIR|$RUN_DIR")")
findmnt -rn -o TARGET | grep -qF -e "$CLUSTER_DIR/" -e "$RUN_DIR/" && leftovers+=("mounts")
for n in "${NODES[@]}"; do
  select_node "$n"
  ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && leftovers+=("bridge $CNI_BRIDGE")
done
iptables-save 2>/dev/null | grep -qE '^:(CNI|KUBE|PGOP)-' && leftovers+=("iptables chains")
[ -e "$CLUSTER_DIR" ] && leftovers+=("$CLUSTER_DIR")
[ ${#leftovers[@]} -eq 0 ] || die "cluster:down left behind: ${leftovers[*]}"
log "cluster removed"
