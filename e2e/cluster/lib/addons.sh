# What runs inside the local cluster: DNS, dynamic volumes and the S3 server (sourced by up.sh).
# shellcheck shell=bash

S3_NAMESPACE="pgop-s3"
S3_BUCKET="pgop-test"
S3_HOST="minio.$S3_NAMESPACE.svc.$CLUSTER_DOMAIN"

# Server-side apply of the manifests on stdin, under one field manager.
apply_stdin() { kubectl_admin apply --server-side --field-manager pgop-cluster-up -f - >/dev/null; }

apply_manifest() { # file (placeholders ${NAME} are replaced from the environment)
  envsubst '${CLUSTER_DOMAIN} ${DNS_SERVICE_IP} ${COREDNS_IMAGE} ${LOCAL_PATH_PROVISIONER_IMAGE} ${HELPER_IMAGE} ${VOLUMES_DIR} ${MINIO_IMAGE} ${NETWORK_POLICIES_IMAGE} ${NETWORK_POLICIES_QUEUE} ${CERT_MANAGER_IMAGE}' \
    <"$1" | apply_stdin
}

install_addons() {
  export CLUSTER_DOMAIN DNS_SERVICE_IP COREDNS_IMAGE LOCAL_PATH_PROVISIONER_IMAGE HELPER_IMAGE MINIO_IMAGE \
    NETWORK_POLICIES_IMAGE NETWORK_POLICIES_QUEUE CERT_MANAGER_IMAGE
  export VOLUMES_DIR="$CLUSTER_DIR/volumes"
  mkdir -p "$VOLUMES_DIR"
  apply_manifest "$CLUSTER_SCRIPTS/manifests/network-policies.yaml"
  apply_manifest "$CLUSTER_SCRIPTS/manifests/coredns.yaml"
  apply_manifest "$CLUSTER_SCRIPTS/manifests/local-path-storage.yaml"
  apply_manifest "$CLUSTER_SCRIPTS/manifests/s3.yaml"
  s3_secrets
  cert_manager_crds | apply_stdin
  apply_manifest "$CLUSTER_SCRIPTS/manifests/cert-manager.yaml"
}

# cert-manager's CRDs, from the module its controller is built from. They are written as Helm
# templates (deploy/crds); only their labels are template expressions.
cert_manager_crds() {
  local dir
  dir="$(go env GOMODCACHE)/github.com/cert-manager/cert-manager@v$CERT_MANAGER_VERSION/deploy/crds"
  [ -d "$dir" ] || (cd "$REPO_ROOT/e2e/tools/cert-manager" && go mod download github.com/cert-manager/cert-manager)
  local crd
  for crd in "$dir"/crd-*.yaml; do
    sed -e "s/'{{ template \"cert-manager.name\" . }}'/cert-manager/" -e "s/'{{ .Release.Name }}'/cert-manager/" "$crd"
    echo ---
  done
}

# Credentials are random, made once, and kept in a root-only file and in Secrets.
s3_secrets() {
  local creds="$CLUSTER_DIR/s3/credentials.env"
  mkdir -p "$CLUSTER_DIR/s3"
  chmod 700 "$CLUSTER_DIR/s3"
  if [ ! -f "$creds" ]; then
    (umask 077 && printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' \
      "pgop$(openssl rand -hex 8)" "$(openssl rand -base64 30 | tr -d '/+=')" >"$creds")
  fi
  issue_cert s3 "/CN=$S3_HOST" "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$S3_HOST,DNS:minio.$S3_NAMESPACE.svc,DNS:minio.$S3_NAMESPACE,DNS:localhost"
  kubectl_admin -n "$S3_NAMESPACE" create secret generic s3-credentials --from-env-file "$creds" \
    --dry-run=client -o yaml | apply_stdin
  kubectl_admin -n "$S3_NAMESPACE" create secret tls s3-tls --cert "$PKI/s3.crt" --key "$PKI/s3.key" \
    --dry-run=client -o yaml | apply_stdin
}

# The bucket the tests use, made through the S3 API itself (SigV4-signed by curl). Fails (for
# wait_for to retry) until MinIO answers 200, or 409 BucketAlreadyOwnedByYou: right after its
# rollout MinIO may still refuse connections or answer 503.
create_bucket() {
  local ip code
  ip=$(kubectl_admin -n "$S3_NAMESPACE" get service minio -o jsonpath='{.spec.clusterIP}')
  # shellcheck disable=SC1091
  source "$CLUSTER_DIR/s3/credentials.env"
  code=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" --resolve "$S3_HOST:9000:$ip" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -X PUT "https://$S3_HOST:9000/$S3_BUCKET")
  [ "$code" = 200 ] || [ "$code" = 409 ] || { echo "creating bucket $S3_BUCKET: HTTP $code" >&2; return 1; }
}

# The enforcer's queue is bound once its caches are synced: the kernel lists it then.
network_policy_queue_bound() {
  awk -v q="$NETWORK_POLICIES_QUEUE" '$1 == q { found = 1 } END { exit !found }' /proc/net/netfilter/nfnetlink_queue
}

# New connections to or from pods go to the enforcer's queue (manifests/network-policies.yaml says
# why iptables and not its own nftables rules). In mangle FORWARD: after kube-proxy's DNAT (the
# enforcer sees the pod behind a Service) and before the filter table's accepts of kube-proxy and
# the CNI plugin. Traffic the host itself sends (the kubelet's probes, the tests) is not forwarded,
# so it passes, as kube-network-policies lets root's own traffic pass on a real node.
divert_to_network_policies() {
  local chain=PGOP-NETWORK-POLICIES
  iptables -t mangle -N "$chain" 2>/dev/null || true
  local rule
  for rule in "-d $POD_CIDR" "-s $POD_CIDR"; do
    # shellcheck disable=SC2086
    iptables -t mangle -C "$chain" $rule -m conntrack --ctstate NEW -j NFQUEUE --queue-num "$NETWORK_POLICIES_QUEUE" 2>/dev/null ||
      iptables -t mangle -A "$chain" $rule -m conntrack --ctstate NEW -j NFQUEUE --queue-num "$NETWORK_POLICIES_QUEUE"
  done
  iptables -t mangle -C FORWARD -j "$chain" 2>/dev/null || iptables -t mangle -I FORWARD 1 -j "$chain"
}

wait_for_addons() {
  wait_for "NetworkPolicy enforcer" 120 "" network_policy_queue_bound
  divert_to_network_policies
  wait_for "CoreDNS" 180 "" kubectl_admin -n kube-system rollout status deployment/coredns --timeout 5s
  wait_for "local-path-provisioner" 180 "" \
    kubectl_admin -n local-path-storage rollout status deployment/local-path-provisioner --timeout 5s
  wait_for "MinIO" 240 "" kubectl_admin -n "$S3_NAMESPACE" rollout status deployment/minio --timeout 5s
  wait_for "cert-manager" 180 "" kubectl_admin -n cert-manager rollout status deployment/cert-manager --timeout 5s
  wait_for "bucket $S3_BUCKET" 60 "" create_bucket
}
