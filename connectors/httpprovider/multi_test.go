package httpprovider

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// One MultiHandler answers for several providers, each with its own
// connector, and only to requests that sign which provider they are for.
func TestMultiHandlerServesTheProviderEachRequestNames(t *testing.T) {
	served := map[string]bool{"multi-a": true, "multi-b": true}
	resolve := func(_ context.Context, id string) (connectors.Connector, error) {
		if !served[id] {
			return nil, connectors.Errorf(connectors.KindNotFound, "no such provider")
		}
		return newFake(id, connectors.VerticalGrocery), nil
	}
	url := mustServe(t, NewMultiHandler(resolve, testSecret)).URL

	t.Run("each provider's client gets its own descriptor", func(t *testing.T) {
		for id := range served {
			c := mustClient(t, connectors.Descriptor{ID: id, Vertical: connectors.VerticalGrocery}, url)
			d, err := c.RemoteDescriptor(ctxTimeout(t, 5*time.Second))
			if err != nil || d.ID != id || d.Name != "Fake "+id {
				t.Fatalf("%s: descriptor %+v, %v", id, d, err)
			}
			if _, err := c.Stores(ctxTimeout(t, 5*time.Second), []string{"s1"}); err != nil {
				t.Fatalf("%s: stores: %v", id, err)
			}
		}
	})
	const body = `{"ids":["s1"]}`
	now := time.Now()
	for i, tc := range []struct {
		name     string
		provider string
		sign     func(ts, nonce string) string
		status   int
		message  string
	}{
		{"a provider it does not serve is NOT_FOUND", "multi-z", func(ts, n string) string {
			return SignV3(testSecret, "multi-z", ts, n, http.MethodPost, PathGroceryStores, "", []byte(body))
		}, 404, `provider "multi-z" is not served at this endpoint`},
		{"a v2 signature does not cover the provider and is refused", "multi-a", func(ts, n string) string {
			return SignV2(testSecret, ts, n, http.MethodPost, PathGroceryStores, "", []byte(body))
		}, 401, "sign with v3"},
		{"a request redirected to another provider after signing is refused", "multi-b", func(ts, n string) string {
			return SignV3(testSecret, "multi-a", ts, n, http.MethodPost, PathGroceryStores, "", []byte(body))
		}, 401, "bad signature"},
		{"a request naming no provider is BAD_USER_INPUT", "", func(ts, n string) string {
			return SignV3(testSecret, "", ts, n, http.MethodPost, PathGroceryStores, "", []byte(body))
		}, 400, "name one in the Plaza-Provider header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := signedWith(t, url, PathGroceryStores, "", body, now, "m"+strconv.Itoa(i), tc.sign)
			if tc.provider != "" {
				req.Header.Set(HeaderProvider, tc.provider)
			}
			status, we, _ := mustDo(t, req)
			if status != tc.status || !strings.Contains(we.Message, tc.message) {
				t.Fatalf("status %d %+v, want %d with %q", status, we, tc.status, tc.message)
			}
		})
	}
	t.Run("a replay is refused once for every provider", func(t *testing.T) {
		sign := func(ts, n string) string {
			return SignV3(testSecret, "multi-a", ts, n, http.MethodPost, PathGroceryStores, "", []byte(body))
		}
		for k, want := range []int{200, 401} {
			req := signedWith(t, url, PathGroceryStores, "", body, now, "replayed", sign)
			req.Header.Set(HeaderProvider, "multi-a")
			if status, we, _ := mustDo(t, req); status != want {
				t.Fatalf("send %d: status %d %+v, want %d", k+1, status, we, want)
			}
		}
	})
	t.Run("health without a provider is the process's", func(t *testing.T) {
		resp, err := http.Get(url + PathHealth)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
