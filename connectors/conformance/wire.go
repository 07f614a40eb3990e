package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
)

// wire speaks the HTTP contract directly, below httpprovider.Client, for the
// checks that are about the bytes: error bodies, signatures, the deadline
// header and reply sizes.
type wire struct {
	base   string
	secret string
	// provider is the Plaza-Provider every request names (and v3 signs).
	provider string
	hc       *http.Client
	now      func() time.Time
	maxResp  int64
}

type reply struct {
	status int
	body   []byte
	// size is the body length, counted up to one byte past the cap.
	size int64
	took time.Duration
}

// request is one raw request. headers are set as given, so a test can send
// them unsigned, wrongly signed or twice.
type request struct {
	path    string
	body    []byte
	headers http.Header
}

// signedHeaders signs body for path (no query string) with secret, with
// signature scheme v3, for w.provider.
func (w *wire) signedHeaders(secret, path string, body []byte) http.Header {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	ts := strconv.FormatInt(w.now().Unix(), 10)
	n := hex.EncodeToString(nonce[:])
	return http.Header{
		httpprovider.HeaderTimestamp: {ts},
		httpprovider.HeaderNonce:     {n},
		httpprovider.HeaderProvider:  {w.provider},
		httpprovider.HeaderSignature: {httpprovider.SignV3(secret, w.provider, ts, n, http.MethodPost, path, "", body)},
		"Content-Type":               {"application/json"},
	}
}

// send posts r with a client-side bound of timeout and reads the reply up
// to one byte past the cap.
func (w *wire) send(ctx context.Context, timeout time.Duration, r request) (reply, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+r.path, bytes.NewReader(r.body))
	if err != nil {
		return reply{}, err
	}
	for k, v := range r.headers {
		req.Header[k] = v
	}
	start := time.Now()
	resp, err := w.hc.Do(req)
	if err != nil {
		return reply{took: time.Since(start)}, fmt.Errorf("POST %s: no answer within %v: %w", r.path, timeout, err)
	}
	defer resp.Body.Close()
	// One byte past the cap is enough to tell an oversized reply.
	body, err := io.ReadAll(io.LimitReader(resp.Body, w.maxResp+1))
	out := reply{status: resp.StatusCode, body: body, size: int64(len(body)), took: time.Since(start)}
	if err != nil {
		return out, fmt.Errorf("POST %s: reading the reply: %w", r.path, err)
	}
	return out, nil
}

// signed posts body to path, correctly signed, with extra headers.
func (w *wire) signed(ctx context.Context, timeout time.Duration, path string, body []byte, extra http.Header) (reply, error) {
	h := w.signedHeaders(w.secret, path, body)
	for k, v := range extra {
		h[k] = v
	}
	return w.send(ctx, timeout, request{path: path, body: body, headers: h})
}

type verticalPaths struct{ search, batch string }

func pathsOf(v connectors.Vertical) verticalPaths {
	switch v {
	case connectors.VerticalMedical:
		return verticalPaths{httpprovider.PathMedicalSearchDoctors, httpprovider.PathMedicalDoctors}
	case connectors.VerticalLegal:
		return verticalPaths{httpprovider.PathLegalSearchLawyers, httpprovider.PathLegalLawyers}
	case connectors.VerticalPublicService:
		return verticalPaths{httpprovider.PathPublicSearchServices, httpprovider.PathPublicServices}
	}
	return verticalPaths{httpprovider.PathGrocerySearchProducts, httpprovider.PathGroceryProducts}
}

var knownKinds = []connectors.Kind{
	connectors.KindInvalid, connectors.KindNotFound, connectors.KindConflict, connectors.KindUnauthenticated,
	connectors.KindForbidden, connectors.KindProvider, connectors.KindTimeout, connectors.KindUnavailable,
	connectors.KindRateLimited, connectors.KindInternal,
}

