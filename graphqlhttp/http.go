// Package graphqlhttp serves GraphQL over HTTP: gqlgen transports for POST
// (single operations and batches), GET (queries only) and a last one that
// answers every other request 405 or 415, plus the middleware that caps and
// times request bodies. It chooses status codes and media types as the
// GraphQL-over-HTTP spec says (statusFor), and asks the request limits
// (package limits) to check each document and admit each operation before
// it runs.
package graphqlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plaza-gateway/plaza/limits"
	"github.com/plaza-gateway/plaza/listexec"
)

// Middleware caps request bodies at MaxBodyBytes before any other handler
// reads them: a declared Content-Length past the cap is answered 413 without
// reading a byte; otherwise the body is wrapped in http.MaxBytesReader, whose
// error the POST transport turns into 413 REQUEST_TOO_LARGE.
//
// It also gives the body BodyReadTimeout to arrive, as a read deadline on
// this request's connection (http.ResponseController), cleared once the body
// has been read: a client trickling its body gets 408 REQUEST_TIMEOUT and a
// closed connection. A server-wide ReadTimeout would do the same for every
// request but would also cut long-lived streams (subscriptions).
func (s *Server) Middleware(next http.Handler) http.Handler {
	limit, timeout := s.cfg.MaxBodyBytes, s.cfg.BodyReadTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		if limit >= 0 && r.ContentLength > limit {
			writeErrors(w, responseMedia(r), s.bodyTooLarge())
			return
		}
		if timeout > 0 {
			rc := http.NewResponseController(w)
			// ErrNotSupported (a writer that cannot reach its connection)
			// leaves the body without a deadline rather than failing.
			if rc.SetReadDeadline(time.Now().Add(timeout)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		if limit >= 0 {
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// deadlineBody clears the connection's read deadline once the body has been
// read to its end, so the deadline bounds the body only: not the response,
// nor the connection's next request (the server sets its own deadline for
// those headers). A body left unread keeps the deadline, which also bounds
// the server's drain of it after the handler returns.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func (s *Server) bodyTimeout() *gqlerror.Error {
	return errorf(limits.CodeRequestTimeout, "the request body did not arrive within %s", s.cfg.BodyReadTimeout)
}

func (s *Server) bodyTooLarge() *gqlerror.Error {
	return errorf(limits.CodeRequestTooLarge, "the request body is larger than %d bytes", s.cfg.MaxBodyBytes)
}

// Transports returns the gqlgen transports for GraphQL over HTTP, in the
// order to add them after transport.Options: POST (application/json), GET
// (queries only), and a last one that answers every other request with 405
// or 415. They decode with the size limits, run the per-document checks
// before gqlgen parses, and choose status codes as statusFor documents.
func (s *Server) Transports() []graphql.Transport {
	return []graphql.Transport{postTransport{s}, getTransport{s}, rejectTransport{}}
}

// postBody is a GraphQL-over-HTTP POST body; variables stay raw until their
// size is checked.
type postBody struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    map[string]any  `json:"extensions"`
}

type postTransport struct{ s *Server }

func (postTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && isJSON(r.Header.Get("Content-Type")) && r.Header.Get("Upgrade") == ""
}

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx, media := r.Context(), responseMedia(r)
	start := graphql.Now()
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			t.s.fail(ctx, w, exec, media, t.s.bodyTooLarge())
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// The connection cannot be reused (its body is half read); the
			// server closes it after this answer.
			w.Header().Set("Connection", "close")
			t.s.fail(ctx, w, exec, media, t.s.bodyTimeout())
			return
		}
		t.s.fail(ctx, w, exec, media, errorf(limits.CodeBadRequest, "could not read the request body"))
		return
	}
	if first := bytes.TrimLeft(raw, " \t\r\n"); len(first) > 0 && first[0] == '[' {
		t.s.batch(ctx, w, r, exec, media, raw, graphql.TraceTiming{Start: start, End: graphql.Now()})
		return
	}
	var body postBody
	if err := unmarshal(raw, &body); err != nil {
		// The body is not echoed back: it may be large, or personal.
		t.s.fail(ctx, w, exec, media, errorf(limits.CodeBadRequest, "the request body could not be decoded as JSON: %s", jsonProblem(err)))
		return
	}
	params := &graphql.RawParams{Query: body.Query, OperationName: body.OperationName, Extensions: body.Extensions, Headers: r.Header}
	if gqlErr := t.s.decodeVariables(body.Variables, &params.Variables); gqlErr != nil {
		t.s.fail(ctx, w, exec, media, gqlErr)
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	t.s.execute(ctx, w, exec, media, params, false)
}

type getTransport struct{ s *Server }

