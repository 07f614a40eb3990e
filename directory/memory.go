package directory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Option tunes a store.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock sets the clock used for timestamps, code expiry and the secret
// overlap window (tests move it instead of sleeping).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func buildOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Memory is the embedded directory for `go run .` without a database: the
// same contract as Postgres, held in process and lost on exit.
type Memory struct {
	policy Policy
	sealer *Sealer
	opts   options
	view   *view

	mu        sync.Mutex
	version   int64
	providers map[string]*memProvider
	codes     map[[32]byte]*memCode
	runs      []CertificationRun
}

type memProvider struct {
	p             Provider
	secret        []byte
	previous      []byte
	previousUntil time.Time
	history       []LifecycleChange
	// changes: every change, lifecycle moves included, oldest first.
	changes []Change
}

type memCode struct {
	expires time.Time
	used    bool
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process directory. sealer encrypts secrets,
// as it does in PostgreSQL, so both backends hold the same thing.
func NewMemory(sealer *Sealer, policy Policy, opts ...Option) *Memory {
	return &Memory{policy: policy, sealer: sealer, opts: buildOptions(opts), view: newView(),
		providers: map[string]*memProvider{}, codes: map[[32]byte]*memCode{}}
}

// Snapshot implements Store.
func (m *Memory) Snapshot() *Snapshot { return m.view.snapshot() }

// State implements Store: the embedded directory is always ready.
func (m *Memory) State() State {
	s := m.view.snapshot()
	return State{Ready: true, Version: s.Version(), Providers: s.Len()}
}

// Close implements Store.
func (m *Memory) Close() {}

// Seed adds providers as they are (already ACTIVE demo providers, a YAML
// file) in one change. It validates like Register, except that the endpoint
// may be empty for an in-process provider and no secret is required.
func (m *Memory) Seed(ps []Provider) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	recs := make([]record, 0, len(ps))
	seen := map[string]bool{}
	for _, p := range ps {
		if _, dup := m.providers[p.ID]; dup || seen[p.ID] {
			return invalid("id", "provider %q is already registered", p.ID)
		}
		seen[p.ID] = true
		r := Registration{ID: p.ID, Vertical: p.Vertical, Name: p.Name, Cities: p.Cities, Endpoint: p.Endpoint,
			SandboxEndpoint: p.SandboxEndpoint, ContactEmail: "seed@plaza.invalid", Secret: "seeded-provider-without-secret",
			Limits: p.Limits, CacheTTL: p.CacheTTL, Description: p.Description}
		if r.Endpoint == "" {
			r.Endpoint = "https://in-process.invalid"
		}
		if err := m.policy.validateRegistration(&r); err != nil {
			return fmt.Errorf("seed %s: %w", p.ID, err)
		}
		if p.Lifecycle == 0 {
			p.Lifecycle = Active
		}
		p.Cities = r.Cities
		recs = append(recs, recordOf(&p))
	}
	m.version++
	for i := range recs {
		recs[i].Version = m.version
	}
	now := m.opts.now()
	for _, p := range ps {
		if p.Lifecycle == 0 {
			p.Lifecycle = Active
		}
		p.Version, p.CreatedAt, p.UpdatedAt = m.version, now, now
		m.providers[p.ID] = &memProvider{p: p}
	}
	m.view.apply(m.version, recs)
	return nil
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, id string) (Provider, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mp, ok := m.providers[id]
	if !ok {
		return Provider{}, notFound(id)
	}
	return clone(mp.p), nil
}

func clone(p Provider) Provider {
	p.Cities = slices.Clone(p.Cities)
	p.CacheTTL = maps.Clone(p.CacheTTL)
	return p
}

