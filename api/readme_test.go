package api_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/connectors/httpprovider"
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
	// operator: the example is an operator's, run by
	// TestReadmeOnboardingExamples against a gateway with a provider
	// directory, signed in with an OPERATOR token.
	operator bool
}

var readmeExpectations = map[string]readmeExpectation{
	// "Onboarding a provider" (e2e_onboarding_test.go runs these).
	"RegisterNewMart": {operator: true, claims: []string{"The provider starts `PENDING` and its certification run is `RUNNING`"},
		check: checkRegisterNewMart},
	"FollowCertification": {operator: true, claims: []string{"When every check passes, the provider becomes `CERTIFIED`, then `ACTIVE` at once and shows up in `providers(vertical:, city:)`"},
		check: checkFollowCertification},
	"MintCode":       {operator: true, claims: []string{"It works once; Plaza stores only its hash."}, check: checkMintCode},
	"NewMartChanges": {operator: true, claims: []string{"A secret never appears there"}, check: checkNewMartChanges},
	"SuspendNewMart": {operator: true, claims: []string{"The provider is `SUSPENDED` and leaves `providers` at once."}, check: checkSuspendNewMart},
	"TryIt": {
		claims: []string{
			"the first page holds products, doctors, lawyers and government services",
			"`search` reads Plaza's supply index",
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
		claims: []string{`every result on the first page for "mlik" has milk in its name`},
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
	if bad := readmeMismatches(examples, readmeExpectations); len(bad) > 0 {
		t.Fatal(strings.Join(bad, "\n"))
	}

	p := startPersonal(t, 0) // the engine seeded like `go run .`: popularity shapes a browse
	prior := readmeAnswers{}
	for _, ex := range examples {
		want := readmeExpectations[ex.name]
		if want.operator {
			continue // TestReadmeOnboardingExamples
		}
		t.Run(fmt.Sprintf("%s (README.md:%d) returns what the README says", ex.name, ex.line), func(t *testing.T) {
			prose := strings.Join(strings.Fields(ex.prose), " ")
			for _, c := range want.claims {
				if !strings.Contains(prose, c) {
					t.Fatalf("the README no longer says %q around %s; update the claim and its check together", c, ex.name)
				}
			}
			req := apitest.Request{Query: ex.query, Variables: ex.variables, User: cmp.Or(ex.user, want.user), Debug: ex.debug}
			if want.vars != nil {
				req.Variables = want.vars(t, prior)
			}
			ex.user = req.User // check posts again as the same user
			resp := p.Gateway.Post(req)
			if resp.Status != 200 || len(resp.Errors) > 0 {
				t.Fatalf("status %d: %s", resp.Status, resp.Raw)
			}
			want.check(t, p.Gateway, ex, resp, prior)
			prior[ex.name] = resp.Data
		})
	}
}

// readmeMismatches reports examples without an expectation, two examples
// of one name, and expectations without an example.
func readmeMismatches(examples []readmeExample, expectations map[string]readmeExpectation) []string {
	var bad []string
	seen := map[string]bool{}
	for _, ex := range examples {
		if seen[ex.name] {
			bad = append(bad, fmt.Sprintf("README.md:%d: a second example named %s; name each one differently", ex.line, ex.name))
		}
		seen[ex.name] = true
		if _, ok := expectations[ex.name]; !ok {
			bad = append(bad, fmt.Sprintf("README.md:%d: example %s has no expectation in readme_test.go: add what the README says it returns", ex.line, ex.name))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(expectations)) {
		if !seen[name] {
			bad = append(bad, fmt.Sprintf("readme_test.go expects an example %s that README.md no longer shows", name))
		}
	}
	return bad
}

func TestReadmeExampleDiscovery(t *testing.T) {
	md := "Some prose.\n\n```graphql\nquery Known { search { totalCount } }\n```\n\nMore prose.\n\n" +
		"```sh\nTOKEN=$(go run . token --user demo-7)\ncurl -s localhost:8080/query -H \"Authorization: Bearer $TOKEN\" -H 'Plaza-Debug: calls' \\\n" +
		"  -d '{\"query\":\"query FromCurl { me { id } }\",\"variables\":{\"a\":1}}'\n```\n\n" +
		"```sh\ngo run . &\n```\n\n```graphql\nquery Unexpected { me { id } }\n```\n"
	path := t.TempDir() + "/README.md"
	if err := os.WriteFile(path, []byte(md), 0o600); err != nil {
		t.Fatal(err)
	}
	examples := readmeExamples(t, path)
	var names []string
	for _, ex := range examples {
		names = append(names, ex.name)
	}
	if !slices.Equal(names, []string{"Known", "FromCurl", "Unexpected"}) {
		t.Fatalf("found %v", names)
	}
	t.Run("reads a curl's body, token user and debug header", func(t *testing.T) {
		ex := examples[1]
		if ex.user != "demo-7" || !ex.debug || ex.variables["a"] != float64(1) || ex.line != 9 {
			t.Fatalf("%+v", ex)
		}
	})
	t.Run("keeps the prose on both sides of a block", func(t *testing.T) {
		if p := examples[0].prose; !strings.Contains(p, "Some prose.") || !strings.Contains(p, "More prose.") {
			t.Fatalf("prose %q", p)
		}
	})
	t.Run("reports an example without an expectation and an expectation without an example", func(t *testing.T) {
		got := readmeMismatches(examples, map[string]readmeExpectation{"Known": {}, "FromCurl": {}, "Gone": {}})
		if len(got) != 2 || !strings.Contains(got[0], "example Unexpected has no expectation") || !strings.Contains(got[1], "expects an example Gone") {
			t.Fatalf("got %q", got)
		}
	})
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
	// Search reads the index: no provider is asked to search (the README's
	// "what the query cost" shows only the page's completion calls).
	if len(searched) > 0 {
		t.Errorf("search asked providers to search %v: it reads the index; calls %+v", searched, resp.Extensions.Plaza.Calls)
	}
	for _, c := range providers {
		desc := c.Describe()
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
		t.Fatalf("first page: %d doctors, %d family lawyers, %d public services; want each: %+v", doctors, lawyers, services, hits)
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

// readmeConsoleNotRun lists the console examples that the provider test does
// not run, by the start of their first command, and where they are tested.
var readmeConsoleNotRun = map[string]string{
	"go run ./cmd/plaza-conformance": "cmd/plaza-conformance TestCertifiesADemoProviderProcess certifies a demo provider process",
}

// readmeCommand is one `$ ` line of a console example and the output the
// README shows under it.
type readmeCommand struct {
	line int
	cmd  string
	want []string
}

// TestReadmeProviderExamples runs the "For providers" walk-through as the
// README tells a provider to: the demo provider it starts (its flags read
// from the README, on a free loopback port instead of 9101), the README's
// own plaza_post in bash, then every console command in order in one shell,
// so the variables one command sets feed the next. Each command's output
// must match what the README shows, "…" standing for any text.
func TestReadmeProviderExamples(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's provider examples need %s: %v", tool, err)
		}
	}
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var start, prelude string
	var cmds []readmeCommand
	for _, b := range readmeBlocks(t, string(md)) {
		switch {
		case slices.Contains(readmeShellLangs, b.lang) && strings.Contains(b.body, "go run ./cmd/demo-provider"):
			start = b.body
		case slices.Contains(readmeShellLangs, b.lang) && strings.Contains(b.body, "plaza_post() {"):
			prelude = b.body
		case b.lang == "console":
			cs := readmeCommands(b)
			if len(cs) == 0 {
				t.Fatalf("README.md:%d: a console block without a `$ ` command", b.line)
			}
			if !strings.Contains(b.body, "plaza_post") && !strings.Contains(b.body, "$PROVIDER") {
				if !slices.ContainsFunc(slices.Collect(maps.Keys(readmeConsoleNotRun)), func(p string) bool { return strings.HasPrefix(cs[0].cmd, p) }) {
					t.Fatalf("README.md:%d: console example %q is neither run here nor listed in readmeConsoleNotRun", b.line, cs[0].cmd)
				}
				continue
			}
			cmds = append(cmds, cs...)
		}
	}
	if start == "" || prelude == "" || len(cmds) == 0 {
		t.Fatalf("README.md: want the demo provider's start command, plaza_post and console examples; found start %t, plaza_post %t, %d commands", start != "", prelude != "", len(cmds))
	}

	flags := map[string]string{}
	for _, m := range regexp.MustCompile(`--([\w-]+) (\S+)`).FindAllStringSubmatch(start, -1) {
		flags[m[1]] = m[2]
	}
	provider := startReadmeProvider(t, flags)

	// One shell for every command, a marker before each so the output can be
	// split back into the commands'.
	const marker = "@@readme-command@@"
	var script strings.Builder
	script.WriteString(prelude + "\nexport PROVIDER=" + provider + "\n")
	for _, c := range cmds {
		fmt.Fprintf(&script, "printf '\\n%s\\n'\n%s\n", marker, c.cmd)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "-c", script.String())
	var stderr strings.Builder
	sh.Stderr = &stderr
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, stderr.String())
	}
	parts := strings.Split(string(out), marker+"\n")
	if len(parts) != len(cmds)+1 {
		t.Fatalf("%d outputs for %d commands:\n%s", len(parts)-1, len(cmds), out)
	}
	for i, c := range cmds {
		name := c.cmd
		if len(name) > 60 {
			name = name[:60] + "…"
		}
		t.Run(fmt.Sprintf("README.md:%d %s", c.line, name), func(t *testing.T) {
			got := strings.TrimSuffix(parts[i+1], "\n")
			if i+1 < len(cmds) {
				got = strings.TrimSuffix(got, "\n") // the marker's leading newline
			}
			var lines []string
			if got != "" {
				lines = strings.Split(got, "\n")
			}
			if len(lines) != len(c.want) {
				t.Fatalf("%d lines of output, the README shows %d:\n%s", len(lines), len(c.want), got)
			}
			for k, w := range c.want {
				if !readmeTemplate(w).MatchString(lines[k]) {
					t.Errorf("line %d:\n got %s\nwant %s", k+1, lines[k], w)
				}
			}
		})
	}
	if t.Failed() && stderr.Len() > 0 {
		t.Logf("bash stderr:\n%s", stderr.String())
	}
}

// readmeCommands splits a console block into its commands and outputs.
func readmeCommands(b readmeBlock) []readmeCommand {
	var out []readmeCommand
	for i, l := range strings.Split(b.body, "\n") {
		if cmd, ok := strings.CutPrefix(l, "$ "); ok {
			out = append(out, readmeCommand{line: b.line + 1 + i, cmd: cmd})
		} else if len(out) > 0 && l != "" {
			out[len(out)-1].want = append(out[len(out)-1].want, l)
		}
	}
	return out
}

// readmeTemplate matches a whole line of output the README shows, where
// "…" stands for any text.
func readmeTemplate(shown string) *regexp.Regexp {
	parts := strings.Split(shown, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// startReadmeProvider serves the demo provider the README's start command
// names (its --vertical, --provider and --secret) on a free loopback port
// and returns its URL.
func startReadmeProvider(t *testing.T, flags map[string]string) string {
	t.Helper()
	id, secret := flags["provider"], flags["secret"]
	vertical := connectors.Vertical(strings.ReplaceAll(strings.ToUpper(flags["vertical"]), "-", "_"))
	i := slices.IndexFunc(demo.DefaultDescriptors(), func(d connectors.Descriptor) bool { return d.ID == id && d.Vertical == vertical })
	if i < 0 || secret == "" {
		t.Fatalf("the README starts demo provider %q (%s) with secret %q: no such demo provider", id, vertical, secret)
	}
	conn, err := demo.New(demo.DefaultDescriptors()[i])
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpprovider.NewHandler(conn, secret))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestReadmeTryItWaitsUntilReady runs the "Try it" block's wait for the
// gateway against one that is not ready for its first two probes: the
// commands after it must not start before /readyz answers 200.
func TestReadmeTryItWaitsUntilReady(t *testing.T) {
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var wait string
	var before []string
	for _, b := range readmeBlocks(t, string(md)) {
		if !strings.Contains(b.body, "go run . &") {
			continue
		}
		for _, l := range strings.Split(b.body, "\n") {
			if strings.Contains(l, "/readyz") {
				wait = l
				break
			}
			before = append(before, l)
		}
		if wait == "" {
			t.Fatalf("README.md:%d: the try-it commands do not wait for /readyz", b.line)
		}
		for _, l := range before {
			cmd, _, _ := strings.Cut(l, "#") // a comment may name the URL
			if strings.Contains(cmd, "token") || strings.Contains(cmd, "/query") {
				t.Fatalf("README.md:%d: %q runs before the wait for /readyz", b.line, l)
			}
		}
	}
	if wait == "" {
		t.Fatal("README.md: no try-it block (`go run . &`)")
	}

	g := startDemo(t)
	var probes atomic.Int32
	notReadyYet := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && probes.Add(1) <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		g.Server.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(notReadyYet.Close)
	script := strings.ReplaceAll(wait, "localhost:8080", strings.TrimPrefix(notReadyYet.URL, "http://"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "bash", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	if n := probes.Load(); n != 3 {
		t.Fatalf("the wait returned after %d probes of /readyz, want 3 (two 503s, then 200)", n)
	}
}
