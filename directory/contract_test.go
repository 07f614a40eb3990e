package directory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type openStore func(t *testing.T, opts ...directory.Option) directory.Store

// The contract every backend keeps. TestMemoryContract and
// TestPostgresContract run it.
func runContract(t *testing.T, open openStore) {
	ctx := context.Background()

	t.Run("a registered provider is PENDING, readable, in the snapshot and not routed", func(t *testing.T) {
		s := open(t)
		before := s.State().Version
		p, err := s.Register(ctx, registration("freshcart-2", connectors.VerticalGrocery, "Hangzhou", "Ningbo"), "ops-1")
		if err != nil {
			t.Fatal(err)
		}
		if p.Lifecycle != directory.Pending || p.Version <= before {
			t.Fatalf("registered: lifecycle %v version %d (before %d)", p.Lifecycle, p.Version, before)
		}
		got, err := s.Get(ctx, "freshcart-2")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Freshcart-2 Market" || got.ContactEmail != "ops@freshcart-2.example" ||
			strings.Join(got.Cities, ",") != "Hangzhou,Ningbo" || got.Endpoint != "https://freshcart-2.example/plaza" {
			t.Fatalf("Get: %+v", got)
		}
		e, ok := s.Snapshot().Lookup("freshcart-2")
		if !ok || e.Lifecycle() != directory.Pending || e.Endpoint() != got.Endpoint || e.Vertical() != connectors.VerticalGrocery {
			t.Fatalf("snapshot entry: ok=%v %+v", ok, e.Descriptor())
		}
		if n := s.Snapshot().CountServing(connectors.VerticalGrocery, "Hangzhou"); n != 0 {
			t.Fatalf("a PENDING provider is routed: %d serving", n)
		}
		if s.State().Version != s.Snapshot().Version() || s.Snapshot().Version() != p.Version {
			t.Fatalf("state version %d, snapshot %d, provider %d", s.State().Version, s.Snapshot().Version(), p.Version)
		}
	})

	t.Run("bad input names the field and changes nothing", func(t *testing.T) {
		s := open(t)
		if _, err := s.Register(ctx, registration("taken", connectors.VerticalLegal, "Beijing"), "ops-1"); err != nil {
			t.Fatal(err)
		}
		manyCities := make([]string, directory.MaxCities+1)
		for i := range manyCities {
			manyCities[i] = fmt.Sprintf("City %d", i)
		}
		cases := []struct {
			name   string
			change func(*directory.Registration)
			field  string
		}{
			{"duplicate id", func(r *directory.Registration) { r.ID = "taken" }, "id"},
			{"id with capitals", func(r *directory.Registration) { r.ID = "Fresh_Cart" }, "id"},
			{"unknown vertical", func(r *directory.Registration) { r.Vertical = "BAKERY" }, "vertical"},
			{"empty name", func(r *directory.Registration) { r.Name = " " }, "name"},
			{"name too long", func(r *directory.Registration) { r.Name = strings.Repeat("n", directory.MaxNameLength+1) }, "name"},
			{"no cities", func(r *directory.Registration) { r.Cities = nil }, "cities"},
			{"too many cities", func(r *directory.Registration) { r.Cities = manyCities }, "cities"},
			{"blank city", func(r *directory.Registration) { r.Cities = []string{"Hangzhou", " "} }, "cities"},
			{"control character in a city", func(r *directory.Registration) { r.Cities = []string{"Hang\x1fzhou"} }, "cities"},
			{"missing endpoint", func(r *directory.Registration) { r.Endpoint = "" }, "endpoint"},
			{"not a URL", func(r *directory.Registration) { r.Endpoint = "provider.example" }, "endpoint"},
			{"ftp scheme", func(r *directory.Registration) { r.Endpoint = "ftp://provider.example/plaza" }, "endpoint"},
			{"http off loopback", func(r *directory.Registration) { r.Endpoint = "http://provider.example/plaza" }, "endpoint"},
			{"credentials in URL", func(r *directory.Registration) { r.Endpoint = "https://u:p@provider.example/" }, "endpoint"},
			{"bad sandbox", func(r *directory.Registration) { r.SandboxEndpoint = "gopher://x" }, "sandboxEndpoint"},
			{"bad email", func(r *directory.Registration) { r.ContactEmail = "not an email" }, "contactEmail"},
			{"secret too short", func(r *directory.Registration) { r.Secret = "short" }, "secret"},
			{"negative timeout", func(r *directory.Registration) { r.Limits.Timeout = -time.Second }, "limits.timeout"},
			{"unknown cache type", func(r *directory.Registration) { r.CacheTTL = map[string]time.Duration{"Pizza": time.Second} }, "cacheTTL"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := s.Snapshot()
				r := registration("newcomer", connectors.VerticalGrocery, "Hangzhou")
				c.change(&r)
				_, err := s.Register(ctx, r, "ops-1")
				if directory.CodeOf(err) != directory.Invalid || directory.FieldOf(err) != c.field {
					t.Fatalf("got %v (code %s, field %q), want BAD_USER_INPUT on %q", err, directory.CodeOf(err), directory.FieldOf(err), c.field)
				}
				if !errors.Is(err, directory.ErrInvalid) {
					t.Fatalf("errors.Is(%v, ErrInvalid) is false", err)
				}
				after := s.Snapshot()
				if after.Version() != before.Version() || after.Len() != before.Len() {
					t.Fatalf("snapshot changed: version %d -> %d, len %d -> %d", before.Version(), after.Version(), before.Len(), after.Len())
				}
				if r.ID != "taken" {
					if _, err := s.Get(ctx, r.ID); directory.CodeOf(err) != directory.NotFound {
						t.Fatalf("Get after a refused registration: %v", err)
					}
				}
			})
		}
	})

	t.Run("http is accepted on loopback in development", func(t *testing.T) {
		s := open(t)
		r := registration("local-demo", connectors.VerticalMedical, "Shanghai")
		r.Endpoint, r.SandboxEndpoint = "http://127.0.0.1:9101", "http://localhost:9102/sandbox"
		if _, err := s.Register(ctx, r, "ops-1"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("lifecycle moves route the provider and are recorded", func(t *testing.T) {
		c := newClock()
		s := open(t, directory.WithClock(c.Now))
		mustRegister(t, s, registration("lotus", connectors.VerticalGrocery, "Hangzhou", "Suzhou"))
		steps := []struct {
			to      directory.Lifecycle
			routed  bool
			wantErr directory.Code
		}{
			{directory.Active, false, directory.Conflict}, // PENDING cannot skip certification
			{directory.Certified, false, ""},
			{directory.Active, true, ""},
			{directory.Suspended, false, ""},
			{directory.Certified, false, directory.Conflict},
			{directory.Active, true, ""},
			{directory.Retired, false, ""},
			{directory.Active, false, directory.Conflict}, // RETIRED is final
		}
		for i, st := range steps {
			c.Add(time.Minute)
			before := s.Snapshot().Version()
			_, err := s.Transition(ctx, "lotus", st.to, "ops-1", fmt.Sprintf("step %d", i))
			if directory.CodeOf(err) != st.wantErr {
				t.Fatalf("step %d to %s: got %v, want code %q", i, st.to, err, st.wantErr)
			}
			if err != nil && s.Snapshot().Version() != before {
				t.Fatalf("step %d: a refused transition changed the version", i)
			}
			page := s.Snapshot().Serving(connectors.VerticalGrocery, "Suzhou", "", 10)
			if routed := len(page.Entries) == 1 && page.Entries[0].ID() == "lotus"; routed != st.routed {
				t.Fatalf("step %d (%s): routed=%v, want %v", i, st.to, routed, st.routed)
			}
		}
		h, err := s.History(ctx, "lotus")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range h {
			got = append(got, x.From.String()+">"+x.To.String()+" by "+x.Actor+" ("+x.Reason+")")
		}
		want := "PENDING>CERTIFIED by ops-1 (step 1)|CERTIFIED>ACTIVE by ops-1 (step 2)|ACTIVE>SUSPENDED by ops-1 (step 3)|" +
			"SUSPENDED>ACTIVE by ops-1 (step 5)|ACTIVE>RETIRED by ops-1 (step 6)"
		if strings.Join(got, "|") != want {
			t.Fatalf("history:\n got %s\nwant %s", strings.Join(got, "|"), want)
		}
		if !h[0].At.Equal(newClock().now.Add(2*time.Minute)) || h[0].Version == 0 || h[1].Version <= h[0].Version {
			t.Fatalf("history times/versions: %+v", h)
		}
		if _, err := s.Transition(ctx, "nobody", directory.Active, "ops-1", ""); directory.CodeOf(err) != directory.NotFound {
			t.Fatalf("unknown id: %v", err)
		}
		if _, err := s.Transition(ctx, "lotus", directory.Active, "", ""); directory.FieldOf(err) != "actor" {
			t.Fatalf("no actor: %v", err)
		}
	})

	t.Run("coverage answers who serves a city for a vertical, page by page", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"e-mart", "a-mart", "d-mart", "c-mart", "b-mart"} {
			mustActivate(t, s, registration(id, connectors.VerticalGrocery, "Hangzhou"))
		}
		mustActivate(t, s, registration("a-clinic", connectors.VerticalMedical, "Hangzhou"))
		mustActivate(t, s, registration("f-mart", connectors.VerticalGrocery, "Beijing"))
		snap := s.Snapshot()
		var ids []string
		after := ""
		for pages := 0; ; pages++ {
			page := snap.Serving(connectors.VerticalGrocery, "Hangzhou", after, 2)
			if page.Total != 5 {
				t.Fatalf("total %d, want 5", page.Total)
			}
			for _, e := range page.Entries {
				ids = append(ids, e.ID())
				after = e.ID()
			}
			if !page.HasNext {
				break
			}
		}
		if strings.Join(ids, ",") != "a-mart,b-mart,c-mart,d-mart,e-mart" {
			t.Fatalf("pages: %v", ids)
		}
		if n := snap.CountServing("", "Hangzhou"); n != 6 {
			t.Fatalf("every vertical in Hangzhou: %d, want 6", n)
		}
		if n := snap.CountServing(connectors.VerticalGrocery, ""); n != 6 {
			t.Fatalf("grocery anywhere: %d, want 6", n)
		}
		if n := snap.CountServing(connectors.VerticalGrocery, "Atlantis"); n != 0 {
			t.Fatalf("unknown city: %d", n)
		}
	})

	t.Run("a city change moves the provider between coverage cells", func(t *testing.T) {
		s := open(t)
		mustActivate(t, s, registration("mover", connectors.VerticalLegal, "Hangzhou"))
		p, err := s.UpdateCities(ctx, "mover", []string{"Chengdu", "Xi'an", "Chengdu"}, "ops-1", "")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(p.Cities, ",") != "Chengdu,Xi'an" {
			t.Fatalf("cities %v (duplicates are dropped)", p.Cities)
		}
		snap := s.Snapshot()
		if snap.CountServing(connectors.VerticalLegal, "Hangzhou") != 0 || snap.CountServing(connectors.VerticalLegal, "Xi'an") != 1 {
			t.Fatal("coverage did not follow the city change")
		}
		e, _ := snap.Lookup("mover")
		if !e.ServesCity("Chengdu") || e.ServesCity("Hangzhou") {
			t.Fatalf("entry cities %v", e.Cities())
		}
		if _, err := s.UpdateCities(ctx, "mover", nil, "ops-1", ""); directory.FieldOf(err) != "cities" {
			t.Fatalf("empty city list: %v", err)
		}
		if _, err := s.UpdateCities(ctx, "ghost", []string{"Hangzhou"}, "ops-1", ""); directory.CodeOf(err) != directory.NotFound {
			t.Fatalf("unknown id: %v", err)
		}
	})

	t.Run("limits reach the snapshot", func(t *testing.T) {
		s := open(t)
		mustRegister(t, s, registration("limited", connectors.VerticalPublicService, "Hangzhou"))
		l := directory.Limits{Timeout: 1500 * time.Millisecond, MaxConcurrent: 8, MaxBatch: 50, MaxItems: 5000, PushesPerMinute: 60}
		if _, err := s.UpdateLimits(ctx, "limited", l, "ops-1", ""); err != nil {
			t.Fatal(err)
		}
		if e, _ := s.Snapshot().Lookup("limited"); e.Limits() != l {
			t.Fatalf("limits %+v, want %+v", e.Limits(), l)
		}
		if _, err := s.UpdateLimits(ctx, "limited", directory.Limits{MaxBatch: -1}, "ops-1", ""); directory.FieldOf(err) != "limits.maxBatch" {
			t.Fatalf("negative batch: %v", err)
		}
	})

	t.Run("a rotated secret keeps the old one verifying for the overlap", func(t *testing.T) {
		c := newClock()
		s := open(t, directory.WithClock(c.Now))
		r := registration("rotor", connectors.VerticalGrocery, "Hangzhou")
		mustRegister(t, s, r)
		assertSecrets(t, s, "rotor", r.Secret)
		const next = "the-next-secret-of-rotor-0123456789"
		if err := s.RotateSecret(ctx, "rotor", next, time.Hour, "ops-1", ""); err != nil {
			t.Fatal(err)
		}
		assertSecrets(t, s, "rotor", next, r.Secret)
		c.Add(time.Hour + time.Second)
		assertSecrets(t, s, "rotor", next)
		if err := s.RotateSecret(ctx, "rotor", "short", time.Hour, "ops-1", ""); directory.FieldOf(err) != "secret" {
			t.Fatalf("short secret: %v", err)
		}
		if err := s.RotateSecret(ctx, "ghost", next, time.Hour, "ops-1", ""); directory.CodeOf(err) != directory.NotFound {
			t.Fatalf("unknown id: %v", err)
		}
	})

	t.Run("every change of cities, limits and secret is in the history with who, when, why, from and to", func(t *testing.T) {
		c := newClock()
		s := open(t, directory.WithClock(c.Now))
		r := registration("chronicle", connectors.VerticalGrocery, "Hangzhou")
		mustActivate(t, s, r)
		c.Add(time.Minute)
		if _, err := s.UpdateCities(ctx, "chronicle", []string{"Hangzhou", "Suzhou"}, "ops-1", "opened a Suzhou depot"); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
		if _, err := s.UpdateLimits(ctx, "chronicle", directory.Limits{Timeout: 800 * time.Millisecond, MaxBatch: 25}, "ops-2", "slow batches"); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute)
		const next = "the-next-secret-of-chronicle-0123"
		if err := s.RotateSecret(ctx, "chronicle", next, time.Hour, "ops-1", "quarterly rotation"); err != nil {
			t.Fatal(err)
		}
		// Refused changes record nothing.
		if _, err := s.UpdateCities(ctx, "chronicle", nil, "ops-1", "oops"); directory.FieldOf(err) != "cities" {
			t.Fatalf("empty cities: %v", err)
		}
		if _, err := s.UpdateLimits(ctx, "chronicle", directory.Limits{}, "ops-1", strings.Repeat("x", directory.MaxReasonLength+1)); directory.FieldOf(err) != "reason" {
			t.Fatalf("a reason too long: %v", err)
		}
		changes, err := s.Changes(ctx, "chronicle")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ch := range changes {
			got = append(got, fmt.Sprintf("%s %s>%s %s: %s", ch.What, ch.From, ch.To, ch.Actor, ch.Reason))
		}
		n := len(changes)
		if n != 5 {
			t.Fatalf("changes:\n%s\nwant the 2 lifecycle moves, then cities, limits and secret", strings.Join(got, "\n"))
		}
		want := []string{
			"CITIES Hangzhou>Hangzhou, Suzhou ops-1: opened a Suzhou depot",
			"LIMITS timeoutMs=0 maxConcurrent=0 maxBatch=0 maxItems=0 pushesPerMinute=0>timeoutMs=800 maxConcurrent=0 maxBatch=25 maxItems=0 pushesPerMinute=0 ops-2: slow batches",
		}
		if !strings.HasPrefix(got[0], "LIFECYCLE PENDING>CERTIFIED ") || !strings.HasPrefix(got[1], "LIFECYCLE CERTIFIED>ACTIVE ") {
			t.Fatalf("first changes %q, want the lifecycle moves", got[:2])
		}
		if got[2] != want[0] || got[3] != want[1] {
			t.Fatalf("changes:\n%s\nwant\n%s", strings.Join(got[2:4], "\n"), strings.Join(want, "\n"))
		}
		sec := changes[4]
		if sec.What != directory.ChangeSecret || sec.Actor != "ops-1" || sec.Reason != "quarterly rotation" ||
			!strings.HasPrefix(sec.From, "fp:") || !strings.HasPrefix(sec.To, "fp:") || sec.From == sec.To {
			t.Fatalf("secret change %+v, want two different fingerprints", sec)
		}
		for _, ch := range changes {
			if strings.Contains(ch.From+ch.To, r.Secret) || strings.Contains(ch.From+ch.To, next) {
				t.Fatalf("a secret is in the history: %+v", ch)
			}
		}
		if !changes[2].At.Before(changes[3].At) || !changes[3].At.Before(sec.At) || !sec.At.Equal(c.Now()) {
			t.Fatalf("times %v %v %v, want the clock's at each change", changes[2].At, changes[3].At, sec.At)
		}
		for i := 1; i < n; i++ {
			if changes[i].Version <= changes[i-1].Version {
				t.Fatalf("versions out of order: %+v", changes)
			}
		}
		if e, _ := s.Snapshot().Lookup("chronicle"); e.Version() != sec.Version {
			t.Fatalf("entry version %d after the rotation, want %d (the rotation's)", e.Version(), sec.Version)
		}
		if _, err := s.Changes(ctx, "ghost"); directory.CodeOf(err) != directory.NotFound {
			t.Fatalf("unknown id: %v", err)
		}
	})

	t.Run("an onboarding code registers exactly one provider before it expires", func(t *testing.T) {
		c := newClock()
		s := open(t, directory.WithClock(c.Now))
		code, err := s.CreateOnboardingCode(ctx, "ops-1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		bad := registration("BAD ID", connectors.VerticalGrocery, "Hangzhou")
		if _, err := s.RegisterWithCode(ctx, code, bad); directory.FieldOf(err) != "id" {
			t.Fatalf("bad input with a code: %v", err)
		}
		self := registration("self-serve", connectors.VerticalGrocery, "Hangzhou")
		self.Owner = "dev-1"
		if _, err := s.RegisterWithCode(ctx, code, self); err != nil {
			t.Fatalf("first use (after a refused attempt, which must not spend it): %v", err)
		}
		if p, err := s.Get(ctx, "self-serve"); err != nil || p.Owner != "dev-1" {
			t.Fatalf("owner %q (%v), want the developer who registered", p.Owner, err)
		}
		if _, err := s.RegisterWithCode(ctx, code, registration("second", connectors.VerticalGrocery, "Hangzhou")); directory.FieldOf(err) != "code" {
			t.Fatalf("second use: %v", err)
		}
		if _, err := s.Get(ctx, "second"); directory.CodeOf(err) != directory.NotFound {
			t.Fatalf("a spent code registered a provider: %v", err)
		}
		expiring, _ := s.CreateOnboardingCode(ctx, "ops-1", time.Minute)
		c.Add(2 * time.Minute)
		if _, err := s.RegisterWithCode(ctx, expiring, registration("late", connectors.VerticalGrocery, "Hangzhou")); directory.FieldOf(err) != "code" {
			t.Fatalf("expired code: %v", err)
		}
		if _, err := s.RegisterWithCode(ctx, "pob_made-up", registration("forged", connectors.VerticalGrocery, "Hangzhou")); directory.FieldOf(err) != "code" {
			t.Fatalf("unknown code: %v", err)
		}
		if _, err := s.CreateOnboardingCode(ctx, "ops-1", 0); directory.FieldOf(err) != "ttl" {
			t.Fatalf("zero ttl: %v", err)
		}
	})

	t.Run("certification runs are stored check by check", func(t *testing.T) {
		s := open(t)
		mustRegister(t, s, registration("certme", connectors.VerticalGrocery, "Hangzhou"))
		start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		run, err := s.SaveCertification(ctx, directory.CertificationRun{ProviderID: "certme", Outcome: directory.RunRunning, StartedAt: start})
		if err != nil {
			t.Fatal(err)
		}
		run.Outcome, run.FinishedAt = directory.RunFailed, start.Add(time.Second)
		run.Checks = []directory.CheckResult{{Name: "describe", Outcome: directory.CheckPassed},
			{Name: "products by id", Outcome: directory.CheckFailed, Message: "result 2 is for id p-9, want p-2"},
			{Name: "place order", Outcome: directory.CheckSkipped, Message: "no sandbox endpoint"}}
		if _, err := s.SaveCertification(ctx, run); err != nil {
			t.Fatal(err)
		}
		second, err := s.SaveCertification(ctx, directory.CertificationRun{ProviderID: "certme", Outcome: directory.RunPassed,
			Sandbox: true, StartedAt: start.Add(time.Hour), FinishedAt: start.Add(time.Hour + time.Second),
			Checks: []directory.CheckResult{{Name: "describe", Outcome: directory.CheckPassed}}})
		if err != nil {
			t.Fatal(err)
		}
		runs, err := s.Certifications(ctx, "certme")
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[0].ID != second.ID || runs[1].ID != run.ID || len(runs[1].Checks) != 3 ||
			runs[1].Checks[1].Message != "result 2 is for id p-9, want p-2" || runs[1].Outcome != directory.RunFailed ||
			!runs[1].FinishedAt.Equal(start.Add(time.Second)) || !runs[0].Sandbox {
			t.Fatalf("runs: %+v", runs)
		}
		if _, err := s.SaveCertification(ctx, directory.CertificationRun{ProviderID: "certme", Outcome: "MAYBE"}); directory.FieldOf(err) != "outcome" {
			t.Fatalf("bad outcome: %v", err)
		}
		if _, err := s.Certifications(ctx, "ghost"); directory.CodeOf(err) != directory.NotFound {
			t.Fatalf("unknown provider: %v", err)
		}
	})

	t.Run("every change takes a higher version", func(t *testing.T) {
		s := open(t)
		last := s.State().Version
		step := func(what string, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			v := s.State().Version
			if v <= last {
				t.Fatalf("%s: version %d after %d", what, v, last)
			}
			last = v
		}
		_, err := s.Register(ctx, registration("v1", connectors.VerticalGrocery, "Hangzhou"), "ops-1")
		step("register", err)
		_, err = s.Transition(ctx, "v1", directory.Certified, "ops-1", "")
		step("transition", err)
		_, err = s.UpdateCities(ctx, "v1", []string{"Beijing"}, "ops-1", "")
		step("cities", err)
		_, err = s.UpdateLimits(ctx, "v1", directory.Limits{MaxBatch: 10}, "ops-1", "")
		step("limits", err)
		step("secret", s.RotateSecret(ctx, "v1", "another-secret-long-enough-123", time.Minute, "ops-1", ""))
	})
}

