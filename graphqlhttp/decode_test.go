package graphqlhttp

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// requestSeeds are request bodies and variables the goccy decoding must
// read as encoding/json reads them.
var requestSeeds = []string{
	`{"query":"query Products($ids: [ID!]!) { nodes(ids: $ids) { id } }","variables":{"ids":["UHJvZHVjdDpmcmVzaGNhcnQ6cDE","UHJvZHVjdDpmcmVzaGNhcnQ6cDI"]}}`,
	`{"query":"{ a }","operationName":"A","variables":{"n":1.50,"big":123456789012345678901234567890,"neg":-0,"e":1e-7,"t":true,"z":null,"o":{"a":[1,"x",{}]}},"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"},"f":0.1,"g":1e400}}`,
	`{"QUERY":"case","Variables":{"a":1},"query":"last"}`,
	`{"query":"\u00e9\ud83d\ude00 \"q\" \\ \/ \n\t \ud800","variables":{"s":"\udc00x","k\u0000":"` + "\xff\xfe" + `"}}`,
	`{"query":"{ a }","variables":{"a":1,"a":2}}`,
	`{"query":"{ a }","variables":  { "a" : [ 1 , 2 ] }  ,"x":1}`,
	`{"query":"{ a }","variables":[1]}`,
	`{"query":"{ a }","variables":"s"}`,
	`{"query":1}`,
	`{"query":"{ a }","extensions":[]}`,
	`{"query":"{ a }"} trailing`,
	`{"query":"{ a }"`,
	`[]`,
	`null`,
	``,
	`{"query":"{ a }","variables":{"a":1} }`,
	`{"a":1} {"b":2}`,
	`{"a":01}`,
	`{"a":1.}`,
	`{"a":"\x"}`,
}

// checkSameRequest decodes body as a POST body and as variables, by this
// package's decoders and by encoding/json, and requires the same outcome.
func checkSameRequest(t *testing.T, body []byte) {
	t.Helper()
	var got, want postBody
	gotErr, wantErr := unmarshal(body, &got), json.Unmarshal(body, &want)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%q: body err %v, encoding/json's %v", body, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: body\n%#v\nencoding/json\n%#v", body, got, want)
	}
	var gotVars, wantVars map[string]any
	gotErr = unmarshalVariables(body, &gotVars)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	wantErr = dec.Decode(&wantVars)
	if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
		t.Fatalf("%q: variables err %v, encoding/json's %v", body, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(gotVars, wantVars) {
		t.Fatalf("%q: variables\n%#v\nencoding/json\n%#v", body, gotVars, wantVars)
	}
}

// TestRequestDecodingAsEncodingJSON: POST bodies and variables decode as
// encoding/json decodes them (values, refusals and their messages).
func TestRequestDecodingAsEncodingJSON(t *testing.T) {
	for _, s := range requestSeeds {
		checkSameRequest(t, []byte(s))
	}
}

func FuzzRequestDecoding(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkSameRequest(t, body) })
}
