package graphqlhttp

import (
	"bytes"
	"encoding/json"
	"strings"

	gojson "github.com/goccy/go-json"
)

// Request bodies are decoded by goccy/go-json, and again by encoding/json
// when goccy refuses them, so that every refusal (and the message
// jsonProblem makes of it, from encoding/json's error types) is as it was.
// goccy decodes a list of 50 ids' body and variables in about a quarter of
// encoding/json's time, with fewer allocations. What goccy accepts it must
// decode as encoding/json does: FuzzRequestDecoding holds the two together.

// unmarshal is json.Unmarshal(data, body).
func unmarshal(data []byte, body *postBody) error {
	if gojson.Unmarshal(data, body) == nil {
		return nil
	}
	*body = postBody{}
	return json.Unmarshal(data, body)
}

// unmarshalVariables decodes raw into vars as a json.Decoder with
// UseNumber does (numbers kept exact, as gqlgen's own transports do; the
// first value read, whatever follows it).
func unmarshalVariables(raw []byte, vars *map[string]any) error {
	if gojson.UnmarshalWithOption(raw, vars, useNumber) == nil {
		return nil
	}
	*vars = nil
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(vars)
}

// useNumber is what gojson.Decoder.UseNumber sets, as an option of
// gojson.UnmarshalWithOption, which has none of its own for it: read from a
// Decoder once the method has set it.
var useNumber = func() gojson.DecodeOptionFunc {
	var opt gojson.DecodeOption
	dec := gojson.NewDecoder(strings.NewReader("null"))
	dec.UseNumber()
	var v any
	if err := dec.DecodeWithOption(&v, func(o *gojson.DecodeOption) { opt.Flags = o.Flags }); err != nil {
		panic("graphqlhttp: reading goccy/go-json's UseNumber: " + err.Error())
	}
	flags := opt.Flags
	return func(o *gojson.DecodeOption) { o.Flags |= flags }
}()
