package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/plaza-gateway/plaza/api"
)

// Do posts req with client within ctx and decodes the response. Unlike Post
// it returns failures instead of failing the test, so goroutines can call it
// and a client that timed out can retry. A reply that is not JSON is an
// error naming its status.
func (g *Gateway) Do(ctx context.Context, client *http.Client, req Request) (*Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL+"/query", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if req.User != "" {
		tok, err := g.Verifier.Issue(req.User, time.Hour)
		if err != nil {
			return nil, err
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	if req.Debug {
		hr.Header.Set(api.DebugHeader, "calls")
	}
	resp, err := client.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &Response{Status: resp.StatusCode, Raw: raw}
	if err := json.Unmarshal(raw, out); err != nil {
		return out, fmt.Errorf("status %d, not JSON: %w: %s", resp.StatusCode, err, raw)
	}
	return out, nil
}
