package limits

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Middleware caps request bodies at MaxBodyBytes before any other handler
// reads them: a declared Content-Length past the cap is answered 413 without
// reading a byte; otherwise the body is wrapped in http.MaxBytesReader, whose
// error the POST transport turns into 413 REQUEST_TOO_LARGE.
func (g *Guard) Middleware(next http.Handler) http.Handler {
	limit := g.cfg.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limit >= 0 && r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > limit {
				writeErrors(w, responseMedia(r), g.bodyTooLarge())
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

func (g *Guard) bodyTooLarge() *gqlerror.Error {
	return errorf(CodeRequestTooLarge, "the request body is larger than %d bytes", g.cfg.MaxBodyBytes)
}

// Transports returns the gqlgen transports for GraphQL over HTTP, in the
// order to add them after transport.Options: POST (application/json), GET
// (queries only), and a last one that answers every other request with 405
// or 415. They decode with the size limits, run the per-document checks
// before gqlgen parses, and choose status codes as statusFor documents.
func (g *Guard) Transports() []graphql.Transport {
	return []graphql.Transport{postTransport{g}, getTransport{g}, rejectTransport{}}
}

// postBody is a GraphQL-over-HTTP POST body; variables stay raw until their
// size is checked.
type postBody struct {
	Query         string          `json:"query"`
	OperationName string          `json:"operationName"`
	Variables     json.RawMessage `json:"variables"`
	Extensions    map[string]any  `json:"extensions"`
}

type postTransport struct{ g *Guard }

func (postTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && isJSON(r.Header.Get("Content-Type")) && r.Header.Get("Upgrade") == ""
}

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx, media := r.Context(), responseMedia(r)
	start := graphql.Now()
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			t.g.fail(ctx, w, exec, media, t.g.bodyTooLarge())
			return
		}
		t.g.fail(ctx, w, exec, media, errorf(CodeBadRequest, "could not read the request body"))
		return
	}
	var body postBody
	if err := json.Unmarshal(raw, &body); err != nil {
		// The body is not echoed back: it may be large, or personal.
		t.g.fail(ctx, w, exec, media, errorf(CodeBadRequest, "the request body could not be decoded as JSON: %s", jsonProblem(err)))
		return
	}
	params := &graphql.RawParams{Query: body.Query, OperationName: body.OperationName, Extensions: body.Extensions, Headers: r.Header}
	if gqlErr := t.g.decodeVariables(body.Variables, &params.Variables); gqlErr != nil {
		t.g.fail(ctx, w, exec, media, gqlErr)
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	t.g.execute(ctx, w, exec, media, params, false)
}

type getTransport struct{ g *Guard }

func (getTransport) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx, media := r.Context(), responseMedia(r)
	start := graphql.Now()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		t.g.fail(ctx, w, exec, media, errorf(CodeBadRequest, "the URL query string is malformed"))
		return
	}
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName"), Headers: r.Header}
	if gqlErr := t.g.decodeVariables(json.RawMessage(q.Get("variables")), &params.Variables); gqlErr != nil {
		t.g.fail(ctx, w, exec, media, gqlErr)
		return
	}
	if ext := q.Get("extensions"); ext != "" {
		if err := json.Unmarshal([]byte(ext), &params.Extensions); err != nil {
			t.g.fail(ctx, w, exec, media, errorf(CodeBadRequest, "extensions is not a JSON object: %s", jsonProblem(err)))
			return
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	t.g.execute(ctx, w, exec, media, params, true)
}

// decodeVariables checks the size of the raw variables JSON, then decodes
// it (numbers kept exact, as gqlgen's own transports do).
func (g *Guard) decodeVariables(raw json.RawMessage, into *map[string]any) *gqlerror.Error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if exceeds(len(raw), g.cfg.MaxVariablesBytes) {
		return errorf(CodeVariablesTooLarge, "variables are %d bytes of JSON; the limit is %d", len(raw), g.cfg.MaxVariablesBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(into); err != nil {
		return errorf(CodeBadRequest, "variables must be a JSON object: %s", jsonProblem(err))
	}
	return nil
}

// execute runs the checks that need the document, then gqlgen's own
// (parse, validation, variable coercion, complexity), then the operation.
func (g *Guard) execute(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, media string, params *graphql.RawParams, queryOnly bool) {
	if err := g.checkRequest(ctx, params); err != nil {
		g.fail(ctx, w, exec, media, err)
		return
	}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		writeResponse(w, media, statusFor(errs, media), exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs))
		return
	}
	if queryOnly && opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", http.MethodPost)
		g.fail(ctx, w, exec, media, errorf(CodeMethodNotAllowed, "a %s must be sent with POST; GET only runs queries", opCtx.Operation.Operation))
		return
	}
	release, err := g.admit(ctx, opCtx)
	if err != nil {
		w.Header().Set("Retry-After", "1")
		g.fail(ctx, w, exec, media, err)
		return
	}
	defer release()
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	writeResponse(w, media, http.StatusOK, responses(ctx))
}

// fail answers with err alone, through gqlgen's error path so the error
// presenter and response extensions still apply.
func (g *Guard) fail(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, media string, err *gqlerror.Error) {
	list := gqlerror.List{err}
	writeResponse(w, media, statusFor(list, media), exec.DispatchError(ctx, list))
}

// rejectTransport is the last transport: whatever POST and GET did not take.
type rejectTransport struct{}

func (rejectTransport) Supports(*http.Request) bool { return true }

func (rejectTransport) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	media := responseMedia(r)
	if r.Method == http.MethodPost {
		writeErrors(w, media, errorf(CodeUnsupportedMediaType, "POST bodies must be application/json, not %q", r.Header.Get("Content-Type")))
		return
	}
	w.Header().Set("Allow", "GET, POST, OPTIONS")
	writeErrors(w, media, errorf(CodeMethodNotAllowed, "method %s is not allowed; use GET or POST", r.Method))
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
	b, err := encodeResponse(resp)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}`)
	}
	w.Header().Set("Content-Type", media)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// encodeResponse is json.Marshal(resp) without re-scanning resp.Data: the
// executor wrote that JSON itself, and encoding/json would validate and
// compact the whole of it again as a json.RawMessage (4% of the gateway's
// CPU on a list of 50). The other members are marshalled as before, in the
// struct's order.
func encodeResponse(resp *graphql.Response) ([]byte, error) {
	if len(resp.Data) == 0 {
		return json.Marshal(resp)
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
	out := make([]byte, 0, len(tail)+len(resp.Data)+64)
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
