// Package directory is Plaza's provider directory: who the providers are,
// where they are (endpoint, cities), what they may do (limits, cache TTLs)
// and where they stand (lifecycle). PostgreSQL is the source of truth when
// one is configured (Postgres); without one the embedded Memory store keeps
// the same contract in process.
//
// Every instance reads the directory from a compact Snapshot that holds no
// pointer per provider, swapped atomically, so readers never lock and 10^6
// providers cost the garbage collector a few large objects. Mutations bump a
// directory version; instances follow the versions (LISTEN/NOTIFY plus a
// catch-up from the change table) and never go backwards.
package directory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/connectors"
)

// Lifecycle is where a provider stands in onboarding. It is separate from
// the live health the breakers see: only ACTIVE providers take user traffic.
type Lifecycle uint8

const (
	// Pending: registered, not (yet) certified.
	Pending Lifecycle = iota + 1
	// Certified: passed the conformance kit; waits for an operator's approval
	// when the directory requires one.
	Certified
	// Active: called by user traffic.
	Active
	// Suspended: taken out of routing by an operator; can be resumed.
	Suspended
	// Retired: gone for good.
	Retired
)

var lifecycleNames = [...]string{Pending: "PENDING", Certified: "CERTIFIED", Active: "ACTIVE",
	Suspended: "SUSPENDED", Retired: "RETIRED"}

func (l Lifecycle) String() string {
	if l >= Pending && l <= Retired {
		return lifecycleNames[l]
	}
	return "UNKNOWN"
}

// ParseLifecycle accepts the enum names (PENDING, ...), in any case.
func ParseLifecycle(s string) (Lifecycle, bool) {
	s = strings.ToUpper(s)
	for l := Pending; l <= Retired; l++ {
		if lifecycleNames[l] == s {
			return l, true
		}
	}
	return 0, false
}

// transitions lists the lifecycle changes the directory accepts. RETIRED is
// terminal; a suspended provider resumes straight to ACTIVE.
var transitions = map[Lifecycle][]Lifecycle{
	Pending:   {Certified, Retired},
	Certified: {Active, Pending, Retired},
	Active:    {Suspended, Retired},
	Suspended: {Active, Retired},
}

// CanTransition reports whether a provider may go from one state to another.
func CanTransition(from, to Lifecycle) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// Limits are a provider's per-call policy and quotas. Zero means "the
// gateway's default" for every field.
type Limits struct {
	// Timeout bounds one call to the provider.
	Timeout time.Duration
	// MaxConcurrent caps its calls in flight (the bulkhead).
	MaxConcurrent int
	// MaxBatch splits larger batches.
	MaxBatch int
	// MaxItems caps the catalog items it may publish (the supply index).
	MaxItems int
	// PushesPerMinute caps its catalog pushes.
	PushesPerMinute int
}

