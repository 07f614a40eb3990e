package gateway

import (
	"fmt"
	"testing"
)

func demoPage(scores ...float64) HomePage {
	var s HomeSection
	for i, sc := range scores {
		p := "ok"
		if i%2 == 0 {
			p = "demoted"
		}
		s.Items = append(s.Items, HomeItem{Hit: Hit{Provider: p, Score: sc}, Reason: fmt.Sprint(i)})
	}
	return HomePage{City: "Hangzhou", Sections: []HomeSection{s}}
}

func reasons(p HomePage) string {
	var out []string
	for _, it := range p.Sections[0].Items {
		out = append(out, it.Reason)
	}
	return fmt.Sprint(out)
}

// TestHomeDemotesPenalisedProviders: DEMOTED providers' items sink on home
// as in search; the others keep their order; the cached page is not touched.
func TestHomeDemotesPenalisedProviders(t *testing.T) {
	penalty := func(p string) float64 {
		if p == "demoted" {
			return 0.5
		}
		return 0
	}
	for _, c := range []struct {
		name   string
		scores []float64
		want   string
	}{
		{"scored: each item ranks by score × (1 − penalty)", []float64{10, 9, 8, 4.5, 3}, "[1 0 3 2 4]"},
		{"scored, penalty too small to pass anyone", []float64{10, 4, 3.9, 1}, "[0 1 2 3]"},
		{"unscored (the best-rated fallback): penalised items follow the others", []float64{0, 0, 0, 0, 0}, "[1 3 0 2 4]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			page := demoPage(c.scores...)
			before := reasons(page)
			got := page.Demote(penalty)
			if reasons(got) != c.want {
				t.Fatalf("order %s, want %s", reasons(got), c.want)
			}
			if reasons(page) != before || got.City != page.City {
				t.Fatalf("the original page changed: %s", reasons(page))
			}
		})
	}
	if p := demoPage(3, 2, 1); reasons(p.Demote(func(string) float64 { return 0 })) != "[0 1 2]" || reasons(p.Demote(nil)) != "[0 1 2]" {
		t.Fatal("no penalty moved items")
	}
}
