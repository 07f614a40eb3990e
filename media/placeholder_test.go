package media

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(PlaceholderPattern, Placeholder())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestPlaceholder(t *testing.T) {
	t.Run("draws the URL's size and the label's initials, cacheable, running nothing", func(t *testing.T) {
		resp, body := serve(t, PlaceholderURL("Dr. Li Wei <Jr>", 400, 300))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		for _, want := range []string{`width="400"`, `height="300"`, `>LW</text>`, `<title>Dr. Li Wei &lt;Jr&gt;</title>`} {
			if !strings.Contains(body, want) {
				t.Errorf("body lacks %s: %s", want, body)
			}
		}
		if ct := resp.Header.Get("Content-Type"); ct != "image/svg+xml" {
			t.Errorf("Content-Type %q", ct)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("Cache-Control %q", cc)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
	})
	t.Run("the same URL gives the same bytes", func(t *testing.T) {
		_, a := serve(t, PlaceholderURL("Whole Milk", 64, 64))
		_, b := serve(t, PlaceholderURL("Whole Milk", 64, 64))
		_, c := serve(t, PlaceholderURL("Skimmed Milk", 64, 64))
		if a != b || a == c {
			t.Errorf("same label differs or different labels match:\n%s\n%s\n%s", a, b, c)
		}
	})
	for _, tc := range []struct{ name, path string }{
		{"a size without x", "/media/placeholder/400/a.svg"},
		{"a zero width", "/media/placeholder/0x10/a.svg"},
		{"a side over 4096", "/media/placeholder/5000x10/a.svg"},
		{"a label without .svg", "/media/placeholder/10x10/a.png"},
		{"a label over 200 bytes", "/media/placeholder/10x10/" + strings.Repeat("a", 201) + ".svg"},
	} {
		t.Run("refuses "+tc.name+" with 400", func(t *testing.T) {
			if resp, body := serve(t, tc.path); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d: %s", resp.StatusCode, body)
			}
		})
	}
}

func TestInitials(t *testing.T) {
	for label, want := range map[string]string{
		"Dr. Li Wei": "LW", "FreshCart Xihu": "FX", "milk": "M", "Prof.": "P", "  ": "", "3M tape": "3T", "张 伟": "张伟",
	} {
		if got := Initials(label); got != want {
			t.Errorf("Initials(%q) = %q, want %q", label, got, want)
		}
	}
}
