package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// query is one unit of work the load generator times: a GraphQL request, or
// for the raw baseline the REST calls that fetch the same data. It returns an
// error for anything but a complete, successful answer.
type query func(ctx context.Context, hc *http.Client) error

// result is one timed run at one concurrency.
type result struct {
	Queries  int
	Errors   int
	FirstErr error
	Elapsed  time.Duration
	P50, P99 time.Duration
}

func (r result) RPS() float64 { return float64(r.Queries) / r.Elapsed.Seconds() }

// newClient is the load generator's HTTP client: one kept-alive connection
// per worker, so c workers hold exactly c connections.
func newClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		MaxConnsPerHost:     conns * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}, Timeout: 30 * time.Second}
}

// drive runs q closed-loop from c workers for d: each worker sends the next
// query when the previous one is answered (like wrk). Queries still in
// flight at the deadline are finished and counted, so the providers' call
// counters line up with the queries.
func drive(ctx context.Context, hc *http.Client, q query, c int, d time.Duration) result {
	var (
		mu   sync.Mutex
		lats []time.Duration
		res  result
	)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			var errs int
			var first error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err := q(ctx, hc); err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lats = append(lats, local...)
			res.Errors += errs
			if res.FirstErr == nil {
				res.FirstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Queries = len(lats)
	slices.Sort(lats)
	res.P50, res.P99 = percentile(lats, 0.50), percentile(lats, 0.99)
	return res
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// graphqlQuery posts one GraphQL document and fails on a non-200 status or
// any error in the body (a partial answer is not a successful query).
func graphqlQuery(url, doc string, vars map[string]any, header http.Header) query {
	return graphqlPost(url, doc, vars, header, false)
}

// graphqlPost posts doc; with partialOK, errors in a 200 body that also
// carries data are accepted (the expected answer when a provider stalls).
func graphqlPost(url, doc string, vars map[string]any, header http.Header, partialOK bool) query {
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		panic(err) // the harness's own documents; cannot fail
	}
	return func(ctx context.Context, hc *http.Client) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d: %.300s", resp.StatusCode, out)
		}
		hasData := bytes.Contains(out, []byte(`"data":{`))
		if !hasData || (!partialOK && bytes.Contains(out, []byte(`"errors"`))) {
			return fmt.Errorf("errors in response: %.300s", out)
		}
		return nil
	}
}

// postBody posts one GraphQL document and returns the body of a 200
// answer.
func postBody(ctx context.Context, hc *http.Client, url, doc string, vars map[string]any) ([]byte, error) {
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %.300s", resp.StatusCode, out)
	}
	return out, nil
}

// providerCall is one signed call to a demo provider, as the gateway makes
// it (httpprovider.SignV2 with a fresh nonce); it returns the response body.
func providerCall(ctx context.Context, hc *http.Client, base, secret, path string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	var n [16]byte
	rand.Read(n[:])
	ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), hex.EncodeToString(n[:])
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpprovider.HeaderTimestamp, ts)
	req.Header.Set(httpprovider.HeaderNonce, nonce)
	req.Header.Set(httpprovider.HeaderSignature, httpprovider.SignV2(secret, ts, nonce, http.MethodPost, path, "", body))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: status %d: %.300s", path, resp.StatusCode, out)
	}
	return out, nil
}

// providerMaxBatch is the demo providers' largest batch (their descriptor's
// MaxBatch); a longer list takes several calls, as it would for a gateway.
const providerMaxBatch = 500

// rawProducts is the raw-provider baseline for "products by ID with their
// store": the provider's products batch (in chunks of providerMaxBatch),
// then its stores batch for the distinct store IDs, exactly the calls a
// gateway has to make. With withStores false it is the one-level lookup.
func rawProducts(p provider, ids []string, withStores bool) query {
	var bodies [][]byte
	for chunk := range slices.Chunk(ids, providerMaxBatch) {
		b, _ := json.Marshal(map[string]any{"ids": chunk})
		bodies = append(bodies, b)
	}
	return func(ctx context.Context, hc *http.Client) error {
		var stores []string
		n := 0
		for _, body := range bodies {
			out, err := providerCall(ctx, hc, p.url(), p.Secret, httpprovider.PathGroceryProducts, body)
			if err != nil {
				return err
			}
			var products struct {
				Results []struct {
					Value *struct {
						StoreID string `json:"storeId"`
					} `json:"value"`
				} `json:"results"`
			}
			if err := json.Unmarshal(out, &products); err != nil {
				return err
			}
			n += len(products.Results)
			for _, r := range products.Results {
				if r.Value == nil {
					return fmt.Errorf("a product is missing")
				}
				if !slices.Contains(stores, r.Value.StoreID) {
					stores = append(stores, r.Value.StoreID)
				}
			}
		}
		if n != len(ids) {
			return fmt.Errorf("got %d products for %d ids", n, len(ids))
		}
		if !withStores {
			return nil
		}
		sb, _ := json.Marshal(map[string]any{"ids": stores})
		_, err := providerCall(ctx, hc, p.url(), p.Secret, httpprovider.PathGroceryStores, sb)
		return err
	}
}
