# The node: containerd + runc, CNI, kubelet and kube-proxy as host processes (sourced by up.sh).
# See ../../docs/development.md and the notes on these machines: no CAP_SYS_RESOURCE (so
# containerd must not lower oom_score_adj), cgroup v1 without systemd (cgroupfs driver).
# shellcheck shell=bash

prepare_host() {
  # Pods reach Services and the outside through the bridge: forwarding and bridged traffic
  # through iptables (for kube-proxy's DNAT) must be on.
  sysctl -qw net.ipv4.ip_forward=1
  modprobe br_netfilter 2>/dev/null || true
  sysctl -qw net.bridge.bridge-nf-call-iptables=1
  # The kubelet's volume mounts must propagate into containers.
  mount --make-rshared /
}

write_node_config() {
  mkdir -p "$CLUSTER_DIR/config" "$CLUSTER_DIR/cni/net.d" "$RUN_DIR/containerd"
  write_if_changed "$CLUSTER_DIR/config/containerd.toml" <<TOML
version = 2
root = "$CLUSTER_DIR/containerd"
state = "$RUN_DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$CONTAINERD_SOCK"
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
    conf_dir = "$CLUSTER_DIR/cni/net.d"
TOML
  # One bridge for the node's pods; hairpin mode lets a pod reach itself through its Service.
  write_if_changed "$CLUSTER_DIR/cni/net.d/10-pgop.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "pgop",
  "plugins": [
    {
      "type": "bridge", "bridge": "$CNI_BRIDGE", "isGateway": true, "ipMasq": true,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$NODE_POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
  write_if_changed "$CLUSTER_DIR/config/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# These machines: cgroup v1 (hybrid layout), no systemd, swap allowed.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: /etc/resolv.conf
# Images are imported, not pulled: never garbage-collect them, never evict for disk.
imageGCHighThresholdPercent: 100
evictionHard: {nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
serializeImagePulls: false
maxPods: 110
YAML
  write_if_changed "$CLUSTER_DIR/config/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $CLUSTER_DIR/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
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
  start_daemon containerd containerd --config "$CLUSTER_DIR/config/containerd.toml"
  wait_for "containerd" 60 containerd ctr_k8s version
}

start_kubelet() {
  start_daemon kubelet kubelet --config "$CLUSTER_DIR/config/kubelet.yaml" \
    --kubeconfig "$CLUSTER_DIR/kubelet.kubeconfig" \
    --root-dir "$CLUSTER_DIR/kubelet" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
}

start_kube_proxy() {
  start_daemon kube-proxy kube-proxy --config "$CLUSTER_DIR/config/kube-proxy.yaml"
}