// errorShape checks raw is the contract's error model, exactly: code (a
// known kind, want when set), a non-empty message and retryable.
func errorShape(raw []byte, want connectors.Kind) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("error body %.120q is not a JSON object", raw)
	}
	var e struct {
		Code      connectors.Kind `json:"code"`
		Message   string          `json:"message"`
		Retryable bool            `json:"retryable"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return fmt.Errorf("error body %.120q: %v (want exactly code, message, retryable)", raw, err)
	}
	for _, k := range []string{"code", "message", "retryable"} {
		if _, ok := fields[k]; !ok {
			return fmt.Errorf("error body %.120q lacks %q", raw, k)
		}
	}
	switch {
	case !slices.Contains(knownKinds, e.Code):
		return fmt.Errorf("error code %q is not one of the contract's", e.Code)
	case want != "" && e.Code != want:
		return fmt.Errorf("error code %s, want %s", e.Code, want)
	case e.Message == "":
		return errors.New("error message is empty")
	}
	return nil
}

// expectError checks a reply is status with the error model of kind.
func expectError(r reply, status int, kind connectors.Kind) error {
	if r.status != status {
		return fmt.Errorf("status %d, want %d (body %.120q)", r.status, status, r.body)
	}
	return errorShape(r.body, kind)
}

func checkDeadlineWire(ctx context.Context, e *env, short time.Duration) (string, error) {
	w, p := e.cfg.wire, pathsOf(e.desc.Vertical).search
	r, err := w.signed(ctx, e.cfg.grace, p, []byte(`{"first":5}`), http.Header{httpprovider.HeaderDeadline: {"0"}})
	if err != nil {
		return "", fmt.Errorf("deadline 0 ms: %w", err)
	}
	if err := expectError(r, http.StatusGatewayTimeout, connectors.KindTimeout); err != nil {
		return "", fmt.Errorf("deadline 0 ms: %w", err)
	}
	ms := strconv.FormatInt(short.Milliseconds(), 10)
	r, err = w.signed(ctx, short+e.cfg.grace, p, []byte(`{"text":"a","first":5}`), http.Header{httpprovider.HeaderDeadline: {ms}})
	if err != nil {
		return "", fmt.Errorf("%s header of %s: %w", httpprovider.HeaderDeadline, ms, err)
	}
	if r.status != http.StatusOK && r.status != http.StatusGatewayTimeout {
		return "", fmt.Errorf("%s header of %s: status %d, want 200 or 504", httpprovider.HeaderDeadline, ms, r.status)
	}
	return fmt.Sprintf("expired context and %s: 0 are timeouts at once; a %s ms deadline answered %d in %v",
		httpprovider.HeaderDeadline, ms, r.status, r.took.Round(time.Millisecond)), nil
}

func checkErrorShapeWire(ctx context.Context, e *env) (string, error) {
	w, ps := e.cfg.wire, pathsOf(e.desc.Vertical)
	cases := []struct {
		what   string
		path   string
		body   string
		status int
		kind   connectors.Kind
	}{
		{"a bad cursor", ps.search, `{"first":1,"after":"` + badCursor + `"}`, http.StatusBadRequest, connectors.KindInvalid},
		{"a malformed body", ps.batch, `{"ids":"not-a-list"}`, http.StatusBadRequest, connectors.KindInvalid},
		{"an unknown operation", "/v1/conformance/no-such-operation", `{}`, http.StatusNotFound, connectors.KindNotFound},
	}
	for _, c := range cases {
		r, err := w.signed(ctx, e.cfg.callTimeout, c.path, []byte(c.body), nil)
		if err != nil {
			return "", fmt.Errorf("%s: %w", c.what, err)
		}
		if err := expectError(r, c.status, c.kind); err != nil {
			return "", fmt.Errorf("%s (POST %s): %w", c.what, c.path, err)
		}
	}
	// A batch item's error uses the same model.
	ids, err := e.sampleIDs(ctx, 1)
	if err != nil {
		return "", err
	}
	body, _ := json.Marshal(map[string][]string{"ids": {ids[0], e.key("unknown-id")}})
	r, err := w.signed(ctx, e.cfg.callTimeout, ps.batch, body, nil)
	if err != nil {
		return "", err
	}
	var out struct {
		Results []struct {
			Value json.RawMessage `json:"value"`
			Error json.RawMessage `json:"error"`
		} `json:"results"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || len(out.Results) != 2 {
		return "", fmt.Errorf("a batch with an unknown id: status %d, body %.200q", r.status, r.body)
	}
	if len(out.Results[1].Value) > 0 {
		return "", fmt.Errorf("the unknown id's item has a value: %s", out.Results[1].Value)
	}
	if err := errorShape(out.Results[1].Error, connectors.KindNotFound); err != nil {
		return "", fmt.Errorf("the unknown id's item: %w", err)
	}
	return "bad cursor 400, malformed body 400, unknown operation 404 and an unknown batch item: each {code, message, retryable}", nil
}

