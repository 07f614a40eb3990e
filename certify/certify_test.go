package certify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-gateway/plaza/api/apitest"
	"github.com/plaza-gateway/plaza/certify"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/conformance"
	"github.com/plaza-gateway/plaza/connectors/demo"
	"github.com/plaza-gateway/plaza/directory"
)

const secret = "certify-test-secret-0123456789"

func mustMemory(tb testing.TB) *directory.Memory {
	tb.Helper()
	s, err := directory.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	return directory.NewMemory(s, directory.Policy{Development: true})
}

func mustRegister(tb testing.TB, s directory.Store, id, endpoint, sandbox string) {
	tb.Helper()
	if _, err := s.Register(context.Background(), directory.Registration{ID: id, Vertical: connectors.VerticalGrocery, Name: id,
		Cities: []string{"Hangzhou"}, Endpoint: endpoint, SandboxEndpoint: sandbox, ContactEmail: "ops@" + id + ".example",
		Secret: secret}, "ops-1"); err != nil {
		tb.Fatal(err)
	}
}

func grocery(tb testing.TB) *apitest.Provider {
	tb.Helper()
	g, err := demo.NewGrocery(demo.DefaultDescriptors()[0])
	if err != nil {
		tb.Fatal(err)
	}
	return apitest.ServeProvider(tb, g, secret)
}

func run(tb testing.TB, r *certify.Runner) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
}

func await(tb testing.TB, s directory.Store, id string) directory.CertificationRun {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		runs, err := s.Certifications(context.Background(), id)
		if err == nil && len(runs) > 0 && runs[0].Outcome != directory.RunRunning {
			return runs[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("the run of %s did not finish within 60s", id)
	return directory.CertificationRun{}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestMutatingChecksAreChecksOfTheKit(t *testing.T) {
	var mutating []string
	for _, c := range conformance.Checks() {
		if c.Mutates() {
			mutating = append(mutating, c.Name)
		}
	}
	// The six that place, book, pay, cancel or move orders and bookings; a
	// renamed check must not silently start running against a live endpoint.
	if fmt.Sprint(mutating) != "[idempotency concurrency user-lists cancel reschedule payment]" {
		t.Fatalf("mutating checks %v", mutating)
	}
}

func TestStartRefusesAProviderThatIsNotPending(t *testing.T) {
	s := mustMemory(t)
	mustRegister(t, s, "done", "https://done.example", "")
	ctx := context.Background()
	for _, to := range []directory.Lifecycle{directory.Certified, directory.Active} {
		if _, err := s.Transition(ctx, "done", to, "ops-1", ""); err != nil {
			t.Fatal(err)
		}
	}
	r := certify.New(s, certify.Config{}, quiet)
	if _, err := r.Start(ctx, "done"); directory.CodeOf(err) != directory.Conflict {
		t.Fatalf("starting an ACTIVE provider's certification: %v, want CONFLICT", err)
	}
	if _, err := r.Start(ctx, "ghost"); directory.CodeOf(err) != directory.NotFound {
		t.Fatalf("an unknown provider: %v, want NOT_FOUND", err)
	}
}

func TestAnUnreachableEndpointFailsItsDescriptorAndRunsNothingElse(t *testing.T) {
	s := mustMemory(t)
	p := grocery(t)
	url := p.URL()
	p.Stop()
	mustRegister(t, s, "gone", url, "")
	finished := make(chan string, 1)
	r := certify.New(s, certify.Config{CallTimeout: 2 * time.Second, Finished: func(_ context.Context, p string, passed bool, _ time.Time) {
		finished <- fmt.Sprint(p, " passed=", passed)
	}}, quiet)
	run(t, r)
	if _, err := r.Start(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	res := await(t, s, "gone")
	if res.Outcome != directory.RunFailed || res.Checks[0].Name != "descriptor" || res.Checks[0].Outcome != directory.CheckFailed || res.Checks[0].Message == "" {
		t.Fatalf("%+v, want FAILED on the descriptor with a message", res)
	}
	for _, c := range res.Checks[1:] {
		if c.Outcome != directory.CheckSkipped {
			t.Fatalf("check %s ran against an endpoint that does not answer: %+v", c.Name, c)
		}
	}
	if got, _ := s.Get(context.Background(), "gone"); got.Lifecycle != directory.Pending {
		t.Fatalf("lifecycle %s, want PENDING", got.Lifecycle)
	}
	select { // merchant growth hears the outcome (service levels grade it)
	case f := <-finished:
		if f != "gone passed=false" {
			t.Fatalf("Finished heard %q", f)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Finished never heard the run")
	}
}

func TestRequireApprovalKeepsAPassingProviderCertified(t *testing.T) {
	s := mustMemory(t)
	mustRegister(t, s, "careful", grocery(t).URL(), grocery(t).URL())
	r := certify.New(s, certify.Config{RequireApproval: true}, quiet)
	run(t, r)
	if _, err := r.Start(context.Background(), "careful"); err != nil {
		t.Fatal(err)
	}
	if res := await(t, s, "careful"); res.Outcome != directory.RunPassed || !res.Sandbox {
		t.Fatalf("%+v, want PASSED on the sandbox", res)
	}
	if got, _ := s.Get(context.Background(), "careful"); got.Lifecycle != directory.Certified {
		t.Fatalf("lifecycle %s, want CERTIFIED until an operator approves", got.Lifecycle)
	}
}

// counting wraps a store and counts the runs in progress: from reading the
// secret (the run begins calling the provider) to storing its outcome.
type counting struct {
	directory.Store
	inFlight, most atomic.Int32
}

func (c *counting) Secrets(ctx context.Context, id string) ([]string, error) {
	n := c.inFlight.Add(1)
	for {
		m := c.most.Load()
		if n <= m || c.most.CompareAndSwap(m, n) {
			break
		}
	}
	return c.Store.Secrets(ctx, id)
}

func (c *counting) SaveCertification(ctx context.Context, run directory.CertificationRun) (directory.CertificationRun, error) {
	if run.Outcome != directory.RunRunning {
		c.inFlight.Add(-1)
	}
	return c.Store.SaveCertification(ctx, run)
}

func TestRunsAreBoundedAndAFullQueueWaitsForTheSweep(t *testing.T) {
	s := &counting{Store: mustMemory(t)}
	endpoint := grocery(t).URL()
	const n = 6
	for i := range n {
		mustRegister(t, s, fmt.Sprintf("shop-%d", i), endpoint, "")
	}
	// A queue of one: most Starts find it full and leave their run for the
	// sweep, which comes every 50ms.
	r := certify.New(s, certify.Config{Concurrency: 2, QueueSize: 1, Sweep: 50 * time.Millisecond}, quiet)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := r.Start(context.Background(), fmt.Sprintf("shop-%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	run(t, r)
	for i := range n {
		if res := await(t, s, fmt.Sprintf("shop-%d", i)); res.Outcome != directory.RunPassed {
			t.Fatalf("shop-%d: %+v", i, res)
		}
	}
	if most := s.most.Load(); most < 1 || most > 2 {
		t.Fatalf("%d runs at once, want at most 2", most)
	}
}
