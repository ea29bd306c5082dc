#!/usr/bin/env bash
# Stops or starts the local cluster's kube-apiserver (for the "API server down" drill).
# Usage: apiserver.sh stop|start
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$CLUSTER_SCRIPTS/lib/control-plane.sh"
NODE_IP=$(cat "$CLUSTER_DIR/node-ip")
case "${1:-}" in
  stop) stop_daemon kube-apiserver ;;
  start)
    start_apiserver
    wait_for "kube-apiserver" 60 kube-apiserver kubectl_admin get --raw /readyz
    ;;
  *) die "usage: $0 stop|start" ;;
esac
