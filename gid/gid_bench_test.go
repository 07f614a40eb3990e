package gid

import "testing"

// The ID codec runs for every object a response carries (Encode in the
// model conversion, Decode for every id a client sends), so it is a hot
// path: go test -bench . -benchmem ./gid/
func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if Encode(Product, "freshcart", "p-000123") == "" {
			b.Fatal("empty")
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	s := Encode(Product, "freshcart", "p-000123")
	b.ReportAllocs()
	for b.Loop() {
		if id, err := Decode(s); err != nil || id.Local != "p-000123" {
			b.Fatal(id, err)
		}
	}
}
