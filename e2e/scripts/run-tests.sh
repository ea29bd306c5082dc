#!/usr/bin/env bash
# Runs test tiers with node's test runner on the built JavaScript (npm run build first).
# Usage: run-tests.sh unit [integration] [e2e]
# The e2e tier runs in two groups (below); each group ends with its own summary of failures.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 24 ]; then
  echo "Node.js $(node --version) is too old: run the tests through npm (npm test), which uses node_modules/.bin/node (Node 24)." >&2
  exit 1
fi

patterns=()
e2e=false
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
      e2e=true
      ;;
    *) echo "unknown test tier: $tier (unit, integration, e2e)" >&2; exit 2 ;;
  esac
done

run() { node --enable-source-maps --test --test-reporter=spec "$@"; }
status=0
# Unit and integration tests one file at a time: their timings are not made for a loaded machine.
if [ ${#patterns[@]} -gt 0 ]; then run --test-concurrency=1 "${patterns[@]}" || status=1; fi
if $e2e; then
  # Files that disrupt the whole local Kubernetes run alone, after the others: the failover
  # drills stop the API server and kubelets, and the backup outage stops the shared S3 server.
  # Every other file works in its own namespace and runs two at a time: they mostly wait for
  # pods and PostgreSQL, so two share the two cores well.
  disruptive=(e2e/dist/end-to-end/failover-drills.test.js e2e/dist/end-to-end/backup-resilience.test.js)
  shared=()
  for file in e2e/dist/end-to-end/*.test.js; do
    case " ${disruptive[*]} " in *" $file "*) ;; *) shared+=("$file") ;; esac
  done
  run --test-concurrency=2 "${shared[@]}" || status=1
  run --test-concurrency=1 "${disruptive[@]}" || status=1
fi
exit $status
