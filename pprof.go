//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // profiling endpoints, only in builds tagged pprof
	"os"
)

// Builds tagged pprof (go build -tags pprof) serve net/http/pprof on
// PPROF_ADDR (default 127.0.0.1:6060), for profiling the benchmarks.
func init() {
	addr := os.Getenv("PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() { _ = http.ListenAndServe(addr, nil) }()
}
