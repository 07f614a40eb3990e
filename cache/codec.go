package cache

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Codec turns the gateway's canonical Go values into cache bytes and back.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

var (
	_ Codec = JSONCodec{}
	_ Codec = MsgpackCodec{}
)

// DefaultCodec is the codec Plaza stores values with.
//
// MessagePack won BenchmarkCodec in codec_test.go (a 12-field product with strings, a tag slice and int64 money),
// measured with -benchmem on the 2-core AMD EPYC dev box, medians of 5 runs:
//
//	           marshal                 unmarshal                encoded size
//	json       ~1.1 µs  560 B  2 allocs  ~5.4 µs  760 B  22 allocs  338 bytes
//	msgpack    ~1.1 µs  496 B  2 allocs  ~1.8 µs  488 B  15 allocs  284 bytes
//
// Writes cost the same; reads, which a cache does far more often, are about 3x faster with a third fewer
// allocations, and values are 16% smaller in Redis.
//
// Changing the codec changes what is stored, so bump the key prefix version ("plaza:v1:" -> "plaza:v2:") with it.
var DefaultCodec Codec = MsgpackCodec{}

// JSONCodec is encoding/json. It is the readable choice when debugging what is in Redis.
type JSONCodec struct{}

func (JSONCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// MsgpackCodec is MessagePack (github.com/vmihailenco/msgpack/v5). Struct fields are encoded by their msgpack tag,
// else their json tag, else their Go name, so the canonical types need no extra tags.
type MsgpackCodec struct{}

// msgpackBuffers recycles encoding buffers: growing a fresh buffer cost more than the encoding itself.
var msgpackBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (MsgpackCodec) Marshal(v any) ([]byte, error) {
	buf := msgpackBuffers.Get().(*bytes.Buffer)
	defer msgpackBuffers.Put(buf)
	buf.Reset()
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	enc.SetCustomStructTag("json")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

func (MsgpackCodec) Unmarshal(data []byte, v any) error {
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(bytes.NewReader(data))
	dec.SetCustomStructTag("json")
	return dec.Decode(v)
}
