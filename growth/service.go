package growth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/ledger"
)

// Programs are the reward programs, declared in config
// (PLAZA_REWARD_PROGRAMS). An amount of 0 turns a program off.
type Programs struct {
	Currency string
	// PerOrder is credited for every completed order.
	PerOrder int64
	// FirstOrder is credited once per user, for their first completed
	// order with the provider.
	FirstOrder int64
	// MonthlyOK is credited for a calendar month spent entirely OK.
	MonthlyOK int64
}

// DefaultPrograms are the programs without configuration.
var DefaultPrograms = Programs{Currency: "CNY", PerOrder: 100, FirstOrder: 500, MonthlyOK: 10_000}

// ParsePrograms reads `per-order=100,first-order=500,monthly-ok=10000,currency=CNY`
// (any subset; the rest keep DefaultPrograms' values).
func ParsePrograms(spec string) (Programs, error) {
	p := DefaultPrograms
	err := eachSetting(spec, func(name, value string) error {
		if name == "currency" {
			if len(value) != 3 || strings.ToUpper(value) != value {
				return fmt.Errorf("currency %q: want an ISO 4217 code such as CNY", value)
			}
			p.Currency = value
			return nil
		}
		var n int64
		if _, err := fmt.Sscan(value, &n); err != nil || n < 0 || n > ledger.MaxAmount {
			return fmt.Errorf("%s=%s: want an amount in minor units from 0 to %d", name, value, ledger.MaxAmount)
		}
		switch name {
		case "per-order":
			p.PerOrder = n
		case "first-order":
			p.FirstOrder = n
		case "monthly-ok":
			p.MonthlyOK = n
		default:
			return fmt.Errorf("unknown program %q (want per-order, first-order, monthly-ok, currency)", name)
		}
		return nil
	})
	if err != nil {
		return Programs{}, err
	}
	return p, nil
}

// eachSetting calls f with each NAME=VALUE of a comma-separated spec.
func eachSetting(spec string, f func(name, value string) error) error {
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return fmt.Errorf("%q: want NAME=VALUE", part)
		}
		if err := f(name, value); err != nil {
			return err
		}
	}
	return nil
}

// Directory is what growth needs of the provider directory.
type Directory interface {
	Get(ctx context.Context, id string) (directory.Provider, error)
	Transition(ctx context.Context, id string, to directory.Lifecycle, actor, reason string) (directory.Provider, error)
}

// Service is merchant growth over a store, the ledger and the directory.
type Service struct {
	store    Store
	ledger   *ledger.Ledger
	dir      Directory
	programs Programs
	levels   Thresholds
	loans    LoanPolicy
	now      func() time.Time
	log      *slog.Logger
	onRevoke func()
	demoted  atomic.Pointer[map[string]bool] // RefreshLevels
	// mark is where this Service's last grading run read the changed
	// windows (EvaluateLevels); the zero Mark grades every window.
	markMu sync.Mutex
	mark   Mark
}

// Option sets an optional part of a Service.
type Option func(*Service)

// WithClock stamps everything with now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithThresholds sets the service-level thresholds.
func WithThresholds(t Thresholds) Option { return func(s *Service) { s.levels = t } }

// WithLogger logs to l.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithRevokeHook runs f after a key is revoked on this instance (to drop
// cached key answers: auth.ProviderKeys.Forget).
func WithRevokeHook(f func()) Option { return func(s *Service) { s.onRevoke = f } }

// New returns the service.
func New(store Store, l *ledger.Ledger, dir Directory, programs Programs, opts ...Option) *Service {
	s := &Service{store: store, ledger: l, dir: dir, programs: programs, levels: DefaultThresholds, loans: DefaultLoanPolicy,
		now: time.Now, log: slog.Default(), onRevoke: func() {}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Store returns the service's store (for the key middleware's lookups).
func (s *Service) Store() Store { return s.store }

// Ledger returns the service's ledger.
func (s *Service) Ledger() *ledger.Ledger { return s.ledger }

// Programs returns the configured reward programs.
func (s *Service) Programs() Programs { return s.programs }

// Provider returns the directory's record of provider; NotFound when it
// has none (a credential for a provider that is gone).
func (s *Service) Provider(ctx context.Context, provider string) (directory.Provider, error) {
	p, err := s.dir.Get(ctx, provider)
	if errors.Is(err, directory.ErrNotFound) {
		return directory.Provider{}, errorf(NotFound, "", "no such provider")
	}
	return p, err
}

func newID(prefix string) string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// CreateKey creates an API key for provider on behalf of actor (the
// provider itself or an operator) and returns the key, shown this once.
func (s *Service) CreateKey(ctx context.Context, provider, label, actor string) (string, Key, error) {
	if len(label) > 80 {
		return "", Key{}, errorf(Invalid, "label", "a label has at most 80 characters")
	}
	if _, err := s.Provider(ctx, provider); err != nil {
		return "", Key{}, err
	}
	plain, id, digest, err := auth.NewProviderKey()
	if err != nil {
		return "", Key{}, err
	}
	k := Key{ID: id, Provider: provider, Label: label, CreatedBy: actor, CreatedAt: s.now().UTC()}
	if err := s.store.CreateKey(ctx, k, digest); err != nil {
		return "", Key{}, err
	}
	return plain, k, nil
}

// RevokeKey revokes provider's key id. NotFound for another provider's key.
func (s *Service) RevokeKey(ctx context.Context, provider, id, actor string) (Key, error) {
	k, err := s.store.RevokeKey(ctx, provider, id, actor, s.now().UTC())
	if err == nil {
		s.onRevoke()
	}
	return k, err
}

// RotateKey creates a new key with the old one's label and revokes the
// old one: the caller switches to the returned key.
func (s *Service) RotateKey(ctx context.Context, provider, id, actor string) (string, Key, error) {
	keys, err := s.store.Keys(ctx, provider)
	if err != nil {
		return "", Key{}, err
	}
	for _, k := range keys {
		if k.ID != id {
			continue
		}
		if !k.RevokedAt.IsZero() {
			return "", Key{}, errorf(Conflict, "id", "the key is revoked; create a new one")
		}
		plain, nk, err := s.CreateKey(ctx, provider, k.Label, actor)
		if err != nil {
			return "", Key{}, err
		}
		if _, err := s.RevokeKey(ctx, provider, id, actor); err != nil {
			return "", Key{}, err
		}
		return plain, nk, nil
	}
	return "", Key{}, errorf(NotFound, "id", "no such key")
}

// Keys lists provider's keys, revoked ones included.
func (s *Service) Keys(ctx context.Context, provider string) ([]Key, error) {
	return s.store.Keys(ctx, provider)
}
