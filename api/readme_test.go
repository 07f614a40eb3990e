package api_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// The README's examples are what a newcomer runs first, so each one runs
// here against the real handler over the demo providers, with the
// recommendation engine seeded as `go run .` seeds it, and each is held to
// what the prose around it says. The examples are found by reading
// README.md's fenced code blocks, not copied here: a ```graphql block, or a
// curl to /query with a JSON body in a sh/bash/console block. An example
// without an expectation below fails the test, as does an expectation whose
// example or claim has gone from the README, so neither can change without
// the other.

// readmeExample is one GraphQL document shown in the README.
type readmeExample struct {
	name      string // the operation's name, the key of its expectation
	query     string
	variables map[string]any
	line      int    // where its block starts in README.md
	prose     string // the text between the previous block and the next one
	user      string // the curl's bearer token is for this demo user
	debug     bool   // the curl sends Plaza-Debug: calls
}

// readmeAnswers holds the data of the examples run so far, by name, so a
// later example takes its ids from an earlier answer.
type readmeAnswers map[string]json.RawMessage

// readmeExpectation is what the README says about one example's answer.
type readmeExpectation struct {
	// claims are the README's own words about the answer, each of which must
	// appear (whitespace aside) in the prose around the example.
	claims []string
	// user signs the request in, for examples the prose says to send signed
	// in; a curl's own token wins.
	user string
	// vars builds the variables from earlier answers.
	vars func(t *testing.T, prior readmeAnswers) map[string]any
	// check holds the response to the claims; it may post again (a retry).
	check func(t *testing.T, g *apitest.Gateway, ex readmeExample, resp *apitest.Response, prior readmeAnswers)
}

var readmeExpectations = map[string]readmeExpectation{
	"TryIt": {
		claims: []string{
			"the first page holds products, doctors, lawyers and government services",
			"`search` fans out to every provider of all four verticals",
			"`me` gathers the user's orders from every grocery provider",
			"one entry per connector call (`provider`, `operation`, `keys`, `durationMs`) and `extensions.plaza.cache`",
		},
		check: checkTryIt,
	},
	"Child": {
		claims: []string{`A search for "child" finds paediatricians, family lawyers and child-related public services on its first page of ten`},
		check:  checkChild,
	},
	"Typo": {
		claims: []string{`every result on the first page of "mlik" is a milk`},
		check:  checkTypo,
	},
	"FindPaediatrician": {
		claims: []string{"find a paediatrician with free slots"},
		check:  checkFindPaediatrician,
	},
	"Book": {
		claims: []string{
			"book the first of those slots, signed in",
			"`CONFIRMED` at the slot's start; sent again with the same `idempotencyKey`, it returns the same appointment",
		},
		user:  "demo-1",
		vars:  bookVars,
		check: checkBook,
	},
}

