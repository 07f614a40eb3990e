package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// sourceRoots are the files and folders whose content shapes the bundle;
// keep in step with sourceRoots in scripts/build.mjs.
var sourceRoots = []string{"package.json", "package-lock.json", "vite.config.js", "index.html", "playground.html", "src", "scripts"}

// sourcesHash is scripts/build.mjs's hash of the sources: for each file,
// sorted by slash path, "path\x00sha256hex\n", hashed with sha256.
func sourcesHash(root string) (string, error) {
	var files []string
	for _, r := range sourceRoots {
		err := filepath.WalkDir(filepath.Join(root, r), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, err := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
			return err
		})
		if err != nil {
			return "", err
		}
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "%s\x00%s\n", f, hex.EncodeToString(sum[:]))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// TestBundleMatchesSources fails when web/'s sources changed and the
// committed bundle (dist/) was not rebuilt from them. It needs no npm; CI's
// `make e2e` rebuilds with npm and checks the bundle is byte for byte the
// committed one.
func TestBundleMatchesSources(t *testing.T) {
	got, err := sourcesHash(".")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("SOURCES.sha256")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != got {
		t.Fatalf("web/ sources changed since dist/ was built (sources %s, bundle built from %s):\n"+
			"run `cd web && npm ci && npm run build` and commit dist/ and SOURCES.sha256", got, strings.TrimSpace(string(want)))
	}
}

func TestSourcesHashSeesEveryChange(t *testing.T) {
	// Guards the guard: a one-byte change in any source changes the hash.
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json", "vite.config.js", "index.html", "playground.html", "src/a.jsx", "scripts/b.mjs"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before, err := sourcesHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src/a.jsx"), []byte("src/a.jsX"), 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _ := sourcesHash(dir); after == before {
		t.Fatal("a changed source left the hash as it was")
	}
}

func loadSchema(tb testing.TB) *ast.Schema {
	tb.Helper()
	src, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		tb.Fatal(err)
	}
	schema, err := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphqls", Input: string(src)})
	if err != nil {
		tb.Fatalf("schema.graphqls: %v", err)
	}
	return schema
}

var operationName = regexp.MustCompile(`(?m)^(?:query|mutation|subscription)\s+(\w+)`)

// TestOperationsValidate checks every operation of the app (src/**.graphql)
// and every persisted document in the bundle against schema.graphqls, so a
// schema change that breaks the app fails `make test`.
func TestOperationsValidate(t *testing.T) {
	schema := loadSchema(t)
	b, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	persisted := map[string]bool{}
	for h, doc := range b.PersistedDocuments() {
		sum := sha256.Sum256([]byte(doc))
		if hex.EncodeToString(sum[:]) != h {
			t.Errorf("persisted document %s is not the sha256 of its text", h)
		}
		if _, errs := gqlparser.LoadQuery(schema, doc); len(errs) > 0 {
			t.Errorf("persisted document %s: %v", h, errs)
		}
		if m := operationName.FindStringSubmatch(doc); m != nil {
			persisted[m[1]] = true
		}
	}
	var files []string
	err = filepath.WalkDir("src", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".graphql") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no operations under src/: %v", err)
	}
	for _, f := range files {
		t.Run(f+" validates against schema.graphqls", func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			q, errs := gqlparser.LoadQuery(schema, string(src))
			if len(errs) > 0 {
				t.Fatalf("%v", errs)
			}
			if len(q.Operations) != 1 || q.Operations[0].Name == "" {
				t.Fatalf("want exactly one named operation, got %d", len(q.Operations))
			}
			if !persisted[q.Operations[0].Name] {
				t.Fatalf("%s is not in the bundle's persisted documents: rebuild the bundle", q.Operations[0].Name)
			}
		})
	}
	t.Run("a document using a field the schema lacks fails validation", func(t *testing.T) {
		if _, errs := gqlparser.LoadQuery(schema, `query Q { search { edges { node { ... on Product { id removedField } } } } }`); len(errs) == 0 {
			t.Fatal("an unknown field validated")
		}
	})
}

func TestNewRefusesAnIncompleteBundle(t *testing.T) {
	full := fstest.MapFS{
		"index.html":               {Data: []byte("<div id=app></div>")},
		"playground.html":          {Data: []byte("<div id=graphiql></div>")},
		"persisted-documents.json": {Data: []byte(`{"ab":"query A { __typename }"}`)},
	}
	if _, err := New(full); err != nil {
		t.Fatalf("a complete bundle: %v", err)
	}
	for _, missing := range []string{"index.html", "playground.html", "persisted-documents.json"} {
		t.Run("without "+missing, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for k, v := range full {
				if k != missing {
					fsys[k] = v
				}
			}
			if _, err := New(fsys); err == nil || !strings.Contains(err.Error(), missing) {
				t.Fatalf("err %v", err)
			}
		})
	}
	t.Run("with malformed persisted documents", func(t *testing.T) {
		fsys := fstest.MapFS{}
		for k, v := range full {
			fsys[k] = v
		}
		fsys["persisted-documents.json"] = &fstest.MapFile{Data: []byte(`["not a map"]`)}
		if _, err := New(fsys); err == nil {
			t.Fatal("accepted")
		}
	})
}

