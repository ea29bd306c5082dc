# The nodes: containerd + runc, CNI and a kubelet per node, and kube-proxy, as host processes
# (sourced by up.sh and node-power.sh). Functions act on the node select_node chose (lib/common.sh).
# See ../../docs/development.md and the notes on these machines: no CAP_SYS_RESOURCE (so
# containerd must not lower oom_score_adj), cgroup v1 without systemd (cgroupfs driver).
# shellcheck shell=bash

prepare_host() {
  # Pods reach Services and the outside through the bridges: forwarding and bridged traffic
  # through iptables (for kube-proxy's DNAT) must be on.
  sysctl -qw net.ipv4.ip_forward=1
  modprobe br_netfilter 2>/dev/null || true
  sysctl -qw net.bridge.bridge-nf-call-iptables=1
  # The kubelet's volume mounts must propagate into containers.
  mount --make-rshared /
  # Pods reach the outside masqueraded, and each other (across the nodes' bridges) unmasqueraded,
  # as on a real cluster. One rule for both nodes (the bridge plugin's ipMasq would masquerade
  # traffic between the bridges too). cluster:down removes CNI-* chains.
  iptables -t nat -N CNI-PGOP-MASQUERADE 2>/dev/null || iptables -t nat -F CNI-PGOP-MASQUERADE
  iptables -t nat -A CNI-PGOP-MASQUERADE -d "$POD_CIDR" -j RETURN
  iptables -t nat -A CNI-PGOP-MASQUERADE -d 224.0.0.0/4 -j RETURN
  iptables -t nat -A CNI-PGOP-MASQUERADE -j MASQUERADE
  iptables -t nat -C POSTROUTING -s "$POD_CIDR" -j CNI-PGOP-MASQUERADE 2>/dev/null ||
    iptables -t nat -A POSTROUTING -s "$POD_CIDR" -j CNI-PGOP-MASQUERADE
}

# The kubelet of a node other than 1 puts its pods under its own cgroup root, which must exist in
# every hierarchy (cgroup v1; cpuset needs its CPUs and memory nodes before it takes tasks).
make_cgroup_root() {
  [ "$CGROUP_ROOT" != / ] || return 0
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -e "$hierarchy/cgroup.procs" ] || continue
    mkdir -p "$hierarchy$CGROUP_ROOT"
  done
  local cpuset=/sys/fs/cgroup/cpuset
  if [ -d "$cpuset$CGROUP_ROOT" ]; then
    cat "$cpuset/cpuset.cpus" >"$cpuset$CGROUP_ROOT/cpuset.cpus"
    cat "$cpuset/cpuset.mems" >"$cpuset$CGROUP_ROOT/cpuset.mems"
  fi
}

write_node_config() {
  mkdir -p "$CLUSTER_DIR/config" "$CNI_CONF_DIR" "$(dirname "$CONTAINERD_SOCK")"
  write_if_changed "$CLUSTER_DIR/config/containerd$NODE_SUFFIX.toml" <<TOML
version = 2
root = "$CONTAINERD_ROOT"
state = "$(dirname "$CONTAINERD_SOCK")/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj (the CRI asks -998 for sandboxes).
  restrict_oom_score_adj = true
  tolerate_missing_hugepages_controller = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CNI_CONF_DIR"
TOML
  # One bridge per node; hairpin mode lets a pod reach itself through its Service.
  write_if_changed "$CNI_CONF_DIR/10-pgop.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": false,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$NODE_POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  # Node 2: its taint, and its own pod log directory (a kubelet removes the log directories of
  # pods it does not run, so two kubelets must not share /var/log/pods).
  local taints="[]" pod_logs=/var/log/pods
  if [ "$NODE_NUMBER" != 1 ]; then
    taints="[{key: $DRILL_NODE_TAINT_KEY, value: \"true\", effect: NoSchedule}]"
    pod_logs="$CLUSTER_DIR/pod-logs$NODE_SUFFIX"
  fi
  write_if_changed "$CLUSTER_DIR/config/kubelet$NODE_SUFFIX.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $PKI/kubelet-serving$NODE_SUFFIX.crt
tlsPrivateKeyFile: $PKI/kubelet-serving$NODE_SUFFIX.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# These machines: cgroup v1 (hybrid layout), no systemd, swap allowed.
cgroupDriver: cgroupfs
cgroupRoot: $CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
registerWithTaints: $taints
podLogsDir: $pod_logs
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: /etc/resolv.conf
# Images are imported, not pulled: never garbage-collect them, never evict for disk.
imageGCHighThresholdPercent: 100
evictionHard: {nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
serializeImagePulls: false
maxPods: 110
YAML
}

write_kube_proxy_config() {
  # One kube-proxy serves both nodes: they share this machine's network namespace and iptables.
  write_if_changed "$CLUSTER_DIR/config/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $CLUSTER_DIR/kube-proxy.kubeconfig}
hostnameOverride: pgop-node-1
mode: iptables
clusterCIDR: $POD_CIDR
nodePortAddresses: [primary]
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
iptables: {minSyncPeriod: 1s}
# Zeros: do not write the host's global conntrack sysctls.
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
}

start_containerd() {
  start_daemon "containerd$NODE_SUFFIX" containerd --config "$CLUSTER_DIR/config/containerd$NODE_SUFFIX.toml"
  wait_for "containerd of $NODE_NAME" 60 "containerd$NODE_SUFFIX" ctr_k8s version
}

start_kubelet() {
  make_cgroup_root
  start_daemon "kubelet$NODE_SUFFIX" kubelet --config "$CLUSTER_DIR/config/kubelet$NODE_SUFFIX.yaml" \
    --kubeconfig "$CLUSTER_DIR/kubelet$NODE_SUFFIX.kubeconfig" \
    --root-dir "$KUBELET_ROOT" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
}

# A node's loss, as far as one machine can play it: the kubelet and every container die at once
# (SIGKILL, no graceful shutdown), then containerd and its shims.
kill_node() {
  local pid
  pid=$(pid_of "kubelet$NODE_SUFFIX") && kill -KILL "$pid" && rm -f "$PIDS/kubelet$NODE_SUFFIX.pid"
  kill_pod_containers
  pid=$(pid_of "containerd$NODE_SUFFIX") && kill -KILL "$pid" && rm -f "$PIDS/containerd$NODE_SUFFIX.pid"
  kill_shims
}

start_kube_proxy() {
  start_daemon kube-proxy kube-proxy --config "$CLUSTER_DIR/config/kube-proxy.yaml"
}