func registration(id string, v connectors.Vertical, cities ...string) directory.Registration {
	return directory.Registration{ID: id, Vertical: v, Name: strings.ToUpper(id[:1]) + id[1:] + " Market", Cities: cities,
		Endpoint: "https://" + id + ".example/plaza", ContactEmail: "ops@" + id + ".example",
		Secret: "secret-of-" + id + "-0123456789abcdef"}
}

func mustRegister(t *testing.T, s directory.Store, r directory.Registration) {
	t.Helper()
	if _, err := s.Register(context.Background(), r, "ops-1"); err != nil {
		t.Fatal(err)
	}
}

func mustActivate(t *testing.T, s directory.Store, r directory.Registration) {
	t.Helper()
	mustRegister(t, s, r)
	for _, to := range []directory.Lifecycle{directory.Certified, directory.Active} {
		if _, err := s.Transition(context.Background(), r.ID, to, "ops-1", "test"); err != nil {
			t.Fatal(err)
		}
	}
}

func assertSecrets(t *testing.T, s directory.Store, id string, want ...string) {
	t.Helper()
	got, err := s.Secrets(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("secrets of %s: %q, want %q", id, got, want)
	}
}

func TestMemoryContract(t *testing.T) {
	runContract(t, func(t *testing.T, opts ...directory.Option) directory.Store {
		return directory.NewMemory(mustSealer(t), directory.Policy{Development: true}, opts...)
	})
}

func TestPostgresContract(t *testing.T) {
	runContract(t, func(t *testing.T, opts ...directory.Option) directory.Store {
		return mustOpenPostgres(t, mustMigratedPool(t), opts)
	})
}
