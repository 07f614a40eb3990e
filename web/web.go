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

// Bundle is a built bundle. Its state is one entry per file of the bundle
// (a fixed, small set), each read and compressed on its first request: a
// gateway that serves only the API never holds the app's 1.8 MB on its
// heap, where it counted in the collector's pacing (a third of the live
// heap of a list query at 64 connections, which GOGC=200 let the heap grow
// three times over).
type Bundle struct {
	fsys      fs.FS
	files     map[string]*asset // by path inside dist, e.g. "assets/app-x.js"
	documents map[string]string
}

type asset struct {
	name  string
	ctype string
	once  sync.Once
	body  []byte
	gz    []byte // nil when compression does not pay
	err   error
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

// New lists a bundle in fsys (the contents of dist) and reads its
// persisted documents; the other files are read when first served. It
// fails when the app's page, the playground's page or the persisted
// documents are missing or malformed.
func New(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{fsys: fsys, files: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b.files[p] = &asset{name: p, ctype: contentType(p)}
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
	docs, err := fs.ReadFile(fsys, documentsFile)
	if err != nil {
		return nil, fmt.Errorf("web: read bundle: %w", err)
	}
	if err := json.Unmarshal(docs, &b.documents); err != nil {
		return nil, fmt.Errorf("web: %s: %w", documentsFile, err)
	}
	return b, nil
}

// contentTypes are the bundle's file types, so that listing it does not
// load the operating system's MIME table (mime.TypeByExtension reads
// /etc/mime.types into maps the process then keeps, 0.35 MB here).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png",
	".ico": "image/vnd.microsoft.icon", ".woff2": "font/woff2", ".txt": "text/plain; charset=utf-8", ".map": "application/json",
}

func contentType(p string) string {
	ext := strings.ToLower(path.Ext(p))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// PersistedDocuments returns the app's operations by the hex sha256 the
// app sends in extensions.persistedQuery.
func (b *Bundle) PersistedDocuments() map[string]string { return b.documents }

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

// serve writes a, gzip-compressed when the client accepts it and it pays;
// 500 when its file cannot be read.
func (b *Bundle) serve(w http.ResponseWriter, r *http.Request, a *asset, csp string) {
	if a.load(b.fsys); a.err != nil {
		http.Error(w, "web: the bundle's "+a.name+" is unreadable", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Content-Security-Policy", csp)
	h.Set("Vary", "Accept-Encoding")
	body := a.body
	if acceptsGzip(r) && a.gz != nil {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// load reads a's file from fsys and makes its gzip encoding (none for
// small or binary files), once.
func (a *asset) load(fsys fs.FS) {
	a.once.Do(func() {
		if a.body, a.err = fs.ReadFile(fsys, a.name); a.err != nil {
			return
		}
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
