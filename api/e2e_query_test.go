package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

type providerNode struct {
	ID       string   `json:"id"`
	Key      string   `json:"key"`
	Vertical string   `json:"vertical"`
	Cities   []string `json:"cities"`
	Status   string   `json:"status"`
}

// wantProviders returns the IDs of the demo descriptors that pass keep, in
// ID order (the order `providers` promises).
func wantProviders(keep func(connectors.Descriptor) bool) []string {
	var ids []string
	for _, d := range demo.DefaultDescriptors() {
		if keep(d) {
			ids = append(ids, d.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestProvidersQuery(t *testing.T) {
	g := startDemo(t)
	const q = `query($v: Vertical, $city: String, $first: Int, $after: String) {
	  providers(vertical: $v, city: $city, first: $first, after: $after) {
	    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
	    edges { cursor node { id key vertical cities status } }
	  }
	}`
	type data struct {
		Providers conn[providerNode] `json:"providers"`
	}
	keys := func(c conn[providerNode]) []string {
		var out []string
		for _, n := range c.nodes() {
			out = append(out, n.Key)
		}
		return out
	}

	tests := []struct {
		name string
		vars map[string]any
		want []string
	}{
		{"lists all eight providers by ID without filters", nil, wantProviders(func(connectors.Descriptor) bool { return true })},
		{"keeps only the providers of one vertical", map[string]any{"v": "GROCERY"},
			wantProviders(func(d connectors.Descriptor) bool { return d.Vertical == connectors.VerticalGrocery })},
		{"keeps only the providers serving a city", map[string]any{"city": "Beijing"},
			wantProviders(func(d connectors.Descriptor) bool { return slices.Contains(d.Cities, "Beijing") })},
		{"combines vertical and city", map[string]any{"v": "MEDICAL", "city": "Shenzhen"},
			wantProviders(func(d connectors.Descriptor) bool {
				return d.Vertical == connectors.VerticalMedical && slices.Contains(d.Cities, "Shenzhen")
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, _ := mustData[data](t, g, apitest.Request{Query: q, Variables: tt.vars})
			if got := keys(d.Providers); !slices.Equal(got, tt.want) {
				t.Fatalf("providers %v, want %v", got, tt.want)
			}
			if d.Providers.TotalCount != len(tt.want) {
				t.Fatalf("totalCount %d, want %d", d.Providers.TotalCount, len(tt.want))
			}
			for _, n := range d.Providers.nodes() {
				if n.Status != "ACTIVE" || providerOf(t, n.ID) != n.Key {
					t.Fatalf("provider %+v: want ACTIVE and an id naming itself", n)
				}
			}
		})
	}
	if len(tests[2].want) == len(tests[0].want) {
		t.Fatal("the city filter case must exclude some provider to mean anything")
	}

	t.Run("pages through all providers three at a time, each once", func(t *testing.T) {
		var got []string
		vars := map[string]any{"first": 3}
		for page := 0; ; page++ {
			d, _ := mustData[data](t, g, apitest.Request{Query: q, Variables: vars})
			got = append(got, keys(d.Providers)...)
			if d.Providers.PageInfo.HasPreviousPage != (page > 0) {
				t.Fatalf("page %d: hasPreviousPage %v", page, d.Providers.PageInfo.HasPreviousPage)
			}
			if !d.Providers.PageInfo.HasNextPage {
				break
			}
			vars["after"] = *d.Providers.PageInfo.EndCursor
		}
		if want := tests[0].want; !slices.Equal(got, want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
	})
}

func TestStoresQuery(t *testing.T) {
	g := startDemo(t)
	type store struct {
		ID       string `json:"id"`
		City     string `json:"city"`
		Provider struct {
			Key string `json:"key"`
		} `json:"provider"`
	}
	for _, city := range []string{"Shanghai", "Beijing"} {
		t.Run("returns only stores in "+city+" from every grocery provider serving it", func(t *testing.T) {
			d, _ := mustData[struct {
				Stores conn[store] `json:"stores"`
			}](t, g, apitest.Request{Query: `query($c: String) { stores(city: $c, first: 100) { totalCount edges { node { id city provider { key } } } } }`,
				Variables: map[string]any{"c": city}})
			if d.Stores.TotalCount == 0 || d.Stores.TotalCount != len(d.Stores.Edges) {
				t.Fatalf("totalCount %d, edges %d", d.Stores.TotalCount, len(d.Stores.Edges))
			}
			seen := map[string]bool{}
			for _, s := range d.Stores.nodes() {
				if s.City != city {
					t.Fatalf("store %s is in %s", s.ID, s.City)
				}
				seen[s.Provider.Key] = true
			}
			want := wantProviders(func(d connectors.Descriptor) bool {
				return d.Vertical == connectors.VerticalGrocery && slices.Contains(d.Cities, city)
			})
			if got := slices.Sorted(mapKeys(seen)); !slices.Equal(got, want) {
				t.Fatalf("stores from %v, want %v", got, want)
			}
		})
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

type productNode struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Category    string   `json:"category"`
	Tags        []string `json:"tags"`
	Stock       int      `json:"stock"`
	InStock     bool     `json:"inStock"`
	Store       *struct {
		ID   string `json:"id"`
		City string `json:"city"`
	} `json:"store"`
	Provider struct {
		Key string `json:"key"`
	} `json:"provider"`
}

const productsQuery = `query($text: String, $storeId: ID, $city: String, $category: String, $first: Int, $after: String) {
  products(text: $text, storeId: $storeId, city: $city, category: $category, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id name description category tags stock inStock store { id city } provider { key } } }
  }
}`

type productsData struct {
	Products conn[productNode] `json:"products"`
}

func TestProductsQuery(t *testing.T) {
	g := startDemo(t)

	t.Run("text search returns only matching products from both grocery providers", func(t *testing.T) {
		d, _ := mustData[productsData](t, g, apitest.Request{Query: productsQuery, Variables: map[string]any{"text": "milk", "first": 100}})
		providers := map[string]bool{}
		for _, p := range d.Products.nodes() {
			text := strings.ToLower(p.Name + " " + p.Description + " " + strings.Join(p.Tags, " "))
			if !strings.Contains(text, "milk") {
				t.Fatalf("product %q does not mention milk", p.Name)
			}
			if p.InStock != (p.Stock > 0) {
				t.Fatalf("product %q: inStock %v with stock %d", p.Name, p.InStock, p.Stock)
			}
			providers[p.Provider.Key] = true
		}
		if !providers["freshcart"] || !providers["greenbasket"] {
			t.Fatalf("milk found at %v, want both grocery providers", providers)
		}
	})

	t.Run("category and city filter every result", func(t *testing.T) {
		d, _ := mustData[productsData](t, g, apitest.Request{Query: productsQuery, Variables: map[string]any{"category": "dairy", "city": "Chengdu", "first": 50}})
		if len(d.Products.Edges) == 0 {
			t.Fatal("no dairy in Chengdu")
		}
		for _, p := range d.Products.nodes() {
			if !strings.EqualFold(p.Category, "dairy") || p.Store == nil || p.Store.City != "Chengdu" {
				t.Fatalf("product %q: category %q, store %+v", p.Name, p.Category, p.Store)
			}
		}
	})

	t.Run("paging through one store with after returns every product exactly once", func(t *testing.T) {
		store := groceryStores(t, g, "Hangzhou")[0]
		vars := map[string]any{"storeId": store.ID, "first": 7}
		seen := map[string]int{}
		var total, pages int
		for {
			d, _ := mustData[productsData](t, g, apitest.Request{Query: productsQuery, Variables: vars})
			total = d.Products.TotalCount
			for _, p := range d.Products.nodes() {
				seen[p.ID]++
				if p.Store == nil || p.Store.ID != store.ID {
					t.Fatalf("product %s is not of store %s: %+v", p.ID, store.ID, p.Store)
				}
			}
			if pages++; pages > 50 {
				t.Fatal("paging does not end")
			}
			if !d.Products.PageInfo.HasNextPage {
				break
			}
			vars["after"] = *d.Products.PageInfo.EndCursor
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("product %s seen %d times", id, n)
			}
		}
		if total != store.Products.TotalCount || len(seen) != total || total == 0 {
			t.Fatalf("saw %d distinct products, totalCount %d (store says %d)", len(seen), total, store.Products.TotalCount)
		}
	})

	t.Run("an after cursor that is not ours is BAD_USER_INPUT", func(t *testing.T) {
		store := groceryStores(t, g, "Hangzhou")[0]
		mustFail(t, g, apitest.Request{Query: productsQuery, Variables: map[string]any{"storeId": store.ID, "after": "bm9wZQ"}}, "BAD_USER_INPUT", "invalid cursor")
	})

	t.Run("a storeId that is a product id is BAD_USER_INPUT", func(t *testing.T) {
		store := groceryStores(t, g, "Hangzhou")[0]
		mustFail(t, g, apitest.Request{Query: productsQuery, Variables: map[string]any{"storeId": store.Products.Edges[0].Node.ID}}, "BAD_USER_INPUT", "invalid Store id")
	})
}

func TestVerticalBrowseQueries(t *testing.T) {
	g := startDemo(t)
	type item struct {
		ID            string   `json:"id"`
		Name          string   `json:"name"`
		City          string   `json:"city"`
		Cities        []string `json:"cities"`
		Specialty     string   `json:"specialty"`
		PracticeAreas []string `json:"practiceAreas"`
		Provider      struct {
			Key string `json:"key"`
		} `json:"provider"`
	}
	tests := []struct {
		name, field, fields string
		vars                map[string]any
		check               func(item) error
	}{
		{"doctors in a city are all in that city", "doctors", "city specialty", map[string]any{"city": "Shanghai"},
			func(i item) error { return expect(i.City == "Shanghai", "city %s", i.City) }},
		{"doctors found by specialty text have that specialty", "doctors", "city specialty", map[string]any{"text": "cardiology"},
			func(i item) error {
				return expect(strings.Contains(strings.ToLower(i.Specialty), "cardi"), "specialty %s", i.Specialty)
			}},
		{"lawyers in a city are all in that city", "lawyers", "city practiceAreas", map[string]any{"city": "Beijing"},
			func(i item) error { return expect(i.City == "Beijing", "city %s", i.City) }},
		{"lawyers found by divorce practise family law", "lawyers", "city practiceAreas", map[string]any{"text": "divorce"},
			func(i item) error {
				return expect(slices.ContainsFunc(i.PracticeAreas, func(a string) bool { return strings.EqualFold(a, "family") }), "areas %v", i.PracticeAreas)
			}},
		{"government services in a city are offered there", "govServices", "cities", map[string]any{"city": "Shanghai"},
			func(i item) error { return expect(slices.Contains(i.Cities, "Shanghai"), "cities %v", i.Cities) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := fmt.Sprintf(`query($text: String, $city: String) { %s(text: $text, city: $city, first: 100) { totalCount edges { node { id name %s provider { key } } } } }`, tt.field, tt.fields)
			var d map[string]conn[item]
			resp := g.MustPost(apitest.Request{Query: q, Variables: tt.vars})
			resp.Decode(t, &d)
			c := d[tt.field]
			if len(c.Edges) == 0 || c.TotalCount < len(c.Edges) {
				t.Fatalf("%d edges, totalCount %d", len(c.Edges), c.TotalCount)
			}
			providers := map[string]bool{}
			for _, n := range c.nodes() {
				if err := tt.check(n); err != nil {
					t.Fatalf("%s %q: %v", tt.field, n.Name, err)
				}
				providers[n.Provider.Key] = true
			}
			if len(providers) < 2 {
				t.Fatalf("results from %v, want both providers of the vertical", providers)
			}
		})
	}
}

func expect(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

type searchHit struct {
	Typename string `json:"__typename"`
	ID       string `json:"id"`
	Name     string `json:"name"`
	Key      string `json:"key"`
	City     string `json:"city"`
	Provider *struct {
		Key string `json:"key"`
	} `json:"provider"`
}

// liveSearchQuery selects a product's price, which only its provider
// answers: the page's products are completed live.
const liveSearchQuery = `query($text: String, $v: Vertical, $first: Int) {
  search(text: $text, vertical: $v, first: $first) {
    edges { node { __typename ... on Product { id name price { amount } provider { key } } ... on Store { id name provider { key } } } }
  }
}`

const searchQuery = `query($text: String, $v: Vertical, $city: String, $first: Int, $after: String) {
  search(text: $text, vertical: $v, city: $city, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor score node {
      __typename
      ... on Product { id name provider { key } }
      ... on Store { id name city provider { key } }
      ... on Doctor { id name city provider { key } }
      ... on Lawyer { id name city provider { key } }
      ... on GovService { id name provider { key } }
      ... on Provider { id name key }
    } }
  }
}`

type searchData struct {
	Search conn[searchHit] `json:"search"`
}

func TestSearchQuery(t *testing.T) {
	g := startDemo(t)

	t.Run("without text browses every vertical, best first", func(t *testing.T) {
		d, _ := mustData[searchData](t, g, apitest.Request{Query: searchQuery, Variables: map[string]any{"first": 100}})
		kinds := map[string]bool{}
		for i, e := range d.Search.Edges {
			kinds[e.Node.Typename] = true
			if i > 0 && e.Score > d.Search.Edges[i-1].Score {
				t.Fatalf("edge %d scores %v above edge %d (%v)", i, e.Score, i-1, d.Search.Edges[i-1].Score)
			}
		}
		if d.Search.TotalCount <= 100 || len(d.Search.Edges) != 100 {
			t.Fatalf("totalCount %d, %d edges", d.Search.TotalCount, len(d.Search.Edges))
		}
		if len(kinds) < 3 {
			t.Fatalf("browse returned only %v", kinds)
		}
	})

	t.Run("vertical and city narrow the results", func(t *testing.T) {
		d, _ := mustData[searchData](t, g, apitest.Request{Query: searchQuery, Variables: map[string]any{"v": "LEGAL", "city": "Beijing", "first": 100}})
		if len(d.Search.Edges) == 0 {
			t.Fatal("no legal results in Beijing")
		}
		for _, h := range d.Search.nodes() {
			switch h.Typename {
			case "Lawyer":
				// The city goes to the providers as a filter.
				if h.City != "Beijing" {
					t.Fatalf("lawyer %s is in %s", h.Name, h.City)
				}
			case "Provider":
				if !slices.Contains(wantProviders(func(d connectors.Descriptor) bool {
					return d.Vertical == connectors.VerticalLegal && slices.Contains(d.Cities, "Beijing")
				}), h.Key) {
					t.Fatalf("provider %s is not a legal provider in Beijing", h.Key)
				}
			default:
				t.Fatalf("%s %s in a LEGAL search", h.Typename, h.Name)
			}
		}
	})

	// Each vertical has two demo providers; a merged search must show both.
	merges := []struct {
		vertical connectors.Vertical
		text     string
	}{
		{connectors.VerticalGrocery, "milk"},
		{connectors.VerticalGrocery, ""},
		{connectors.VerticalMedical, "paediatrician"},
		{connectors.VerticalMedical, ""},
		{connectors.VerticalLegal, "divorce"},
		{connectors.VerticalLegal, ""},
		{connectors.VerticalPublicService, "id card"},
		{connectors.VerticalPublicService, ""},
	}
	for _, m := range merges {
		t.Run(fmt.Sprintf("merges results of both %s providers for %q", m.vertical, m.text), func(t *testing.T) {
			vars := map[string]any{"v": string(m.vertical), "first": 100}
			if m.text != "" {
				vars["text"] = m.text
			}
			d, _ := mustData[searchData](t, g, apitest.Request{Query: searchQuery, Variables: vars})
			from := map[string]int{}
			for _, h := range d.Search.nodes() {
				if h.Typename != "Provider" { // provider cards would make this trivially true
					from[h.Provider.Key]++
				}
			}
			want := wantProviders(func(d connectors.Descriptor) bool { return d.Vertical == m.vertical })
			for _, p := range want {
				if from[p] == 0 {
					t.Fatalf("no results from %s; results per provider: %v", p, from)
				}
			}
			if len(from) != len(want) {
				t.Fatalf("results from %v, want only %v", from, want)
			}
		})
	}

	t.Run("paging with after visits each result once and equals one big page", func(t *testing.T) {
		base := map[string]any{"text": "milk", "city": "Shanghai"}
		all, _ := mustData[searchData](t, g, apitest.Request{Query: searchQuery, Variables: merge(base, map[string]any{"first": 100})})
		if n := all.Search.TotalCount; n < 15 || n > 100 || len(all.Search.Edges) != n {
			t.Fatalf("want 15..100 results in one page to compare with, got totalCount %d, %d edges", n, len(all.Search.Edges))
		}
		var paged []string
		vars := merge(base, map[string]any{"first": 7})
		for pages := 0; ; pages++ {
			d, _ := mustData[searchData](t, g, apitest.Request{Query: searchQuery, Variables: vars})
			if d.Search.TotalCount != all.Search.TotalCount {
				t.Fatalf("page %d: totalCount %d, first page said %d", pages, d.Search.TotalCount, all.Search.TotalCount)
			}
			for _, h := range d.Search.nodes() {
				paged = append(paged, h.Typename+"/"+h.ID)
			}
			if !d.Search.PageInfo.HasNextPage || pages > 30 {
				break
			}
			vars["after"] = *d.Search.PageInfo.EndCursor
		}
		var want []string
		for _, h := range all.Search.nodes() {
			want = append(want, h.Typename+"/"+h.ID)
		}
		if !slices.Equal(paged, want) {
			t.Fatalf("paged results differ from the single page:\npaged %v\nwant  %v", paged, want)
		}
	})
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestFirstAndAfterBounds(t *testing.T) {
	g := startDemo(t)
	tests := []struct {
		name, query string
		user        string
		vars        map[string]any
		msg         string
	}{
		{"first above 100 on search", searchQuery, "", map[string]any{"first": 101}, "first must be at most 100, got 101"},
		{"negative first on search", searchQuery, "", map[string]any{"first": -1}, "first must not be negative"},
		{"first above 100 on products", productsQuery, "", map[string]any{"first": 101}, "first must be at most 100"},
		{"first above 100 on the user's orders", `query($first: Int) { me { orders(first: $first) { totalCount } } }`, "demo-1", map[string]any{"first": 101}, "first must be at most 100"},
		{"garbage cursor on search", searchQuery, "", map[string]any{"after": "not-a-cursor"}, "invalid cursor"},
		{"base64 cursor of another format", searchQuery, "", map[string]any{"after": "eDox"}, "invalid cursor"},
		{"garbage cursor on providers", `query($a: String) { providers(after: $a) { totalCount } }`, "", map[string]any{"a": "???"}, "invalid cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is BAD_USER_INPUT", func(t *testing.T) {
			mustFail(t, g, apitest.Request{Query: tt.query, Variables: tt.vars, User: tt.user}, "BAD_USER_INPUT", tt.msg)
		})
	}
	t.Run("first 0 returns no edges but the total", func(t *testing.T) {
		d, _ := mustData[searchData](t, g, apitest.Request{Query: searchQuery, Variables: map[string]any{"first": 0, "text": "milk"}})
		if len(d.Search.Edges) != 0 || d.Search.TotalCount == 0 || !d.Search.PageInfo.HasNextPage {
			t.Fatalf("got %d edges, totalCount %d, hasNextPage %v", len(d.Search.Edges), d.Search.TotalCount, d.Search.PageInfo.HasNextPage)
		}
	})
}

func TestHomeQuery(t *testing.T) {
	g := startDemo(t)
	type data struct {
		Home struct {
			City     *string `json:"city"`
			Sections []struct {
				Key   string `json:"key"`
				Title string `json:"title"`
				Items []struct {
					Reason string `json:"reason"`
					Node   struct {
						Typename string `json:"__typename"`
						ID       string `json:"id"`
						Name     string `json:"name"`
					} `json:"node"`
				} `json:"items"`
			} `json:"sections"`
		} `json:"home"`
		Me struct {
			Appointments conn[struct {
				Start  time.Time `json:"start"`
				Status string    `json:"status"`
				Doctor *struct {
					ID string `json:"id"`
				} `json:"doctor"`
			}] `json:"appointments"`
		} `json:"me"`
	}
	d, _ := mustData[data](t, g, apitest.Request{User: "demo-1", Query: `{
	  home { city sections { key title items { reason node {
	    __typename
	    ... on Product { id name } ... on Doctor { id name } ... on Lawyer { id name }
	    ... on GovService { id name } ... on Store { id name } ... on Provider { id name }
	  } } } }
	  me { appointments(first: 100) { edges { node { start status doctor { id } } } } }
	}`})
	h := d.Home

	t.Run("is built for the user's city with sections that each explain every item", func(t *testing.T) {
		if h.City == nil || !slices.Contains(demo.DefaultCities(), *h.City) {
			t.Fatalf("city %v", h.City)
		}
		keys := map[string]bool{}
		for _, s := range h.Sections {
			keys[s.Key] = true
			if s.Title == "" || len(s.Items) == 0 {
				t.Fatalf("section %q: title %q, %d items", s.Key, s.Title, len(s.Items))
			}
			for _, it := range s.Items {
				if strings.TrimSpace(it.Reason) == "" || it.Node.ID == "" || it.Node.Name == "" {
					t.Fatalf("section %q has an item without reason or node: %+v", s.Key, it)
				}
			}
		}
		// This gateway has no recommendation engine wired (apitest's
		// default), so home is the non-personal page; the personal sections
		// are covered by TestHomeOnTheEngine.
		for _, k := range []string{"popular-near-you"} {
			if !keys[k] {
				t.Fatalf("sections %v, want %s", keys, k)
			}
		}
		if keys["buy-again"] {
			t.Fatalf("sections %v: a personal section without the engine", keys)
		}
	})

	t.Run("a city argument overrides the inferred city", func(t *testing.T) {
		d, _ := mustData[struct {
			Home struct {
				City string `json:"city"`
			} `json:"home"`
		}](t, g, apitest.Request{User: "demo-1", Query: `{ home(city: "Chengdu") { city } }`})
		if d.Home.City != "Chengdu" {
			t.Fatalf("city %q", d.Home.City)
		}
	})
}

func TestMeQuery(t *testing.T) {
	g := startDemo(t)
	type dated struct {
		ID        string    `json:"id"`
		CreatedAt time.Time `json:"createdAt"`
	}
	type data struct {
		Me struct {
			ID                 string      `json:"id"`
			Orders             conn[dated] `json:"orders"`
			Appointments       conn[dated] `json:"appointments"`
			Consultations      conn[dated] `json:"consultations"`
			LegalConsultations conn[dated] `json:"legalConsultations"`
			Applications       conn[dated] `json:"applications"`
		} `json:"me"`
	}
	const q = `{ me { id
	  orders(first: 100) { totalCount edges { node { id createdAt } } }
	  appointments(first: 100) { totalCount edges { node { id createdAt } } }
	  consultations(first: 100) { totalCount edges { node { id createdAt } } }
	  legalConsultations(first: 100) { totalCount edges { node { id createdAt } } }
	  applications(first: 100) { totalCount edges { node { id createdAt } } }
	} }`
	d, _ := mustData[data](t, g, apitest.Request{User: "demo-1", Query: q})
	lists := map[string]conn[dated]{
		"orders": d.Me.Orders, "appointments": d.Me.Appointments, "consultations": d.Me.Consultations,
		"legalConsultations": d.Me.LegalConsultations, "applications": d.Me.Applications,
	}
	for name, c := range lists {
		t.Run(name+" are non-empty, complete and newest first", func(t *testing.T) {
			if len(c.Edges) == 0 || c.TotalCount != len(c.Edges) {
				t.Fatalf("%d edges, totalCount %d", len(c.Edges), c.TotalCount)
			}
			providers := map[string]bool{}
			for i, n := range c.nodes() {
				providers[providerOf(t, n.ID)] = true
				if i > 0 && n.CreatedAt.After(c.Edges[i-1].Node.CreatedAt) {
					t.Fatalf("item %d (%s) is newer than item %d", i, n.CreatedAt, i-1)
				}
			}
			if len(providers) < 2 {
				t.Fatalf("items from %v only, want both providers of the vertical", providers)
			}
		})
	}
	t.Run("the user id names the signed-in user", func(t *testing.T) {
		if kind, issuer, local := decodeID(t, d.Me.ID); kind != "User" || issuer != "plaza" || local != "demo-1" {
			t.Fatalf("me.id decodes to %s/%s/%s", kind, issuer, local)
		}
	})
	t.Run("another user sees only their own lists", func(t *testing.T) {
		other, _ := mustData[data](t, g, apitest.Request{User: "demo-2", Query: q})
		mine := map[string]bool{}
		for _, c := range lists {
			for _, n := range c.nodes() {
				mine[n.ID] = true
			}
		}
		for _, c := range []conn[dated]{other.Me.Orders, other.Me.Appointments, other.Me.Consultations, other.Me.LegalConsultations, other.Me.Applications} {
			for _, n := range c.nodes() {
				if mine[n.ID] {
					t.Fatalf("demo-2 sees demo-1's %s", n.ID)
				}
			}
		}
		if len(other.Me.Orders.Edges) == 0 {
			t.Fatal("demo-2 has no orders; the comparison means nothing")
		}
	})
}

// TestReadmeSearchExample keeps the README's copy-paste example honest: a
// browse without text shows all four verticals on its first page.
func TestReadmeSearchExample(t *testing.T) {
	g := apitest.Start(t, apitest.Options{})
	d, _ := mustData[struct {
		Search struct {
			Edges []struct {
				Node struct {
					Typename string `json:"__typename"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"search"`
	}](t, g, apitest.Request{Query: `{ search(first: 20) { edges { node { __typename } } } }`})
	seen := map[string]bool{}
	for _, e := range d.Search.Edges {
		seen[e.Node.Typename] = true
	}
	for _, typ := range []string{"Product", "Doctor", "Lawyer", "GovService"} {
		if !seen[typ] {
			t.Errorf("first page of search(first: 20) has no %s: %v", typ, seen)
		}
	}
}
