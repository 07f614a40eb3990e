package cache

import (
	"reflect"
	"testing"
)

// benchProduct mirrors the gateway's canonical product: 12 fields, strings, slices, nested money in minor units.
type benchProduct struct {
	ID          string     `json:"id"`
	StoreID     string     `json:"storeId"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Category    string     `json:"category"`
	Tags        []string   `json:"tags"`
	Price       benchMoney `json:"price"`
	Unit        string     `json:"unit"`
	Stock       int        `json:"stock"`
	Origin      string     `json:"origin"`
	Rating      float64    `json:"rating"`
	City        string     `json:"city"`
	Internal    string     `json:"-"`
}

type benchMoney struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func sampleProduct() benchProduct {
	return benchProduct{
		ID: "p-000123", StoreID: "fresh-grocer-42", Name: "Organic Fuji Apples",
		Description: "Crisp, sweet apples from orchards in Shaanxi, picked within the week.",
		Category:    "fruit", Tags: []string{"organic", "seasonal", "local"},
		Price: benchMoney{Amount: 1_299_000_000_123, Currency: "CNY"}, Unit: "kg", Stock: 340,
		Origin: "Shaanxi", Rating: 4.7, City: "Xi'an",
	}
}

var codecs = []struct {
	name  string
	codec Codec
}{{"json", JSONCodec{}}, {"msgpack", MsgpackCodec{}}}

func TestCodecs(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.name+" round-trips a product and skips json:\"-\" fields", func(t *testing.T) {
			in := sampleProduct()
			in.Internal = "secret"
			b, err := c.codec.Marshal(in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			t.Logf("%s encodes the sample product in %d bytes", c.name, len(b))
			var out benchProduct
			if err := c.codec.Unmarshal(b, &out); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			want := sampleProduct()
			if !reflect.DeepEqual(out, want) {
				t.Errorf("round trip = %+v, want %+v", out, want)
			}
		})
		t.Run(c.name+" rejects bytes of the wrong shape", func(t *testing.T) {
			var out benchProduct
			if err := c.codec.Unmarshal([]byte{0xc1, 0x00}, &out); err == nil {
				t.Error("Unmarshal of garbage succeeded")
			}
		})
	}
}

func BenchmarkCodec(b *testing.B) {
	p := sampleProduct()
	for _, c := range codecs {
		data, err := c.codec.Marshal(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name+"/marshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.codec.Marshal(p); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/unmarshal", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out benchProduct
				if err := c.codec.Unmarshal(data, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
