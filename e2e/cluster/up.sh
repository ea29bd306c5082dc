#!/usr/bin/env bash
# npm run cluster:up — a real two-node Kubernetes on this machine, for the end-to-end tests.
# Idempotent: whatever is already running is left alone, so on a running cluster this is a
# no-op. Everything is installed or built by the project's own scripts and cached outside the
# repository; see docs/development.md.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$CLUSTER_SCRIPTS/lib/pki.sh"
source "$CLUSTER_SCRIPTS/lib/control-plane.sh"
source "$CLUSTER_SCRIPTS/lib/node.sh"
source "$CLUSTER_SCRIPTS/lib/images.sh"
source "$CLUSTER_SCRIPTS/lib/addons.sh"

[ "$(id -u)" = 0 ] || die "the local cluster runs containerd, the kubelet and iptables: run it as root"
started=$(date +%s)

bash "$CLUSTER_SCRIPTS/install-packages.sh"
bash "$REPO_ROOT/e2e/scripts/build-kube-binaries.sh" \
  etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
bash "$REPO_ROOT/e2e/scripts/build-go-tools.sh" coredns minio local-path-provisioner helm kube-network-policies cert-manager

NODE_IP=$(node_ip)
[ -n "$NODE_IP" ] || die "no IPv4 default route: the API server needs a non-loopback address to advertise"
mkdir -p "$CLUSTER_DIR"
if [ -f "$CLUSTER_DIR/node-ip" ] && [ "$(cat "$CLUSTER_DIR/node-ip")" != "$NODE_IP" ]; then
  die "this machine's address changed since the cluster was made: run npm run cluster:down first"
fi
echo "$NODE_IP" >"$CLUSTER_DIR/node-ip"

PAUSE_IMAGE="localhost/pgop-test/pause:1"
COREDNS_IMAGE="localhost/pgop-test/coredns:v$COREDNS_VERSION"
MINIO_IMAGE="localhost/pgop-test/minio:${MINIO_VERSION##*-}"
LOCAL_PATH_PROVISIONER_IMAGE="localhost/pgop-test/local-path-provisioner:v$LOCAL_PATH_PROVISIONER_VERSION"
NETWORK_POLICIES_IMAGE="localhost/pgop-test/kube-network-policies:v$KUBE_NETWORK_POLICIES_VERSION"
NETWORK_POLICIES_QUEUE=100
CERT_MANAGER_IMAGE="localhost/pgop-test/cert-manager:v$CERT_MANAGER_VERSION"
HELPER_IMAGE="docker.io/library/debian:trixie"
# shellcheck disable=SC2206
PRODUCT_IMAGES=($(bash "$REPO_ROOT/images/build.sh" --list))

build_image_from_files "$PAUSE_IMAGE" "$REPO_ROOT/e2e/images/pause/Dockerfile" /usr/bin/catatonit
build_static_binary_image "$COREDNS_IMAGE" "$TOOLS_BIN_DIR/coredns"
build_static_binary_image "$MINIO_IMAGE" "$TOOLS_BIN_DIR/minio"
build_static_binary_image "$LOCAL_PATH_PROVISIONER_IMAGE" "$TOOLS_BIN_DIR/local-path-provisioner"
build_static_binary_image "$NETWORK_POLICIES_IMAGE" "$TOOLS_BIN_DIR/kube-network-policies"
build_static_binary_image "$CERT_MANAGER_IMAGE" "$TOOLS_BIN_DIR/cert-manager"
bash "$REPO_ROOT/images/build.sh"

make_pki
prepare_host
for n in "${NODES[@]}"; do select_node "$n" && write_node_config; done
write_kube_proxy_config
start_etcd
start_apiserver
start_controller_manager
start_scheduler

select_node 1
start_containerd
for image in "$PAUSE_IMAGE" "$COREDNS_IMAGE" "$MINIO_IMAGE" "$LOCAL_PATH_PROVISIONER_IMAGE" "$HELPER_IMAGE" \
  "$NETWORK_POLICIES_IMAGE" "$CERT_MANAGER_IMAGE" "${PRODUCT_IMAGES[@]}"; do
  load_image "$image"
done
start_kubelet
start_kube_proxy

# The drill node: only PostgreSQL pods that tolerate its taint run there, and the storage
# provisioner's helper pods that make their volumes.
select_node 2
start_containerd
for image in "$PAUSE_IMAGE" "$HELPER_IMAGE" "${PRODUCT_IMAGES[@]}"; do
  [[ "$image" == */operator:* ]] || load_image "$image"
done
start_kubelet

for n in "${NODES[@]}"; do
  select_node "$n"
  wait_for "node $NODE_NAME Ready" 180 "kubelet$NODE_SUFFIX" \
    kubectl_admin wait "node/$NODE_NAME" --for condition=Ready --timeout 5s
done
select_node 1
install_addons
wait_for_addons

log "cluster ready in $(($(date +%s) - started)) s"
cat >&2 <<DONE

  export KUBECONFIG=$KUBECONFIG_ADMIN
  kubectl get nodes        (kubectl and helm: $KUBE_BIN_DIR, $TOOLS_BIN_DIR)

  S3: https://$S3_HOST:9000, bucket $S3_BUCKET, credentials in Secret $S3_NAMESPACE/s3-credentials,
      CA in $PKI/ca.crt. Logs: $LOGS. Stop and remove everything: npm run cluster:down
DONE
