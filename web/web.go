// Package web serves the app (at /app) and the playground's page from the
// bundle npm builds into web/dist, embedded in the binary, so `go run .`
// needs no npm. The bundle is committed with the hash of the sources it was
// built from (SOURCES.sha256); TestBundleMatchesSources fails when the
// sources changed and the bundle was not rebuilt (`cd web && npm run build`).
//
// It also holds the app's persisted documents (dist/persisted-documents.json):
// the operations the app sends by hash only.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed all:dist
var dist embed.FS

// AppPath is where the app is served; its assets are under AppPath/assets/.
const AppPath = "/app"

// Files the bundle must hold.
const (
	indexFile      = "index.html"
	playgroundFile = "playground.html"
	documentsFile  = "persisted-documents.json"
)

// CSP is the app's Content-Security-Policy: everything from this origin
// only (no inline script, no CDN, no framing).
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// PlaygroundCSP is the playground's: GraphiQL from this origin only. It
// sets style attributes at run time and its stylesheet carries its fonts
// and icons as data: URLs.
const PlaygroundCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Bundle is a built bundle, read once. Its state is one entry per file of
// the bundle (a fixed, small set), each compressed on first request.
type Bundle struct {
	files     map[string]*asset // by path inside dist, e.g. "assets/app-x.js"
	documents map[string]string
}

type asset struct {
	name  string
	body  []byte
	ctype string
	once  sync.Once
	gz    []byte // nil when compression does not pay
}

// Embedded is the bundle built into this binary. It is read once per
// process and shared (it never changes), so every server and test gateway
// serves the same bytes and compresses each file once.
func Embedded() (*Bundle, error) { return embedded() }

var embedded = sync.OnceValues(func() (*Bundle, error) {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	return New(sub)
})

// New reads a bundle from fsys (the contents of dist). It fails when the
// app's page, the playground's page or the persisted documents are
// missing or malformed.
func New(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{files: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		b.files[p] = &asset{name: p, body: body, ctype: ctype}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read bundle: %w", err)
	}
	for _, f := range []string{indexFile, playgroundFile, documentsFile} {
		if b.files[f] == nil {
			return nil, fmt.Errorf("web: the bundle has no %s (run `npm run build` in web/)", f)
		}
	}
	if err := json.Unmarshal(b.files[documentsFile].body, &b.documents); err != nil {
		return nil, fmt.Errorf("web: %s: %w", documentsFile, err)
	}
	return b, nil
}

// PersistedDocuments returns the app's operations by the hex sha256 the
// app sends in extensions.persistedQuery.
func (b *Bundle) PersistedDocuments() map[string]string { return b.documents }

// PlaygroundPage is the playground's HTML page (served at / by package
// api, which decides who may see it); its assets are served by App.
func (b *Bundle) PlaygroundPage() []byte { return b.files[playgroundFile].body }

// App serves GET AppPath and everything under it: hashed assets (cached
// for a year), files of the bundle, and for any other path the app's page,
// so deep links (/app/doctor/…) open the app, which routes in the browser.
// Mount it on "GET /app/" and "GET /app".
func (b *Bundle) App() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == AppPath {
			http.Redirect(w, r, AppPath+"/", http.StatusMovedPermanently)
			return
		}
		rel := strings.TrimPrefix(r.URL.Path, AppPath+"/")
		if a, ok := b.files[rel]; ok && rel != indexFile && rel != playgroundFile {
			if strings.HasPrefix(rel, "assets/") {
				// Names carry a content hash: a changed file is a new name.
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				w.Header().Set("Cache-Control", "no-cache")
			}
			b.serve(w, r, a, CSP)
			return
		}
		if strings.HasPrefix(rel, "assets/") {
			// A missing script must not be answered with the page.
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		b.serve(w, r, b.files[indexFile], CSP)
	})
}

// ServePlayground writes the playground's page with its policy.
func (b *Bundle) ServePlayground(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	b.serve(w, r, b.files[playgroundFile], PlaygroundCSP)
}

// serve writes a, gzip-compressed when the client accepts it and it pays.
func (b *Bundle) serve(w http.ResponseWriter, r *http.Request, a *asset, csp string) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Content-Security-Policy", csp)
	h.Set("Vary", "Accept-Encoding")
	body := a.body
	if acceptsGzip(r) {
		if gz := a.compressed(); gz != nil {
			h.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// compressed is a's gzip encoding, made once; nil for small or binary files.
func (a *asset) compressed() []byte {
	a.once.Do(func() {
		if len(a.body) < 1024 || !compressible(a.ctype) {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		if zw.Close() == nil && buf.Len() < len(a.body) {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

func compressible(ctype string) bool {
	for _, p := range []string{"text/", "application/javascript", "text/javascript", "application/json", "image/svg"} {
		if strings.HasPrefix(ctype, p) {
			return true
		}
	}
	return false
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
