package httpprovider

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	gojson "github.com/goccy/go-json"

	"github.com/plaza-gateway/plaza/connectors"
)

// decodeReply decodes a provider's reply body: exactly one JSON value into v,
// refusing unknown fields and trailing data, as decodeStrict does for
// requests. It uses goccy/go-json rather than encoding/json because reply
// decoding is the gateway's hot path: with it and batchReply's one-pass
// decoding a 50-product reply costs the client 82 us instead of 397 us
// (BenchmarkProductsReply, GOMAXPROCS=1).
// The provider-side handler keeps encoding/json, whose error messages it
// returns to integrators.
//
// The body is decoded whole, from its bytes (gojson.UnmarshalWithOption):
// goccy's Decoder reads its input 512 bytes at a time and decodes a value
// longer than that element by element, indexing its brackets as it goes.
// A body that fails is decoded again by a Decoder, into a zeroed v, so that
// the error (and whatever a caller makes of v) is the Decoder's, as before.
//
// A decoder panic (a malformed reply should never cause one, but the reply
// is untrusted input and FuzzProviderReply drives it) is returned as an
// error: one provider's bad bytes must not take the gateway down.
func decodeReply(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("undecodable reply: %v", r)
		}
	}()
	if gojson.UnmarshalWithOption(data, v, disallowUnknownFields) == nil {
		return nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv.Elem().SetZero()
	}
	return decodeStream(data, v)
}

// decodeStream is decodeReply by goccy's Decoder: its errors are the ones
// the gateway has always reported.
func decodeStream(data []byte, v any) error {
	dec := gojson.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) != 0 {
		return errors.New("trailing data after JSON value")
	}
	return nil
}

// disallowUnknownFields is what Decoder.DisallowUnknownFields sets, as an
// option of gojson.UnmarshalWithOption, which has no option of its own for
// it: read from a Decoder once the method has set it.
var disallowUnknownFields = func() gojson.DecodeOptionFunc {
	var set gojson.DecodeOption
	dec := gojson.NewDecoder(strings.NewReader("{}"))
	dec.DisallowUnknownFields()
	var v struct{}
	if err := dec.DecodeWithOption(&v, func(o *gojson.DecodeOption) { set.Flags = o.Flags }); err != nil {
		panic("httpprovider: reading goccy/go-json's DisallowUnknownFields: " + err.Error())
	}
	flags := set.Flags
	return func(o *gojson.DecodeOption) { o.Flags |= flags }
}()

// replyValue is a batch item's value as the client reads it: set records
// that the key was present, so a present-but-null value ("this store has no
// slots") is told apart from a missing one (a malformed reply), in one pass
// over the reply.
type replyValue[T any] struct {
	set bool
	v   T
}

func (o *replyValue[T]) UnmarshalJSON(b []byte) error {
	o.set = true
	return decodeReply(b, &o.v)
}

type replyResult[T any] struct {
	Value replyValue[T] `json:"value"`
	Error *wireError    `json:"error"`
}

// batchReply is a batch reply as batchChunk reads it. Telling a null value
// from a missing one takes a decoder per item (replyValue), which cost half
// of a 50-product reply's decoding; so the reply is first decoded in one
// pass with plain pointers (fast), and decoded again the exact way (exact)
// only when an item has neither a value nor an error (a null value, or a
// malformed item). Items are read where they were decoded (len, at), not
// copied into one form.
//
// When the caller gives into (its results, one per ID asked for) and idOf,
// a first pass decodes each value straight into into[i].Value: the decoder
// fills a pointer it finds set in place, so the values are neither
// allocated one by one nor copied out. That pass cannot see whether a value
// was present, only what it holds: it stands only if every item has no
// error and a value with an ID (a value for a requested key has one; a
// slot left as it was has none). Any other reply (an item error, a null, a
// missing value) is decoded again, from scratch, by the passes above, so
// its results and errors are theirs (item errors are the exception in a
// batch).
type batchReply[T any] struct {
	// want is how many items the request asked for: the fast pass decodes
	// into that much room, without growing its slice item by item.
	want  int
	into  []connectors.Result[T]
	idOf  func(T) string
	fast  []fastResult[T]
	exact []replyResult[T]
}

type fastResult[T any] struct {
	Value *T         `json:"value"`
	Error *wireError `json:"error"`
}

// replyDecoder is a reply type that decodes its body itself (Client.call).
type replyDecoder interface {
	decodeReplyBody(body []byte) error
}

func (r *batchReply[T]) decodeReplyBody(b []byte) error {
	if len(r.into) > 0 && r.idOf != nil && r.decodeInPlace(b) {
		return nil
	}
	clear(r.into)
	var fast struct {
		Results []fastResult[T] `json:"results"`
	}
	if r.want > 0 {
		fast.Results = make([]fastResult[T], 0, r.want)
	}
	if err := decodeReply(b, &fast); err != nil {
		return err
	}
	for _, f := range fast.Results {
		if f.Value == nil && f.Error == nil {
			var exact struct {
				Results []replyResult[T] `json:"results"`
			}
			if err := decodeReply(b, &exact); err != nil {
				return err
			}
			r.exact = exact.Results
			if r.exact == nil {
				r.exact = []replyResult[T]{}
			}
			return nil
		}
	}
	r.fast = fast.Results
	return nil
}

// decodeInPlace is the first pass (see batchReply): it reports whether
// the reply had, for every item asked for, a value with an ID and no error.
func (r *batchReply[T]) decodeInPlace(b []byte) bool {
	var fast struct {
		Results []fastResult[T] `json:"results"`
	}
	fast.Results = make([]fastResult[T], len(r.into))
	for i := range r.into {
		fast.Results[i].Value = &r.into[i].Value
	}
	fast.Results = fast.Results[:0]
	if decodeReply(b, &fast) != nil || len(fast.Results) != len(r.into) {
		return false
	}
	for i, f := range fast.Results {
		if f.Value != &r.into[i].Value || f.Error != nil || r.idOf(*f.Value) == "" {
			return false
		}
	}
	r.fast = fast.Results
	return true
}

// len is the number of items in the reply.
func (r *batchReply[T]) len() int {
	if r.exact != nil {
		return len(r.exact)
	}
	return len(r.fast)
}

// at returns item i: its value (nil when the key was absent) and its error.
func (r *batchReply[T]) at(i int) (value *T, err *wireError) {
	if r.exact != nil {
		e := &r.exact[i]
		if e.Value.set {
			value = &e.Value.v
		}
		return value, e.Error
	}
	return r.fast[i].Value, r.fast[i].Error
}