func (getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx, media := r.Context(), responseMedia(r)
	start := graphql.Now()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		t.s.fail(ctx, w, exec, media, errorf(limits.CodeBadRequest, "the URL query string is malformed"))
		return
	}
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName"), Headers: r.Header}
	if gqlErr := t.s.decodeVariables(json.RawMessage(q.Get("variables")), &params.Variables); gqlErr != nil {
		t.s.fail(ctx, w, exec, media, gqlErr)
		return
	}
	if ext := q.Get("extensions"); ext != "" {
		if err := json.Unmarshal([]byte(ext), &params.Extensions); err != nil {
			t.s.fail(ctx, w, exec, media, errorf(limits.CodeBadRequest, "extensions is not a JSON object: %s", jsonProblem(err)))
			return
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	t.s.execute(ctx, w, exec, media, params, true)
}

// decodeVariables checks the size of the raw variables JSON, then decodes
// it (numbers kept exact, as gqlgen's own transports do).
func (s *Server) decodeVariables(raw json.RawMessage, into *map[string]any) *gqlerror.Error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if exceeds(len(raw), s.cfg.MaxVariablesBytes) {
		return errorf(limits.CodeVariablesTooLarge, "variables are %d bytes of JSON; the limit is %d", len(raw), s.cfg.MaxVariablesBytes)
	}
	if err := unmarshalVariables(raw, into); err != nil {
		return errorf(limits.CodeBadRequest, "variables must be a JSON object: %s", jsonProblem(err))
	}
	return nil
}

// execute runs the checks that need the document, then gqlgen's own
// (parse, validation, variable coercion, complexity), then the operation.
func (s *Server) execute(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, media string, params *graphql.RawParams, queryOnly bool) {
	op := s.prepare(ctx, exec, params, queryOnly)
	if op.refused != nil {
		if op.allow != "" {
			w.Header().Set("Allow", op.allow)
		}
		writeResponse(w, media, statusFor(op.refused.Errors, media), op.refused)
		return
	}
	// The data is marshalled into a pooled buffer, which writeResponse
	// copies out of before it is released: nothing after this reads it.
	var out *listexec.Output
	op.ctx, out = listexec.WithOutput(op.ctx)
	defer out.Release()
	resp := s.run(op, exec)
	status := http.StatusOK
	if len(resp.Data) == 0 { // refused by admission
		w.Header().Set("Retry-After", "1")
		status = statusFor(resp.Errors, media)
	}
	writeResponse(w, media, status, resp)
}

// operation is one operation ready to run, or the response refusing it.
type operation struct {
	ctx     context.Context
	op      *graphql.OperationContext
	refused *graphql.Response // non-nil: answer this, nothing runs
	allow   string            // the Allow header of a refusal, if any
}

// prepare runs every check of one operation that needs no execution: the
// per-document limits, then gqlgen's parse, validation, variable coercion
// and operation-context mutators (complexity, introspection, persisted
// queries).
func (s *Server) prepare(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams, queryOnly bool) operation {
	if s.opContext != nil {
		ctx = s.opContext(ctx)
	}
	if err := s.limits.CheckRequest(ctx, params); err != nil {
		return operation{refused: exec.DispatchError(ctx, gqlerror.List{err})}
	}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		return operation{refused: exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)}
	}
	if queryOnly && opCtx.Operation.Operation != ast.Query {
		err := errorf(limits.CodeMethodNotAllowed, "a %s must be sent with POST; GET only runs queries", opCtx.Operation.Operation)
		return operation{refused: exec.DispatchError(ctx, gqlerror.List{err}), allow: http.MethodPost}
	}
	return operation{ctx: ctx, op: opCtx}
}

// run waits for admission, then executes op. A response without data is
// the admission's refusal (OVERLOADED).
func (s *Server) run(op operation, exec graphql.GraphExecutor) *graphql.Response {
	release, err := s.limits.Admit(op.ctx, op.op)
	if err != nil {
		return exec.DispatchError(op.ctx, gqlerror.List{err})
	}
	defer release()
	responses, ctx := exec.DispatchOperation(op.ctx, op.op)
	if resp := executed(responses(ctx)); resp != nil {
		return resp
	}
	// gqlgen answers a context that ended before the operation ran with no
	// response (its end of stream): say so rather than write nothing.
	e := errorf(limits.CodeOverloaded, "the request ended before its operation could run; retry shortly")
	e.Extensions["retryable"] = true
	return exec.DispatchError(op.ctx, gqlerror.List{e})
}

// SetOperationContext sets f to derive each operation's context from its
// request's, so that what is kept per operation (statistics, response
// extensions) stays apart between the operations of one batch.
func (s *Server) SetOperationContext(f func(context.Context) context.Context) { s.opContext = f }

