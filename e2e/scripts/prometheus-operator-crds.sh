#!/usr/bin/env bash
# Prints the directory of the prometheus-operator's CRDs (PodMonitor, PrometheusRule, ...) of the
# pinned version, from its Go module (downloaded into Go's module cache once).
set -euo pipefail
source "$(dirname "$0")/versions.sh"
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
dir=$(GOTOOLCHAIN=local go mod download -json "github.com/prometheus-operator/prometheus-operator@v$PROMETHEUS_OPERATOR_VERSION" |
  sed -n 's|.*"Dir": "\(.*\)".*|\1|p')
[ -d "$dir/example/prometheus-operator-crd" ] || { echo "no CRDs in $dir" >&2; exit 1; }
echo "$dir/example/prometheus-operator-crd"