// Register implements Store.
func (m *Memory) Register(_ context.Context, r Registration, actor string) (Provider, error) {
	if err := validateActor(actor, ""); err != nil {
		return Provider{}, err
	}
	if err := m.policy.validateRegistration(&r); err != nil {
		return Provider{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.registerLocked(r, actor)
}

func (m *Memory) registerLocked(r Registration, actor string) (Provider, error) {
	if _, dup := m.providers[r.ID]; dup {
		return Provider{}, invalid("id", "provider %q is already registered", r.ID)
	}
	sealed, err := m.sealer.Seal(r.ID, r.Secret)
	if err != nil {
		return Provider{}, err
	}
	m.version++
	now := m.opts.now()
	p := Provider{ID: r.ID, Vertical: r.Vertical, Name: r.Name, Description: r.Description, Cities: r.Cities,
		Endpoint: r.Endpoint, SandboxEndpoint: r.SandboxEndpoint, ContactEmail: r.ContactEmail, Limits: r.Limits,
		CacheTTL: maps.Clone(r.CacheTTL), Lifecycle: Pending, Owner: r.Owner, Version: m.version, CreatedAt: now, UpdatedAt: now}
	m.providers[r.ID] = &memProvider{p: p, secret: sealed}
	m.view.apply(m.version, []record{recordOf(&p)})
	return clone(p), nil
}

// CreateOnboardingCode implements Store.
func (m *Memory) CreateOnboardingCode(_ context.Context, actor string, ttl time.Duration) (string, error) {
	code, hash, err := newOnboardingCodeFor(actor, ttl)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.codes[hash] = &memCode{expires: m.opts.now().Add(ttl)}
	return code, nil
}

// MaxOnboardingCodeTTL bounds how long an onboarding code stays usable.
const MaxOnboardingCodeTTL = 30 * 24 * time.Hour

// newOnboardingCode returns a random code (128 bits, URL-safe) and the hash
// that is stored.
// newOnboardingCodeFor checks a request for an onboarding code (who asks,
// for how long), the same for every store, and mints the code and the hash
// that is all a store keeps.
func newOnboardingCodeFor(actor string, ttl time.Duration) (string, [32]byte, error) {
	if err := validateActor(actor, ""); err != nil {
		return "", [32]byte{}, err
	}
	if ttl <= 0 || ttl > MaxOnboardingCodeTTL {
		return "", [32]byte{}, invalid("ttl", "between 1s and %v", MaxOnboardingCodeTTL)
	}
	return newOnboardingCode()
}

func newOnboardingCode() (string, [32]byte, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", [32]byte{}, fmt.Errorf("directory: onboarding code: %w", err)
	}
	code := "pob_" + base64.RawURLEncoding.EncodeToString(b[:])
	return code, sha256.Sum256([]byte(code)), nil
}

func errBadCode() error {
	return invalid("code", "the onboarding code is unknown, already used or expired")
}

// RegisterWithCode implements Store.
func (m *Memory) RegisterWithCode(_ context.Context, code string, r Registration) (Provider, error) {
	if err := m.policy.validateRegistration(&r); err != nil {
		return Provider{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.codes[sha256.Sum256([]byte(code))]
	if !ok || c.used || !m.opts.now().Before(c.expires) {
		return Provider{}, errBadCode()
	}
	p, err := m.registerLocked(r, "onboarding-code")
	if err != nil {
		return Provider{}, err
	}
	c.used = true
	return p, nil
}

// Transition implements Store.
func (m *Memory) Transition(_ context.Context, id string, to Lifecycle, actor, reason string) (Provider, error) {
	if err := validateActor(actor, reason); err != nil {
		return Provider{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mp, ok := m.providers[id]
	if !ok {
		return Provider{}, notFound(id)
	}
	from := mp.p.Lifecycle
	if !CanTransition(from, to) {
		return Provider{}, errTransition(from, to)
	}
	m.version++
	now := m.opts.now()
	mp.p.Lifecycle, mp.p.Version, mp.p.UpdatedAt = to, m.version, now
	mp.history = append(mp.history, LifecycleChange{From: from, To: to, Actor: actor, Reason: reason, At: now, Version: m.version})
	mp.changes = append(mp.changes, Change{What: ChangeLifecycle, From: from.String(), To: to.String(), Actor: actor, Reason: reason,
		At: now, Version: m.version})
	m.view.apply(m.version, []record{recordOf(&mp.p)})
	return clone(mp.p), nil
}

func errTransition(from, to Lifecycle) error {
	return &Error{Code: Conflict, Field: "lifecycle", Message: fmt.Sprintf("a %s provider cannot become %s", from, to)}
}

// UpdateCities implements Store.
func (m *Memory) UpdateCities(_ context.Context, id string, cities []string, actor, reason string) (Provider, error) {
	cities, err := normalizeCities(cities)
	if err != nil {
		return Provider{}, err
	}
	return m.update(id, actor, reason, ChangeCities, func(p *Provider) (string, string) {
		from := describeCities(p.Cities)
		p.Cities = cities
		return from, describeCities(cities)
	})
}

// UpdateLimits implements Store.
func (m *Memory) UpdateLimits(_ context.Context, id string, limits Limits, actor, reason string) (Provider, error) {
	if err := validateLimits(limits); err != nil {
		return Provider{}, err
	}
	return m.update(id, actor, reason, ChangeLimits, func(p *Provider) (string, string) {
		from := describeLimits(p.Limits)
		p.Limits = limits
		return from, describeLimits(limits)
	})
}

// update applies change, which returns what the history shows as from and to.
func (m *Memory) update(id, actor, reason string, what ChangeKind, change func(*Provider) (string, string)) (Provider, error) {
	if err := validateActor(actor, reason); err != nil {
		return Provider{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mp, ok := m.providers[id]
	if !ok {
		return Provider{}, notFound(id)
	}
	m.version++
	now := m.opts.now()
	from, to := change(&mp.p)
	mp.p.Version, mp.p.UpdatedAt = m.version, now
	mp.changes = append(mp.changes, Change{What: what, From: from, To: to, Actor: actor, Reason: reason, At: now, Version: m.version})
	m.view.apply(m.version, []record{recordOf(&mp.p)})
	return clone(mp.p), nil
}

// MaxSecretOverlap bounds how long a rotated-out secret keeps verifying.
const MaxSecretOverlap = 7 * 24 * time.Hour

// RotateSecret implements Store.
func (m *Memory) RotateSecret(_ context.Context, id, secret string, overlap time.Duration, actor, reason string) error {
	if err := validateActor(actor, reason); err != nil {
		return err
	}
	if err := validateSecret("secret", secret); err != nil {
		return err
	}
	if overlap < 0 || overlap > MaxSecretOverlap {
		return invalid("overlap", "between 0 and %v", MaxSecretOverlap)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	mp, ok := m.providers[id]
	if !ok {
		return notFound(id)
	}
	sealed, err := m.sealer.Seal(id, secret)
	if err != nil {
		return err
	}
	// Secrets are not in the snapshot, but the entry's version moves, so
	// whoever holds a connector built with the old secret rebuilds it.
	m.version++
	now := m.opts.now()
	mp.changes = append(mp.changes, Change{What: ChangeSecret, From: m.sealer.fingerprintSealed(id, mp.secret),
		To: m.sealer.Fingerprint(id, secret), Actor: actor, Reason: reason, At: now, Version: m.version})
	mp.previous, mp.previousUntil, mp.secret = mp.secret, now.Add(overlap), sealed
	mp.p.Version, mp.p.UpdatedAt = m.version, now
	m.view.apply(m.version, []record{recordOf(&mp.p)})
	return nil
}

// Secrets implements Store.
func (m *Memory) Secrets(_ context.Context, id string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mp, ok := m.providers[id]
	if !ok {
		return nil, notFound(id)
	}
	k, err := openKeys(m.sealer, id, mp.secret, mp.previous, mp.previousUntil, m.opts.now())
	if err != nil {
		return nil, err
	}
	return k.Verifying(m.opts.now()), nil
}

// SigningKeys implements Store.
func (m *Memory) SigningKeys(_ context.Context, id string) (SigningKeys, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mp, ok := m.providers[id]
	if !ok {
		return SigningKeys{}, notFound(id)
	}
	return openKeys(m.sealer, id, mp.secret, mp.previous, mp.previousUntil, m.opts.now())
}

// openKeys decrypts a provider's secrets; a previous one whose overlap has
// ended is left sealed.
func openKeys(s *Sealer, id string, cur, prev []byte, prevUntil, now time.Time) (SigningKeys, error) {
	var k SigningKeys
	var err error
	if cur != nil {
		if k.Current, err = s.Open(id, cur); err != nil {
			return SigningKeys{}, err
		}
	}
	if prev != nil && now.Before(prevUntil) {
		if k.Previous, err = s.Open(id, prev); err != nil {
			return SigningKeys{}, err
		}
		k.PreviousUntil = prevUntil
	}
	return k, nil
}

// History implements Store.
func (m *Memory) History(_ context.Context, id string) ([]LifecycleChange, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mp, ok := m.providers[id]
	if !ok {
		return nil, notFound(id)
	}
	return slices.Clone(mp.history), nil
}

// Changes implements Store.
func (m *Memory) Changes(_ context.Context, id string) ([]Change, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mp, ok := m.providers[id]
	if !ok {
		return nil, notFound(id)
	}
	return slices.Clone(mp.changes), nil
}

// SaveCertification implements Store.
func (m *Memory) SaveCertification(_ context.Context, run CertificationRun) (CertificationRun, error) {
	if err := validateRun(&run); err != nil {
		return CertificationRun{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.providers[run.ProviderID]; !ok {
		return CertificationRun{}, notFound(run.ProviderID)
	}
	run.Checks = slices.Clone(run.Checks)
	if run.ID == 0 {
		run.ID = int64(len(m.runs) + 1)
		m.runs = append(m.runs, run)
		return run, nil
	}
	if run.ID < 0 || run.ID > int64(len(m.runs)) || m.runs[run.ID-1].ProviderID != run.ProviderID {
		return CertificationRun{}, &Error{Code: NotFound, Field: "run", Message: fmt.Sprintf("certification run %d not found", run.ID)}
	}
	m.runs[run.ID-1] = run
	return run, nil
}

func validateRun(run *CertificationRun) error {
	switch run.Outcome {
	case RunRunning, RunPassed, RunFailed:
	default:
		return invalid("outcome", "unknown run outcome %q", run.Outcome)
	}
	for _, c := range run.Checks {
		switch c.Outcome {
		case CheckPassed, CheckFailed, CheckSkipped:
		default:
			return invalid("checks", "unknown check outcome %q", c.Outcome)
		}
		if c.Name == "" {
			return invalid("checks", "a check has no name")
		}
	}
	return nil
}

// Certifications implements Store.
func (m *Memory) Certifications(_ context.Context, id string) ([]CertificationRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.providers[id]; !ok {
		return nil, notFound(id)
	}
	var out []CertificationRun
	for i := len(m.runs) - 1; i >= 0; i-- {
		if m.runs[i].ProviderID == id {
			r := m.runs[i]
			r.Checks = slices.Clone(r.Checks)
			out = append(out, r)
		}
	}
	return out, nil
}