// SetBatchCharge sets f to charge the operations of a batch beyond the
// first to the caller's rate limit, each counting like a request; f returns
// false, with how long to wait, when the caller has no room for them.
// Without it batches are charged as one request.
func (s *Server) SetBatchCharge(f func(ctx context.Context, extra int) (retryAfter time.Duration, ok bool)) {
	s.batchCharge = f
}

// batch answers a JSON array of operations (Apollo's BatchHttpLink, urql's
// batch exchange) with a JSON array of their responses, in order. Each
// operation gets every check, admission and error presentation of a single
// one, and its own refusal inside the array. The batch as a whole is refused
// (one error, no array) past MaxBatch operations (400 BATCH_TOO_LARGE), past
// MaxBatchComplexity for the sum of its operations' complexity (400
// BATCH_TOO_COMPLEX, nothing runs), or when the caller's rate limit has no
// room for all of its operations (429 RATE_LIMITED).
func (s *Server) batch(ctx context.Context, w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, media string, raw []byte, read graphql.TraceTiming) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		s.fail(ctx, w, exec, media, errorf(limits.CodeBadRequest, "the request body could not be decoded as JSON: %s", jsonProblem(err)))
		return
	}
	switch {
	case len(items) == 0:
		s.fail(ctx, w, exec, media, errorf(limits.CodeBadRequest, "the batch has no operations"))
		return
	case exceeds(len(items), s.cfg.MaxBatch):
		s.fail(ctx, w, exec, media, errorf(limits.CodeBatchTooLarge, "the batch has %d operations; the limit is %d", len(items), s.cfg.MaxBatch))
		return
	}
	if s.batchCharge != nil && len(items) > 1 {
		if wait, ok := s.batchCharge(ctx, len(items)-1); !ok {
			secs := max(int(math.Ceil(wait.Seconds())), 1)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			e := errorf(limits.CodeRateLimited, "too many requests: the %d operations of this batch exceed your rate limit; retry in %d s", len(items), secs)
			e.Extensions["retryAfterMs"] = wait.Milliseconds()
			s.fail(ctx, w, exec, media, e)
			return
		}
	}
	ops := make([]operation, len(items))
	total, mutates := 0, false
	for i, item := range items {
		params, gqlErr := s.decodeBatchItem(item, r.Header, read)
		if gqlErr != nil {
			ops[i] = operation{refused: exec.DispatchError(ctx, gqlerror.List{gqlErr})}
			continue
		}
		ops[i] = s.prepare(ctx, exec, params, false)
		if ops[i].refused == nil {
			total += limits.Cost(ops[i].op) // each at most MaxInt32: no int64 overflow in a body-sized batch
			mutates = mutates || ops[i].op.Operation.Operation == ast.Mutation
		}
	}
	if exceeds(total, s.cfg.MaxBatchComplexity) {
		s.fail(ctx, w, exec, media, errorf(limits.CodeBatchTooComplex,
			"the operations of this batch have a total complexity of %d, which exceeds the limit of %d; send fewer or smaller operations", total, s.cfg.MaxBatchComplexity))
		return
	}
	out := make([]*graphql.Response, len(ops))
	runOne := func(i int) {
		if ops[i].refused != nil {
			out[i] = ops[i].refused
			return
		}
		out[i] = s.run(ops[i], exec)
	}
	if mutates {
		// Mutations may depend on one another (the app batches what it sends
		// within a few milliseconds): run in order, as the client sent them.
		for i := range ops {
			runOne(i)
		}
	} else {
		var wg sync.WaitGroup
		for i := range ops {
			wg.Go(func() { runOne(i) })
		}
		wg.Wait()
	}
	writeBatch(w, media, out)
}

// decodeBatchItem decodes one operation of a batch like a POST body.
func (s *Server) decodeBatchItem(item json.RawMessage, header http.Header, read graphql.TraceTiming) (*graphql.RawParams, *gqlerror.Error) {
	var body postBody
	if err := unmarshal(item, &body); err != nil {
		return nil, errorf(limits.CodeBadRequest, "this operation could not be decoded: %s", jsonProblem(err))
	}
	params := &graphql.RawParams{Query: body.Query, OperationName: body.OperationName, Extensions: body.Extensions, Headers: header, ReadTime: read}
	if gqlErr := s.decodeVariables(body.Variables, &params.Variables); gqlErr != nil {
		return nil, gqlErr
	}
	return params, nil
}

