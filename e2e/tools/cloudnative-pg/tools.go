//go:build tools

// CloudNativePG's operator for the peers benchmark (npm run bench:peers), pinned by this
// module's go.mod and go.sum. The Go module proxy here refuses `go install <pkg>@<version>` for
// this module (its version list is not served), so the binary is built from this module:
// `go build github.com/cloudnative-pg/cloudnative-pg/cmd/manager` (e2e/scripts/build-go-tools.sh).
package tools

import _ "github.com/cloudnative-pg/cloudnative-pg/cmd/manager"
