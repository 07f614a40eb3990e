package httpprovider

import (
	"reflect"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
)

// wholeSeeds are replies decodeReply's whole-body decoding must read as the
// Decoder reads them: accepted with the same values, or refused.
var wholeSeeds = []string{
	`{"results":[{"value":{"id":"p1","storeId":"s1","name":"Milk","tags":["a","b"],"price":{"amount":125,"currency":"CNY"},"stock":3,"rating":4.5,"images":[{"url":"u","alt":"x"}],"originalPrice":{"amount":150,"currency":"CNY"}}},{"error":{"code":"NOT_FOUND","message":"no such product"}}]}`,
	`{"results":[{"value":{"id":"p1","bogus":1}}]}`,
	`{"results":[{"value":{"id":"p1"}}],"extra":true}`,
	`{"results":[{"value":{"id":"p1"}}]} {}`,
	`{"results":[{"value":{"id":"p1"}}]}  ` + "\n",
	`{"results":[{"value":null},{"value":{"ID":"p2","NAME":"upper case keys"}}]}`,
	`{"results":[{"value":{"id":"p1","id":"p2","name":"\u00e9\ud83d\ude00 \"quoted\" \\ \/ \n\t"}}]}`,
	`{"results":[{"value":{"id":"bad utf-8 ` + "\xff\xfe" + `"}}]}`,
	`{"results":[{"value":{"id":"p1","stock":1e3}}]}`,
	`{"results":[{"value":{"id":"p1","stock":99999999999999999999}}]}`,
	`{"results":[{"value":{"id":"p1","stock":"3"}}]}`,
	`{"results":[{"value":{"id":"p1","rating":-0.5e-2,"tags":null,"images":[]}}]}`,
	`{"results":[{"value":{"id":1}}]}`,
	`{"results":[{"value":{"id":"p1"},"error":{"code":"NOT_FOUND"}},{}]}`,
	`{"results":[1,2]}`,
	`{"results":null}`,
	`{"results":[{"value":{"id":"p1"}}]`,
	`{"results":[{"value":{"id":"p1",}}]}`,
	`[]`,
	`null`,
	``,
	`not json`,
}

// decodeBoth decodes body as the gateway reads a batch of products, by
// decodeReply and by the Decoder alone.
func decodeBoth(body []byte) (whole, stream fastBatch, wholeErr, streamErr error) {
	wholeErr = decodeReply(body, &whole)
	streamErr = decodeStream(body, &stream)
	return
}

type fastBatch struct {
	Results []fastResult[connectors.Product] `json:"results"`
}

func checkSameDecoding(t *testing.T, body []byte) {
	t.Helper()
	whole, stream, wholeErr, streamErr := decodeBoth(body)
	if (wholeErr == nil) != (streamErr == nil) {
		t.Fatalf("%q: decodeReply err %v, the Decoder's %v", body, wholeErr, streamErr)
	}
	if wholeErr != nil {
		if wholeErr.Error() != streamErr.Error() {
			t.Fatalf("%q: decodeReply err %q, the Decoder's %q", body, wholeErr, streamErr)
		}
		return
	}
	if !reflect.DeepEqual(whole, stream) {
		t.Fatalf("%q: decodeReply read\n%+v\nthe Decoder\n%+v", body, whole, stream)
	}
}

// TestDecodeReplyAsTheDecoder: decoding a reply whole, from its bytes,
// accepts and refuses what goccy's Decoder does, with the same values and
// errors (an unknown field refused, trailing data refused).
func TestDecodeReplyAsTheDecoder(t *testing.T) {
	for _, s := range wholeSeeds {
		checkSameDecoding(t, []byte(s))
	}
	for _, s := range []string{wholeSeeds[1], wholeSeeds[2], wholeSeeds[3]} {
		var v fastBatch
		if decodeReply([]byte(s), &v) == nil {
			t.Errorf("%s: accepted", s)
		}
	}
}

func FuzzDecodeReplyAsTheDecoder(f *testing.F) {
	for _, s := range wholeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkSameDecoding(t, body) })
}