func TestReadmeExamples(t *testing.T) {
	examples := readmeExamples(t, "../README.md")
	seen := map[string]bool{}
	for _, ex := range examples {
		if seen[ex.name] {
			t.Fatalf("README.md:%d: a second example named %s; name each one differently", ex.line, ex.name)
		}
		seen[ex.name] = true
		if _, ok := readmeExpectations[ex.name]; !ok {
			t.Errorf("README.md:%d: example %s has no expectation in readme_test.go: add what the README says it returns", ex.line, ex.name)
		}
	}
	for name := range readmeExpectations {
		if !seen[name] {
			t.Errorf("readme_test.go expects an example %s that README.md no longer shows", name)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	p := startPersonal(t, 0) // the engine seeded like `go run .`: popularity shapes a browse
	prior := readmeAnswers{}
	for _, ex := range examples {
		want := readmeExpectations[ex.name]
		t.Run(fmt.Sprintf("%s (README.md:%d) returns what the README says", ex.name, ex.line), func(t *testing.T) {
			prose := strings.Join(strings.Fields(ex.prose), " ")
			for _, c := range want.claims {
				if !strings.Contains(prose, c) {
					t.Fatalf("the README no longer says %q around %s; update the claim and its check together", c, ex.name)
				}
			}
			req := apitest.Request{Query: ex.query, Variables: ex.variables, User: cmpOr(ex.user, want.user), Debug: ex.debug}
			if want.vars != nil {
				req.Variables = want.vars(t, prior)
			}
			ex.user = req.User
			resp := p.Gateway.Post(req)
			if resp.Status != 200 || len(resp.Errors) > 0 {
				t.Fatalf("status %d: %s", resp.Status, resp.Raw)
			}
			want.check(t, p.Gateway, ex, resp, prior)
			prior[ex.name] = resp.Data
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

var (
	readmeFence      = regexp.MustCompile("^```\\s*(\\S*)")
	readmeCurlBody   = regexp.MustCompile(`(?s)-d '([^']*)'`)
	readmeTokenUser  = regexp.MustCompile(`token --user ([\w-]+)`)
	readmeBearer     = regexp.MustCompile(`Authorization: Bearer \$\w+`)
	readmeShellLangs = []string{"sh", "bash", "console", "shell"}
)

// readmeBlock is one fenced code block and the prose on either side of it.
type readmeBlock struct {
	lang, body    string
	line          int
	before, after string
}

// readmeBlocks splits markdown into its fenced code blocks.
func readmeBlocks(tb testing.TB, md string) []readmeBlock {
	tb.Helper()
	var blocks []readmeBlock
	var prose, body []string
	var cur *readmeBlock
	for i, l := range strings.Split(md, "\n") {
		m := readmeFence.FindStringSubmatch(strings.TrimSpace(l))
		switch {
		case m != nil && cur == nil:
			cur = &readmeBlock{lang: m[1], line: i + 1, before: strings.Join(prose, "\n")}
			if n := len(blocks); n > 0 {
				blocks[n-1].after = cur.before
			}
			prose, body = nil, nil
		case m != nil:
			cur.body = strings.Join(body, "\n")
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body = append(body, l)
		default:
			prose = append(prose, l)
		}
	}
	if cur != nil {
		tb.Fatalf("README.md:%d: a code block is never closed", cur.line)
	}
	if n := len(blocks); n > 0 {
		blocks[n-1].after = strings.Join(prose, "\n")
	}
	return blocks
}

// readmeExamples returns every GraphQL document README.md shows, in order.
func readmeExamples(tb testing.TB, path string) []readmeExample {
	tb.Helper()
	md, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []readmeExample
	for _, b := range readmeBlocks(tb, string(md)) {
		ex := readmeExample{line: b.line, prose: b.before + "\n" + b.after}
		switch {
		case b.lang == "graphql":
			ex.query = b.body
			out = append(out, namedExample(tb, ex))
		case slices.Contains(readmeShellLangs, b.lang) && strings.Contains(b.body, "/query"):
			if readmeBearer.MatchString(b.body) {
				m := readmeTokenUser.FindStringSubmatch(b.body)
				if m == nil {
					tb.Fatalf("README.md:%d: the curl sends a bearer token but the block never makes one with `token --user`", b.line)
				}
				ex.user = m[1]
			}
			ex.debug = strings.Contains(b.body, "Plaza-Debug: calls")
			for _, m := range readmeCurlBody.FindAllStringSubmatch(b.body, -1) {
				var body struct {
					Query     string         `json:"query"`
					Variables map[string]any `json:"variables"`
				}
				if err := json.Unmarshal([]byte(m[1]), &body); err != nil {
					tb.Fatalf("README.md:%d: the curl's body is not JSON: %v\n%s", b.line, err, m[1])
				}
				ex.query, ex.variables = body.Query, body.Variables
				out = append(out, namedExample(tb, ex))
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("README.md shows no GraphQL example")
	}
	return out
}

// namedExample names ex after its one operation; the name is how the test
// finds what the README says about it.
func namedExample(tb testing.TB, ex readmeExample) readmeExample {
	tb.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Name: "README.md", Input: ex.query})
	if err != nil {
		tb.Fatalf("README.md:%d: the example does not parse: %v", ex.line, err)
	}
	if len(doc.Operations) != 1 || doc.Operations[0].Name == "" {
		tb.Fatalf("README.md:%d: an example holds one named operation (the test finds its expectation by name)", ex.line)
	}
	ex.name = doc.Operations[0].Name
	return ex
}

// readmeHit is a search result as the README's examples select it.
type readmeHit struct {
	Typename      string   `json:"__typename"`
	Name          string   `json:"name"`
	Specialty     string   `json:"specialty"`
	PracticeAreas []string `json:"practiceAreas"`
	Category      string   `json:"category"`
	Description   string   `json:"description"`
}

type readmeSearch struct {
	Search conn[readmeHit] `json:"search"`
}

func decodeData[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode: %v\n%s", err, raw)
	}
	return v
}

func checkTryIt(t *testing.T, g *apitest.Gateway, _ readmeExample, resp *apitest.Response, _ readmeAnswers) {
	d := decodeData[struct {
		readmeSearch
		Me struct {
			Orders conn[json.RawMessage] `json:"orders"`
		} `json:"me"`
	}](t, resp.Data)
	kinds := map[string]int{}
	for _, h := range d.Search.nodes() {
		kinds[h.Typename]++
	}
	for _, k := range []string{"Product", "Doctor", "Lawyer", "GovService"} {
		if kinds[k] == 0 {
			t.Errorf("the first page holds no %s: %v", k, kinds)
		}
	}
	if d.Me.Orders.TotalCount == 0 || len(d.Me.Orders.Edges) == 0 || len(d.Me.Orders.Edges) > 2 {
		t.Errorf("me.orders(first: 2): %d edges of %d", len(d.Me.Orders.Edges), d.Me.Orders.TotalCount)
	}

	providers := g.GW.Registry().All()
	searched, listed := map[string]bool{}, map[string]bool{}
	for _, c := range resp.Extensions.Plaza.Calls {
		if strings.HasPrefix(c.Operation, "Search") {
			searched[c.Provider] = true
		}
		if c.Operation == "UserOrders" {
			listed[c.Provider] = true
		}
	}
	for _, c := range providers {
		desc := c.Describe()
		if !searched[desc.ID] {
			t.Errorf("search did not ask %s (%s): calls %+v", desc.ID, desc.Vertical, resp.Extensions.Plaza.Calls)
		}
		if desc.Vertical == "GROCERY" && !listed[desc.ID] {
			t.Errorf("me.orders did not ask grocery provider %s: calls %+v", desc.ID, resp.Extensions.Plaza.Calls)
		}
	}

	// The debug extension as a client reads it: the field names, not Go's.
	var raw struct {
		Extensions struct {
			Plaza struct {
				Calls []map[string]any `json:"calls"`
				Cache []map[string]any `json:"cache"`
			} `json:"plaza"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(resp.Raw, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Extensions.Plaza.Calls) == 0 || raw.Extensions.Plaza.Cache == nil {
		t.Fatalf("no extensions.plaza.calls or cache: %s", resp.Raw)
	}
	for _, c := range raw.Extensions.Plaza.Calls {
		for _, k := range []string{"provider", "operation", "keys", "durationMs"} {
			if _, ok := c[k]; !ok {
				t.Fatalf("a call without %q: %v", k, c)
			}
		}
	}
}

func checkChild(t *testing.T, _ *apitest.Gateway, _ readmeExample, resp *apitest.Response, _ readmeAnswers) {
	hits := decodeData[readmeSearch](t, resp.Data).Search.nodes()
	if len(hits) != 10 {
		t.Fatalf("%d results, want a page of ten", len(hits))
	}
	var doctors, lawyers, services int
	for _, h := range hits {
		switch h.Typename {
		case "Doctor":
			doctors++
			if h.Specialty != "Paediatrics" {
				t.Errorf("%s (%s) on the first page of child: not a paediatrician", h.Name, h.Specialty)
			}
		case "Lawyer":
			if slices.Contains(h.PracticeAreas, "Family") {
				lawyers++
			}
		case "GovService":
			services++
			if !strings.Contains(strings.ToLower(h.Description), "child") {
				t.Errorf("public service %q on the first page of child is not about children: %q", h.Name, h.Description)
			}
		}
	}
	if doctors == 0 || lawyers == 0 || services == 0 {
		t.Fatalf("first page: %d paediatricians, %d family lawyers, %d public services; want each: %+v", doctors, lawyers, services, hits)
	}
}

func checkTypo(t *testing.T, _ *apitest.Gateway, _ readmeExample, resp *apitest.Response, _ readmeAnswers) {
	hits := decodeData[readmeSearch](t, resp.Data).Search.nodes()
	if len(hits) != 10 {
		t.Fatalf("%d results, want a page of ten", len(hits))
	}
	for _, h := range hits {
		if !strings.Contains(strings.ToLower(h.Name), "milk") {
			t.Errorf("%q (%s) on the first page of mlik", h.Name, h.Category)
		}
	}
}

// foundDoctor is the FindPaediatrician example's answer.
type foundDoctor struct {
	Doctors conn[struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Specialty string `json:"specialty"`
		Slots     []struct {
			ID    string    `json:"id"`
			Start time.Time `json:"start"`
		} `json:"slots"`
	}] `json:"doctors"`
}

func checkFindPaediatrician(t *testing.T, _ *apitest.Gateway, _ readmeExample, resp *apitest.Response, _ readmeAnswers) {
	d := decodeData[foundDoctor](t, resp.Data).Doctors.nodes()
	if len(d) != 1 || d[0].Specialty != "Paediatrics" || len(d[0].Slots) == 0 {
		t.Fatalf("want one paediatrician with free slots: %s", resp.Raw)
	}
}

func bookVars(t *testing.T, prior readmeAnswers) map[string]any {
	t.Helper()
	raw, ok := prior["FindPaediatrician"]
	if !ok {
		t.Fatal("Book takes its doctor and slot from FindPaediatrician's answer, which is missing (it must come first and pass)")
	}
	d := decodeData[foundDoctor](t, raw).Doctors.nodes()
	return map[string]any{"doctorId": d[0].ID, "slotId": d[0].Slots[0].ID}
}

func checkBook(t *testing.T, g *apitest.Gateway, ex readmeExample, resp *apitest.Response, prior readmeAnswers) {
	type booked struct {
		Book struct {
			ID     string    `json:"id"`
			Status string    `json:"status"`
			Start  time.Time `json:"start"`
			Doctor struct {
				Name string `json:"name"`
			} `json:"doctor"`
		} `json:"bookDoctorAppointment"`
	}
	first := decodeData[booked](t, resp.Data).Book
	doctor := decodeData[foundDoctor](t, prior["FindPaediatrician"]).Doctors.nodes()[0]
	if first.Status != "CONFIRMED" || !first.Start.Equal(doctor.Slots[0].Start) || first.Doctor.Name != doctor.Name {
		t.Fatalf("booked %+v, want CONFIRMED with %s at %v", first, doctor.Name, doctor.Slots[0].Start)
	}
	again := g.MustPost(apitest.Request{Query: ex.query, Variables: bookVars(t, prior), User: ex.user})
	// The same appointment: its id, status and instant (the bytes of the
	// replayed time are another test's business).
	if second := decodeData[booked](t, again.Data).Book; second.ID != first.ID || second.Status != first.Status || !second.Start.Equal(first.Start) {
		t.Fatalf("the retry with the same idempotencyKey returned %+v, the first %+v", second, first)
	}
}
