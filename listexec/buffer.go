package listexec

import (
	"bytes"
	"context"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Marshal replaces data.MarshalGQL(buf) in the generated executor's Exec
// (see cmd/rewrite, rule buffer): it writes the operation's data into buf
// sized, before the first byte, from the last answer to the same document.
// The executor's buffer otherwise starts at 64 bytes and doubles: an answer
// of 11 KB cost 43 KB of buffers, the largest single item of a list query's
// bytes.
//
// When ctx carries an Output (WithOutput) that holds nothing yet, buf
// starts from a pooled array instead, which the Output holds until its
// Release: a list of 50's answer is still 12 KB allocated per request
// however well sized.
//
// The document is the one gqlgen's query cache hands every request with the
// same query text, so its address names it; the hints live in a fixed table
// indexed by that address, so they cost the same memory however many
// documents come and go. A collision, or an address reused by a later
// document, only gives a wrong size to start from. Operations with @defer
// write several payloads into their buffers and take no hint.
func Marshal(ctx context.Context, oc *graphql.OperationContext, data graphql.Marshaler, buf *bytes.Buffer) {
	var o *Output
	// A subscription's handler marshals every event into one buffer: it
	// takes none from the pool.
	if ctx != nil && buf.Cap() == 0 && (oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription) {
		if o, _ = ctx.Value(outputKey{}).(*Output); o != nil && o.p == nil {
			o.p = outputs.Get().(*[]byte)
			*buf = *bytes.NewBuffer((*o.p)[:0])
		} else {
			o = nil
		}
	}
	marshalSized(oc, data, buf)
	if o != nil {
		// The array the data ended in (a larger one if it grew).
		*o.p = buf.Bytes()
	}
}

// marshalSized is Marshal into buf as it is given.
func marshalSized(oc *graphql.OperationContext, data graphql.Marshaler, buf *bytes.Buffer) {
	h, doc := hintFor(oc)
	if h == nil {
		data.MarshalGQL(buf)
		return
	}
	if h.doc.Load() == doc {
		if n := h.size.Load(); n > 0 {
			buf.Grow(int(n + n/16))
		}
	}
	data.MarshalGQL(buf)
	h.doc.Store(doc)
	h.size.Store(int64(min(buf.Len(), maxHint)))
}

// Output lends the buffer one operation's data is marshalled into (see
// Marshal) to whoever writes the response: the data is dead once written,
// and Release returns its array to the pool.
type Output struct {
	p *[]byte // the pooled array, once Marshal took one
}

type outputKey struct{}

// outputCtx carries an Output: the context and the Output in one
// allocation.
type outputCtx struct {
	context.Context
	out Output
}

func (c *outputCtx) Value(key any) any {
	if key == (outputKey{}) {
		return &c.out
	}
	return c.Context.Value(key)
}

// WithOutput returns ctx carrying a new Output, and that Output: the
// operation run under the context marshals its data into a pooled buffer
// that the Output holds until its Release. Only a caller that has read the
// response's data before Release, and keeps none of it, may use one.
func WithOutput(ctx context.Context) (context.Context, *Output) {
	c := &outputCtx{Context: ctx}
	return c, &c.out
}

// Release returns the data's array to the pool; the response's data must
// not be read after it. It is a no-op when Marshal took no array.
func (o *Output) Release() {
	p := o.p
	if p == nil {
		return
	}
	o.p = nil
	if cap(*p) > maxPooledOutput {
		return // left to the collector
	}
	*p = (*p)[:0]
	outputs.Put(p)
}

// outputs are the arrays operations' data is marshalled into.
var outputs = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledOutput bounds the arrays kept in outputs.
const maxPooledOutput = 256 << 10

// maxHint bounds what a hint reserves.
const maxHint = 1 << 20

type sizeHint struct {
	doc  atomic.Uintptr
	size atomic.Int64
}

var hints [256]sizeHint

func hintFor(oc *graphql.OperationContext) (*sizeHint, uintptr) {
	if oc == nil || oc.Doc == nil || !noDefer(oc) {
		return nil, 0
	}
	doc := reflect.ValueOf(oc.Doc).Pointer()
	// Fibonacci hashing: the top 8 bits of the address times 2^64/φ.
	return &hints[uint64(doc)*0x9E3779B97F4A7C15>>56], doc
}
