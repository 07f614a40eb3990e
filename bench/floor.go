package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/plaza-gateway/plaza/connectors/httpprovider"
	"github.com/plaza-gateway/plaza/gid"
	"github.com/plaza-gateway/plaza/listexec"
)

// The floor is the least a Go gateway must do for the headline workload,
// the list of 50 products with their stores (docListPlaza): receive the
// request, make the two signed provider calls (products:batchGet, then
// stores:batchGet for their distinct stores), decode the replies with the
// JSON library Plaza's HTTP connector uses (goccy/go-json), and write the
// answer Plaza writes, byte for byte. It has no GraphQL parser, executor,
// limits, auth, policy or cache: it answers that one document's shape for
// one provider and is the yardstick for how close Plaza is to the limit
// (the `floor` row and Plaza ÷ floor). The harness checks its answer is
// byte-identical to Plaza's before timing it.

// floorRequest is the part of a GraphQL request the floor reads: the
// variables of docListPlaza.
type floorRequest struct {
	Variables struct {
		IDs []string `json:"ids"`
	} `json:"variables"`
}

// floorProduct and floorStore are the fields of the provider's replies the
// answer selects; the decoder skips the rest.
type floorProduct struct {
	Name  string `json:"name"`
	Price struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	} `json:"price"`
	Unit    string `json:"unit"`
	StoreID string `json:"storeId"`
}

type floorStore struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	City string `json:"city"`
}

type floorBatch[T any] struct {
	Results []struct {
		Value *T `json:"value"`
	} `json:"results"`
}

// floor serves the list of 50 from one provider.
type floor struct {
	provider, url, secret string
	hc                    *http.Client
}

func serveFloor(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve-floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &floor{}
	fs.StringVar(&f.provider, "provider", "", "the provider id the products' global ids name")
	fs.StringVar(&f.url, "url", "", "the provider's base URL")
	fs.StringVar(&f.secret, "secret", "", "the provider's signing secret")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.provider == "" || f.url == "" || f.secret == "" {
		return errors.New("serve-floor: --provider, --url and --secret are required")
	}
	f.hc = &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}, Timeout: 5 * time.Second}
	mux := http.NewServeMux()
	mux.Handle("POST /query", f)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	return listenAndServe(ctx, *addr, mux)
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := f.answer(r.Context(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

// answer reads one request and returns the response body.
func (f *floor) answer(ctx context.Context, in io.Reader) ([]byte, error) {
	raw, err := io.ReadAll(in)
	if err != nil {
		return nil, err
	}
	var req floorRequest
	if err := gojson.Unmarshal(raw, &req); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	local := make([]string, len(req.Variables.IDs))
	for i, s := range req.Variables.IDs {
		id, err := gid.DecodeKind(s, gid.Product)
		if err != nil || id.Provider != f.provider {
			return nil, fmt.Errorf("id %q: not a product of %s", s, f.provider)
		}
		local[i] = id.Local
	}
	products, err := floorCall[floorProduct](ctx, f, httpprovider.PathGroceryProducts, local)
	if err != nil {
		return nil, err
	}
	var storeIDs []string
	storeAt := make(map[string]int, 16)
	for _, p := range products {
		if _, ok := storeAt[p.StoreID]; !ok {
			storeAt[p.StoreID] = len(storeIDs)
			storeIDs = append(storeIDs, p.StoreID)
		}
	}
	stores, err := floorCall[floorStore](ctx, f, httpprovider.PathGroceryStores, storeIDs)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 256*len(products)+32)
	out = append(out, `{"data":{"nodes":[`...)
	for i, p := range products {
		if i > 0 {
			out = append(out, ',')
		}
		s := stores[storeAt[p.StoreID]]
		out = append(out, `{"id":`...)
		out = appendQuoted(out, req.Variables.IDs[i])
		out = append(out, `,"name":`...)
		out = appendQuoted(out, p.Name)
		out = append(out, `,"price":{"amount":`...)
		out = strconv.AppendInt(out, p.Price.Amount, 10)
		out = append(out, `,"currency":`...)
		out = appendQuoted(out, p.Price.Currency)
		out = append(out, `},"unit":`...)
		out = appendQuoted(out, p.Unit)
		out = append(out, `,"store":{"id":`...)
		out = appendQuoted(out, gid.Encode(gid.Store, f.provider, s.ID))
		out = append(out, `,"name":`...)
		out = appendQuoted(out, s.Name)
		out = append(out, `,"city":`...)
		out = appendQuoted(out, s.City)
		out = append(out, `}}`...)
	}
	return append(out, `]}}`...), nil
}

// floorCall makes one signed batch call and returns its values in key
// order; a missing value is an error (the list workload asks for products
// and stores that exist).
func floorCall[T any](ctx context.Context, f *floor, path string, ids []string) ([]T, error) {
	body, err := gojson.Marshal(struct {
		IDs []string `json:"ids"`
	}{ids})
	if err != nil {
		return nil, err
	}
	reply, err := providerCall(ctx, f.hc, f.url, f.secret, path, body)
	if err != nil {
		return nil, err
	}
	var batch floorBatch[T]
	if err := gojson.Unmarshal(reply, &batch); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(batch.Results) != len(ids) {
		return nil, fmt.Errorf("%s: %d results for %d ids", path, len(batch.Results), len(ids))
	}
	out := make([]T, len(ids))
	for i, r := range batch.Results {
		if r.Value == nil {
			return nil, fmt.Errorf("%s: %s is missing", path, ids[i])
		}
		out[i] = *r.Value
	}
	return out, nil
}

// appendQuoted is Plaza's own writer of response strings, so the floor's
// answer is byte-identical to Plaza's: ", \ and control characters,
// \t \r \n by name and the rest as \u00XX; everything else as it is.
var appendQuoted = listexec.AppendQuoted
