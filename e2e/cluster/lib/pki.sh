# Certificates and kubeconfigs of the local cluster (sourced by up.sh). One CA signs the API
# server's serving certificate and every client certificate; keys are ECDSA P-256. Existing
# files are kept, so a second `cluster:up` does not invalidate tokens or kubeconfigs.
# shellcheck shell=bash

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

issue_cert() { # name subject extensions
  local name="$1" subject="$2" ext="$3"
  [ -f "$PKI/$name.crt" ] && return 0
  new_key "$PKI/$name.key"
  openssl req -new -key "$PKI/$name.key" -subj "$subject" -out "$PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile <(printf '%s\n' "$ext") -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr"
}

client_cert() { # name user [group]
  local subject="/CN=$2"
  [ -z "${3:-}" ] || subject="/O=$3$subject"
  issue_cert "$1" "$subject" "keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
}

write_kubeconfig() { # file cert-name
  local file="$1" name="$2"
  [ -f "$file" ] && return 0
  cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: pgop-local
    cluster:
      server: https://$NODE_IP:$API_PORT
      certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
  - name: $name
    user:
      client-certificate-data: $(base64 -w0 <"$PKI/$name.crt")
      client-key-data: $(base64 -w0 <"$PKI/$name.key")
contexts:
  - name: pgop-local
    context: {cluster: pgop-local, user: $name}
current-context: pgop-local
KUBECONFIG
  chmod 600 "$file"
}

make_pki() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [ ! -f "$PKI/ca.crt" ]; then
    new_key "$PKI/ca.key"
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=pgop-local-ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$PKI/ca.crt" 2>/dev/null
  fi
  # Service-account tokens are signed with their own key pair.
  [ -f "$PKI/sa.key" ] || { new_key "$PKI/sa.key" && openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null; }

  issue_cert apiserver "/CN=kube-apiserver" "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
  local n
  for n in "${NODES[@]}"; do
    select_node "$n"
    # The kubelet's serving certificate, so `kubectl logs/exec` verify the kubelet; and its
    # client certificate, as system:node:<name> for the Node authorizer.
    issue_cert "kubelet-serving$NODE_SUFFIX" "/CN=$NODE_NAME" "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME,DNS:localhost"
    client_cert "kubelet$NODE_SUFFIX" "system:node:$NODE_NAME" system:nodes
    write_kubeconfig "$CLUSTER_DIR/kubelet$NODE_SUFFIX.kubeconfig" "kubelet$NODE_SUFFIX"
  done
  select_node 1
  client_cert admin kubernetes-admin system:masters
  client_cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  client_cert controller-manager system:kube-controller-manager
  client_cert scheduler system:kube-scheduler
  client_cert kube-proxy system:kube-proxy

  write_kubeconfig "$KUBECONFIG_ADMIN" admin
  for c in controller-manager scheduler kube-proxy; do
    write_kubeconfig "$CLUSTER_DIR/$c.kubeconfig" "$c"
  done
}
