#!/usr/bin/env bash
# Runs test tiers with node's test runner on the built JavaScript (npm run build first).
# Usage: run-tests.sh unit [integration] [e2e]
# One runner invocation for all tiers, so the run ends with one summary.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 24 ]; then
  echo "Node.js $(node --version) is too old: run the tests through npm (npm test), which uses node_modules/.bin/node (Node 24)." >&2
  exit 1
fi

patterns=()
for tier in "$@"; do
  case "$tier" in
    unit) patterns+=("packages/*/dist/test/**/*.test.js") ;;
    integration)
      # Build (or find in the cache) the pinned etcd, kube-apiserver, kubectl, helm and promtool first, so a cold
      # build is not counted against a test's timeout.
      bash e2e/scripts/build-kube-binaries.sh etcd kube-apiserver kubectl
      bash e2e/scripts/build-go-tools.sh helm promtool
      patterns+=("e2e/dist/integration/**/*.test.js")
      ;;
    e2e)
      # The local Kubernetes: brought up if it is not running (a no-op when it is), and left
      # running for the next run; npm run cluster:down removes it.
      bash e2e/cluster/up.sh
      patterns+=("e2e/dist/end-to-end/**/*.test.js")
      ;;
    *) echo "unknown test tier: $tier (unit, integration, e2e)" >&2; exit 2 ;;
  esac
done
# One file at a time: the failover drills stop the local API server and kill pods, which must not
# happen under another e2e file (node's default is one file per spare core: 1 on 2 cores anyway).
exec node --enable-source-maps --test --test-concurrency=1 --test-reporter=spec "${patterns[@]}"
