package telemetry

import (
	"net/http"
	"net/http/pprof"
)

// DefaultAdminAddr is where the admin listener binds unless configured:
// loopback, so profiles and metrics are not reachable from other machines
// by accident.
const DefaultAdminAddr = "127.0.0.1:6060"

// AdminHandler serves what operators need and the public must not reach:
// the runtime profiles under /debug/pprof/ and, when metrics is not nil,
// /metrics. Serve it on its own listener, never on the public port.
//
// Importing net/http/pprof also registers its handlers on
// http.DefaultServeMux; Plaza's public handler has its own mux, so they are
// not exposed there (a test checks it).
func AdminHandler(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return mux
}
