// Package faulty wraps a provider's HTTP handler so it misbehaves in the
// ways the conformance kit must report and the gateway must contain: batch
// results out of order and replies far larger than any cap. (Garbage JSON,
// 500s and stalls come from httpprovider.Inject; a wrong secret or missing
// signature check from httpprovider.NewHandler's own options.)
package faulty

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// recorder buffers a reply so it can be rewritten.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

// Reorder serves batch gets (paths ending in ":batchGet") with their results
// in reverse order: each result is a valid item, just not at the position of
// the ID it answers. Other operations pass through.
func Reorder(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ":batchGet") {
			h.ServeHTTP(w, r)
			return
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		var out struct {
			Results []json.RawMessage `json:"results"`
		}
		body := rec.body.Bytes()
		if rec.status == http.StatusOK && json.Unmarshal(body, &out) == nil {
			for i, j := 0, len(out.Results)-1; i < j; i, j = i+1, j-1 {
				out.Results[i], out.Results[j] = out.Results[j], out.Results[i]
			}
			body, _ = json.Marshal(out)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.status)
		w.Write(body)
	})
}

// Pad follows replies with n bytes of JSON whitespace, streamed: the reply
// stays valid JSON, only far too large. It pads the operations whose path
// ends with one of suffixes, or every operation when none is given, and
// stops when the caller hangs up.
func Pad(h http.Handler, n int64, suffixes ...string) http.Handler {
	chunk := bytes.Repeat([]byte{' '}, 64<<10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		match := len(suffixes) == 0
		for _, s := range suffixes {
			match = match || strings.HasSuffix(r.URL.Path, s)
		}
		if !match {
			h.ServeHTTP(w, r)
			return
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.status)
		if _, err := w.Write(rec.body.Bytes()); err != nil {
			return
		}
		for sent := int64(0); sent < n; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk[:min(int64(len(chunk)), n-sent)]); err != nil {
				return
			}
		}
	})
}