// Provider is a directory record. Secrets are never part of it: read them
// with Store.Secrets.
type Provider struct {
	ID              string
	Vertical        connectors.Vertical
	Name            string
	Description     string
	Cities          []string
	Endpoint        string
	SandboxEndpoint string
	ContactEmail    string
	Rating          float64
	Limits          Limits
	// CacheTTL overrides the entity cache TTL per GraphQL type (Product: 30s).
	CacheTTL  map[string]time.Duration
	Lifecycle Lifecycle
	// Owner is the user who registered the provider with an onboarding code
	// (who may follow its certification); empty otherwise.
	Owner string
	// Version is the directory version of the provider's last change.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Registration is what a provider (or an operator for it) submits.
type Registration struct {
	ID              string
	Vertical        connectors.Vertical
	Name            string
	Description     string
	Cities          []string
	Endpoint        string
	SandboxEndpoint string
	ContactEmail    string
	// Secret signs the requests Plaza sends to the provider. Stored encrypted.
	Secret   string
	Limits   Limits
	CacheTTL map[string]time.Duration
	// Owner: see Provider.Owner.
	Owner string
}

// SigningKeys are a provider's signing secrets: Current signs, and both
// verify until PreviousUntil.
type SigningKeys struct {
	Current       string
	Previous      string
	PreviousUntil time.Time
}

// Verifying returns the secrets that verify at now: Current, then Previous
// while its overlap lasts.
func (k SigningKeys) Verifying(now time.Time) []string {
	out := make([]string, 0, 2)
	if k.Current != "" {
		out = append(out, k.Current)
	}
	if k.Previous != "" && now.Before(k.PreviousUntil) {
		out = append(out, k.Previous)
	}
	return out
}

// LifecycleChange is one entry of a provider's lifecycle history.
type LifecycleChange struct {
	From, To Lifecycle
	Actor    string
	Reason   string
	At       time.Time
	Version  int64
}

// ChangeKind is what a history entry changed.
type ChangeKind string

const (
	ChangeLifecycle ChangeKind = "LIFECYCLE"
	ChangeCities    ChangeKind = "CITIES"
	ChangeLimits    ChangeKind = "LIMITS"
	ChangeSecret    ChangeKind = "SECRET"
)

// Change is one entry of a provider's history: who changed what, when, why,
// from and to. From and To are written for people: a lifecycle state, the
// cities joined with ", ", the limits as name=value pairs; for a secret
// they are fingerprints (Sealer.Fingerprint), never the secret.
type Change struct {
	What     ChangeKind
	From, To string
	Actor    string
	Reason   string
	At       time.Time
	Version  int64
}

// CheckOutcome is the result of one conformance check.
type CheckOutcome string

const (
	CheckPassed  CheckOutcome = "PASSED"
	CheckFailed  CheckOutcome = "FAILED"
	CheckSkipped CheckOutcome = "SKIPPED"
)

// RunOutcome is the result of a certification run.
type RunOutcome string

const (
	RunRunning RunOutcome = "RUNNING"
	RunPassed  RunOutcome = "PASSED"
	RunFailed  RunOutcome = "FAILED"
)

// CheckResult is one check of a certification run.
type CheckResult struct {
	Name    string
	Outcome CheckOutcome
	Message string
}

// CertificationRun is one pass of the conformance kit over a provider.
type CertificationRun struct {
	ID         int64
	ProviderID string
	Outcome    RunOutcome
	// Sandbox: mutating checks ran against the sandbox endpoint (without
	// one they are skipped and an operator must approve).
	Sandbox    bool
	StartedAt  time.Time
	FinishedAt time.Time
	Checks     []CheckResult
}

// State is what /readyz reports about the directory.
type State struct {
	// Ready: a snapshot is loaded and being served.
	Ready bool
	// Degraded: the source of truth is unreachable; the instance serves its
	// last snapshot and mutations fail with UNAVAILABLE.
	Degraded bool
	// Version is the directory version the snapshot reflects. It never
	// decreases.
	Version int64
	// Providers is the number of providers in the snapshot.
	Providers int
	// Err is the last error talking to the source of truth, when degraded.
	Err string
}

// Store is the directory: reads from the snapshot, mutations to the source
// of truth. Memory and Postgres implement it and run the same contract tests.
//
// Mutations validate first and change nothing on error: a *Error with Code
// Invalid names the field. Unknown ids get NotFound, disallowed lifecycle
// moves Conflict, and an unreachable database Unavailable.
type Store interface {
	// Snapshot is the current read snapshot; never nil once the store is open.
	Snapshot() *Snapshot
	// State reports readiness, degradation and the version served.
	State() State

	// Get returns the full record of one provider (NotFound if none).
	Get(ctx context.Context, id string) (Provider, error)
	// Register adds a provider as PENDING.
	Register(ctx context.Context, r Registration, actor string) (Provider, error)
	// CreateOnboardingCode mints a one-time code that lets its holder register
	// exactly one provider before ttl runs out. Only its hash is stored.
	CreateOnboardingCode(ctx context.Context, actor string, ttl time.Duration) (string, error)
	// RegisterWithCode registers r and spends code in one step (Invalid with
	// field "code" when the code is unknown, spent or expired).
	RegisterWithCode(ctx context.Context, code string, r Registration) (Provider, error)
	// Transition moves a provider's lifecycle and records who, when and why.
	Transition(ctx context.Context, id string, to Lifecycle, actor, reason string) (Provider, error)
	// UpdateCities replaces the cities a provider serves, and records who,
	// when, why, from and to in its history.
	UpdateCities(ctx context.Context, id string, cities []string, actor, reason string) (Provider, error)
	// UpdateLimits replaces a provider's limits, recorded like cities.
	UpdateLimits(ctx context.Context, id string, limits Limits, actor, reason string) (Provider, error)
	// RotateSecret makes secret current; the old one keeps verifying for
	// overlap. The history records the fingerprints of both, never a secret.
	RotateSecret(ctx context.Context, id, secret string, overlap time.Duration, actor, reason string) error
	// Secrets returns the secrets that verify now: the current one first,
	// then the previous one while its overlap lasts.
	Secrets(ctx context.Context, id string) ([]string, error)
	// SigningKeys returns the current secret and the previous one with the
	// end of its overlap (Previous is "" once the overlap has ended), for a
	// consumer that keeps them and checks the overlap itself.
	SigningKeys(ctx context.Context, id string) (SigningKeys, error)
	// History returns the lifecycle changes of a provider, oldest first.
	History(ctx context.Context, id string) ([]LifecycleChange, error)
	// Changes returns every change of a provider, oldest first: lifecycle
	// moves and changes of its cities, limits and secret.
	Changes(ctx context.Context, id string) ([]Change, error)
	// SaveCertification stores a run and its checks (a new run when ID is 0).
	SaveCertification(ctx context.Context, run CertificationRun) (CertificationRun, error)
	// Certifications returns a provider's runs, newest first.
	Certifications(ctx context.Context, id string) ([]CertificationRun, error)

	Close()
}

// describeCities and describeLimits are how a history entry shows cities
// and limits.
func describeCities(cities []string) string { return strings.Join(cities, ", ") }

func describeLimits(l Limits) string {
	return fmt.Sprintf("timeoutMs=%d maxConcurrent=%d maxBatch=%d maxItems=%d pushesPerMinute=%d",
		l.Timeout.Milliseconds(), l.MaxConcurrent, l.MaxBatch, l.MaxItems, l.PushesPerMinute)
}