func checkSignatureWire(ctx context.Context, e *env) (string, error) {
	w, p := e.cfg.wire, pathsOf(e.desc.Vertical).search
	body := []byte(`{"first":1}`)
	refused := func(what string, h http.Header) error {
		r, err := w.send(ctx, e.cfg.callTimeout, request{path: p, body: body, headers: h})
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := expectError(r, http.StatusUnauthorized, connectors.KindUnauthenticated); err != nil {
			return fmt.Errorf("%s was not refused: %w", what, err)
		}
		return nil
	}
	if err := refused("an unsigned request", http.Header{"Content-Type": {"application/json"}}); err != nil {
		return "", err
	}
	if err := refused("a request signed with another secret", w.signedHeaders(w.secret+"-wrong", p, body)); err != nil {
		return "", err
	}
	// v3 covers the query string: one added in flight breaks the signature.
	if r, err := w.send(ctx, e.cfg.callTimeout, request{path: p + "?first=100", body: body, headers: w.signedHeaders(w.secret, p, body)}); err != nil {
		return "", fmt.Errorf("a v3 request with a query string added after signing: %w", err)
	} else if err := expectError(r, http.StatusUnauthorized, connectors.KindUnauthenticated); err != nil {
		return "", fmt.Errorf("a v3 request with a query string added after signing was not refused: %w", err)
	}
	// v3 covers Plaza-Provider: a request redirected to another provider
	// sharing the endpoint and the secret breaks the signature.
	tampered := w.signedHeaders(w.secret, p, body)
	tampered[httpprovider.HeaderProvider] = []string{w.provider + "-other"}
	if err := refused("a v3 request whose Plaza-Provider was changed after signing", tampered); err != nil {
		return "", err
	}
	h := w.signedHeaders(w.secret, p, body)
	r, err := w.send(ctx, e.cfg.callTimeout, request{path: p, body: body, headers: h})
	if err != nil {
		return "", fmt.Errorf("a signed request: %w", err)
	}
	if r.status != http.StatusOK {
		return "", fmt.Errorf("a correctly signed (v3) request: status %d (body %.120q)", r.status, r.body)
	}
	if err := refused("the same signed request sent again (a replay)", h); err != nil {
		return "", err
	}
	return "v3 signed request accepted; unsigned, wrong-secret, query-tampered, provider-tampered and replayed requests refused with 401 UNAUTHENTICATED", nil
}

func checkResponseSizeWire(ctx context.Context, e *env, ids []string) (string, error) {
	body, _ := json.Marshal(map[string][]string{"ids": ids})
	p := pathsOf(e.desc.Vertical).batch
	r, err := e.cfg.wire.signed(ctx, e.cfg.callTimeout, p, body, nil)
	if err != nil {
		return "", fmt.Errorf("a batch of %d: %w", len(ids), err)
	}
	if r.size > e.cfg.maxResp {
		return "", fmt.Errorf("a batch of %d answered more than the %d-byte cap", len(ids), e.cfg.maxResp)
	}
	if r.status != http.StatusOK {
		return "", fmt.Errorf("a batch of %d (the declared maximum): status %d (body %.120q)", len(ids), r.status, r.body)
	}
	return fmt.Sprintf("a batch of %d answered %d bytes (cap %d)", len(ids), r.size, e.cfg.maxResp), nil
}