func TestAppHandler(t *testing.T) {
	big := strings.Repeat("console.log('plaza');\n", 200)
	b, err := New(fstest.MapFS{
		"index.html":               {Data: []byte("<!doctype html><div id=app></div>")},
		"playground.html":          {Data: []byte("<div id=graphiql></div>")},
		"persisted-documents.json": {Data: []byte(`{}`)},
		"assets/app-abc.js":        {Data: []byte(big)},
		"assets/logo-abc.png":      {Data: []byte("\x89PNG....")},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := b.App()
	get := func(path, enc string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		name, path, enc string
		status          int
		body, encoding  string
		cache           string
	}{
		{"a deep link answers the page", "/app/service/abc/office/xyz", "", 200, "<!doctype html>", "", "no-cache"},
		{"the root answers the page", "/app/", "gzip", 200, "<!doctype html>", "", "no-cache"},
		{"an asset is gzipped for a client that takes gzip", "/app/assets/app-abc.js", "gzip, br", 200, "", "gzip", "immutable"},
		{"an asset is plain for a client that refuses gzip", "/app/assets/app-abc.js", "gzip;q=0", 200, big, "", "immutable"},
		{"an image is never gzipped", "/app/assets/logo-abc.png", "gzip", 200, "\x89PNG", "", "immutable"},
		{"a missing asset is 404", "/app/assets/app-old.js", "", 404, "", "", ""},
		{"the playground's page is not served under /app", "/app/playground.html", "", 200, "<!doctype html>", "", "no-cache"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(tc.path, tc.enc)
			if rec.Code != tc.status || !strings.HasPrefix(rec.Body.String(), tc.body) || rec.Header().Get("Content-Encoding") != tc.encoding ||
				!strings.Contains(rec.Header().Get("Cache-Control"), tc.cache) {
				t.Fatalf("%d %q %v", rec.Code, rec.Body.String()[:min(40, rec.Body.Len())], rec.Header())
			}
			if rec.Code == 200 && rec.Header().Get("Content-Security-Policy") != CSP {
				t.Fatalf("csp %q", rec.Header().Get("Content-Security-Policy"))
			}
		})
	}
}

// Files are read when first served: a file the bundle lists but cannot
// read answers 500 with its name, and the rest of the bundle is served.
// Types come from the bundle's own table, whatever the machine's MIME
// files say.
func TestAppHandlerReadsFilesWhenServed(t *testing.T) {
	fsys := unreadable{MapFS: fstest.MapFS{
		"index.html":               {Data: []byte("<!doctype html>")},
		"playground.html":          {Data: []byte("<div id=graphiql></div>")},
		"persisted-documents.json": {Data: []byte(`{}`)},
		"assets/app-abc.js":        {Data: []byte("console.log('plaza')")},
		"assets/app-abc.css":       {Data: []byte("body{}")},
		"assets/broken-abc.js":     {Data: []byte("never read")},
	}, name: "assets/broken-abc.js"}
	b, err := New(fsys)
	if err != nil {
		t.Fatalf("New read a file it need not: %v", err)
	}
	for _, tc := range []struct {
		path   string
		status int
		ctype  string
		body   string
	}{
		{"/app/assets/broken-abc.js", 500, "text/plain; charset=utf-8", "web: the bundle's assets/broken-abc.js is unreadable"},
		{"/app/assets/app-abc.js", 200, "text/javascript; charset=utf-8", "console.log"},
		{"/app/assets/app-abc.css", 200, "text/css; charset=utf-8", "body{}"},
		{"/app/", 200, "text/html; charset=utf-8", "<!doctype html>"},
	} {
		rec := httptest.NewRecorder()
		b.App().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.status || rec.Header().Get("Content-Type") != tc.ctype || !strings.HasPrefix(rec.Body.String(), tc.body) {
			t.Errorf("GET %s: %d %q %q, want %d %q %q", tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), tc.status, tc.ctype, tc.body)
		}
	}
}

// unreadable is a MapFS whose file name lists but cannot be opened.
type unreadable struct {
	fstest.MapFS
	name string
}

func (u unreadable) Open(name string) (fs.File, error) {
	if name == u.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return u.MapFS.Open(name)
}

func (u unreadable) ReadFile(name string) ([]byte, error) { return fs.ReadFile(fsOnly{u}, name) }

// fsOnly hides every method but Open, so fs.ReadFile opens the file.
type fsOnly struct{ fs.FS }
