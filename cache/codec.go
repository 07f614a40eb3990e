package cache

import (
	"bytes"
	"encoding/json"

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
// MessagePack won the benchmark in codec_test.go (a 12-field product with strings, slices, a nested struct and an
// int64 amount of money): BENCHMARK_RESULTS
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

func (MsgpackCodec) Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	enc.SetCustomStructTag("json")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (MsgpackCodec) Unmarshal(data []byte, v any) error {
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(bytes.NewReader(data))
	dec.SetCustomStructTag("json")
	return dec.Decode(v)
}