// writeBatch writes the responses of a batch as one JSON array (200: each
// element carries its own errors).
func writeBatch(w http.ResponseWriter, media string, resps []*graphql.Response) {
	out := []byte{'['}
	for i, resp := range resps {
		b, err := encodeResponse(resp)
		if err != nil {
			b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	out = append(out, ']')
	w.Header().Set("Content-Type", media)
	setLength(w, len(out))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// executed marks resp as the result of an execution: its `data` member is
// always present (null when the operation failed as a whole), while a
// response that was never executed (a request error) has none.
func executed(resp *graphql.Response) *graphql.Response {
	if resp != nil && len(resp.Data) == 0 {
		resp.Data = json.RawMessage("null")
	}
	return resp
}

// fail answers with err alone, through gqlgen's error path so the error
// presenter and response extensions still apply.
func (s *Server) fail(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, media string, err *gqlerror.Error) {
	list := gqlerror.List{err}
	writeResponse(w, media, statusFor(list, media), exec.DispatchError(ctx, list))
}

// rejectTransport is the last transport: whatever POST and GET did not take.
type rejectTransport struct{}

func (rejectTransport) Supports(*http.Request) bool { return true }

func (rejectTransport) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	media := responseMedia(r)
	if r.Method == http.MethodPost {
		writeErrors(w, media, errorf(limits.CodeUnsupportedMediaType, "POST bodies must be application/json, not %q", r.Header.Get("Content-Type")))
		return
	}
	w.Header().Set("Allow", "GET, POST, OPTIONS")
	writeErrors(w, media, errorf(limits.CodeMethodNotAllowed, "method %s is not allowed; use GET or POST", r.Method))
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == mediaJSON
}

// responseMedia negotiates the response media type from Accept: the first
// of the two GraphQL-over-HTTP types it names; application/json when it
// names neither (or is absent), as legacy clients expect.
func responseMedia(r *http.Request) string {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mediaGraphQLResponse:
			return mediaGraphQLResponse
		case mediaJSON:
			return mediaJSON
		}
	}
	return mediaJSON
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field != "" {
			return "field " + te.Field + " must not be a JSON " + te.Value
		}
		return "expected an object, got a JSON " + te.Value
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of JSON"
	}
	return "invalid JSON"
}

func writeErrors(w http.ResponseWriter, media string, errs ...*gqlerror.Error) {
	writeResponse(w, media, statusFor(errs, media), &graphql.Response{Errors: errs})
}

func writeResponse(w http.ResponseWriter, media string, status int, resp *graphql.Response) {
	buf := responses.Get().(*[]byte)
	defer responses.Put(buf)
	b, err := appendResponse((*buf)[:0], resp)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	} else if cap(b) <= maxPooledResponse {
		*buf = b
	}
	w.Header().Set("Content-Type", media)
	setLength(w, len(b))
	w.WriteHeader(status)
	_, _ = w.Write(b) // an io.Writer keeps no part of b
}

// responses are the buffers writeResponse encodes into: a response is dead
// once written, and the copy of a list of 50's data (11 KB) was a
// thirtieth of the bytes its request allocated. A buffer past
// maxPooledResponse is left to the collector.
var responses = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledResponse = 256 << 10

// setLength declares the body's length. The body is written whole, in one
// Write: with its length known, net/http sends it as it is, where it would
// otherwise send a body past its 2 KiB buffer in chunks (on the list of 50,
// 5.1 write syscalls per query instead of 4.0).
func setLength(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Length", strconv.Itoa(n))
}

// requestErrorBody is the response to a request that was not executed.
type requestErrorBody struct {
	Errors     gqlerror.List  `json:"errors"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// encodeResponse is json.Marshal(resp) without re-scanning resp.Data: the
// executor wrote that JSON itself, and encoding/json would validate and
// compact the whole of it again as a json.RawMessage (4% of the gateway's
// CPU on a list of 50). The other members are marshalled as before, in the
// struct's order.
func encodeResponse(resp *graphql.Response) ([]byte, error) {
	return appendResponse(nil, resp)
}

// appendResponse is encodeResponse appending to dst.
func appendResponse(dst []byte, resp *graphql.Response) ([]byte, error) {
	if len(resp.Data) == 0 {
		// Not executed: a request error has no `data` member at all
		// (GraphQL over HTTP), where gqlgen would write "data": null.
		b, err := json.Marshal(requestErrorBody{Errors: resp.Errors, Extensions: resp.Extensions})
		return append(dst, b...), err
	}
	// The members after data, marshalled with errors and data left out so
	// that the encoding starts with `{"data":null`.
	rest := *resp
	rest.Errors, rest.Data = nil, nil
	tail, err := json.Marshal(rest)
	if err != nil {
		return nil, err
	}
	const head = `{"data":null`
	if !bytes.HasPrefix(tail, []byte(head)) {
		return nil, errors.New("encodeResponse: unexpected encoding of the response")
	}
	out := slices.Grow(dst, len(tail)+len(resp.Data)+64)
	out = append(out, '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return nil, err
		}
		out = append(out, `"errors":`...)
		out = append(append(out, errs...), ',')
	}
	out = append(append(out, `"data":`...), resp.Data...)
	return append(out, tail[len(head):]...), nil
}
