package api_test

import (
	"testing"

	"github.com/plaza-gateway/plaza/api/apitest"
)

// The one search box mixes verticals: a browse (no text) with the engine's
// popularity, which favours doctors and groceries, still shows every
// vertical in each block of ten, and a search for "child" (or "kids")
// reaches the paediatricians whose profiles say "children".
func TestSearchAcrossVerticals(t *testing.T) {
	p := startPersonal(t, 0)

	for who, user := range map[string]string{"anonymous": "", "signed in": "demo-1"} {
		t.Run("a browse shows every vertical, none over three, in each of the first three blocks of ten, "+who, func(t *testing.T) {
			d, _ := mustData[rankedData](t, p.Gateway, apitest.Request{Query: rankedSearchQuery, Variables: map[string]any{"first": 30}, User: user})
			hits := d.Search.nodes()
			if len(hits) != 30 {
				t.Fatalf("%d results", len(hits))
			}
			for block := range 3 {
				per := map[string]int{}
				for _, h := range hits[block*10 : block*10+10] {
					_, v := h.providerKey()
					per[v]++
				}
				if len(per) != 4 {
					t.Fatalf("block %d: %v, want all four verticals", block, per)
				}
				for v, n := range per {
					if n > 3 {
						t.Fatalf("block %d: %d of %s: %v", block, n, v, per)
					}
				}
			}
		})
	}

	for _, text := range []string{"child", "kids"} {
		t.Run(text+" finds paediatricians (and no other doctor), lawyers and public services on the first page", func(t *testing.T) {
			d, _ := mustData[rankedData](t, p.Gateway, apitest.Request{Query: rankedSearchQuery, Variables: map[string]any{"text": text, "first": 10}})
			kinds := map[string]int{}
			for _, h := range d.Search.nodes() {
				kinds[h.Typename]++
				if h.Typename == "Doctor" && h.Specialty != "Paediatrics" {
					t.Fatalf("%s (%s) on the first page of %s", h.Name, h.Specialty, text)
				}
			}
			if kinds["Doctor"] == 0 || kinds["Lawyer"] == 0 || kinds["GovService"] == 0 {
				t.Fatalf("first page of %s: %v", text, kinds)
			}
		})
	}
}
