//go:build tools

// prometheus-community's postgres_exporter, which the PostgreSQL image carries for the instances'
// metrics sidecar (docs/monitoring.md), pinned by this module's go.mod and go.sum. The Go module
// proxy here refuses `go install <pkg>@<version>` for this module (its version list is not
// served), so the binary is built from this module (e2e/scripts/build-go-tools.sh).
package tools

import _ "github.com/prometheus-community/postgres_exporter/cmd/postgres_exporter"
