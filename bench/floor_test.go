package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gid"
)

// startFloor serves the floor over the first demo grocery provider, itself
// served over the HTTP contract, as the harness wires them.
func startFloor(t *testing.T) (url, provider string) {
	t.Helper()
	conns, err := demo.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		if _, ok := c.(connectors.Grocery); !ok {
			continue
		}
		const secret = "floor-test-secret-0123456789"
		prov := httptest.NewServer(httpprovider.NewHandler(c, secret))
		t.Cleanup(prov.Close)
		f := &floor{provider: c.Describe().ID, url: prov.URL, secret: secret, hc: prov.Client()}
		srv := httptest.NewServer(f)
		t.Cleanup(srv.Close)
		return srv.URL, c.Describe().ID
	}
	t.Fatal("no demo grocery provider")
	return "", ""
}

func TestFloor(t *testing.T) {
	ctx := context.Background()
	floorURL, _ := startFloor(t)
	plaza := apitest.Start(t, apitest.Options{})
	hc := &http.Client{}

	t.Run("answers the list of 50 byte for byte as Plaza does", func(t *testing.T) {
		vars := map[string]any{"ids": mustProductIDs(t, 50)}
		want, err := postBody(ctx, hc, plaza.URL+"/query", docListPlaza, vars)
		if err != nil {
			t.Fatal(err)
		}
		got, err := postBody(ctx, hc, floorURL, docListPlaza, vars)
		if err != nil {
			t.Fatal(err)
		}
		if err := sameBytes(got, want); err != nil {
			t.Fatal(err)
		}
		if strings.Count(string(got), `"store":{"id":`) != 50 {
			t.Fatalf("want 50 products with their store: %.300s", got)
		}
	})

	for _, id := range []string{"not-a-global-id", gid.Encode(gid.Product, "another-provider", "p-1")} {
		t.Run("refuses "+id+" with a 502 naming it", func(t *testing.T) {
			_, err := postBody(ctx, hc, floorURL, docListPlaza, map[string]any{"ids": []string{id}})
			if err == nil || !strings.Contains(err.Error(), "status 502") || !strings.Contains(err.Error(), `"`+id+`"`) {
				t.Fatalf("err = %v, want a 502 naming the id", err)
			}
		})
	}
}

func TestSameBytes(t *testing.T) {
	for _, tt := range []struct {
		name, got, want, errHas string
	}{
		{"equal", `{"a":1}`, `{"a":1}`, ""},
		{"differs in the middle", `{"a":1}`, `{"a":2}`, "at byte 5 of 7"},
		{"shorter", `{"a"`, `{"a":1}`, "at byte 4 of 4 (Plaza's has 7)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := sameBytes([]byte(tt.got), []byte(tt.want))
			if tt.errHas == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("err = %v, want it to say %q", err, tt.errHas)
			}
		})
	}
}

func TestAppendQuoted(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"tab\tcr\rnl\n", `"tab\tcr\rnl\n"`},
		{"bell\x07", `"bell\u0007"`},
		{"有机牛奶", `"有机牛奶"`},
	} {
		if got := string(appendQuoted(nil, tt.in)); got != tt.want {
			t.Errorf("appendQuoted(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// The floor-scaled CPU target keeps the ratio (400 µs against a
// floor of 150) whatever the machine's floor.
func TestScaledCPUTarget(t *testing.T) {
	for _, tc := range []struct{ floor, want time.Duration }{
		{150 * time.Microsecond, 400 * time.Microsecond},
		{300 * time.Microsecond, 800 * time.Microsecond},
		{75 * time.Microsecond, 200 * time.Microsecond},
	} {
		if got := scaledCPUTarget(tc.floor); got != tc.want {
			t.Errorf("floor %v: target %v, want %v", tc.floor, got, tc.want)
		}
	}
}
