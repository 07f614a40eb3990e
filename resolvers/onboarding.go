package resolvers

// Onboarding: registering providers, their certification and lifecycle,
// and paging through the directory's coverage index. schema.resolvers.go
// calls in here with one line per resolver; the directory enforces every
// rule (validation, lifecycle moves), these functions map and authorise.

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plaza-gateway/plaza/auth"
	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/graph/model"
)

// Directory is what the onboarding resolvers use of the provider directory
// (directory.Memory and directory.Postgres provide it).
type Directory interface {
	Snapshot() *directory.Snapshot
	Get(ctx context.Context, id string) (directory.Provider, error)
	Register(ctx context.Context, r directory.Registration, actor string) (directory.Provider, error)
	RegisterWithCode(ctx context.Context, code string, r directory.Registration) (directory.Provider, error)
	CreateOnboardingCode(ctx context.Context, actor string, ttl time.Duration) (string, error)
	Transition(ctx context.Context, id string, to directory.Lifecycle, actor, reason string) (directory.Provider, error)
	UpdateCities(ctx context.Context, id string, cities []string, actor, reason string) (directory.Provider, error)
	UpdateLimits(ctx context.Context, id string, limits directory.Limits, actor, reason string) (directory.Provider, error)
	RotateSecret(ctx context.Context, id, secret string, overlap time.Duration, actor, reason string) error
	History(ctx context.Context, id string) ([]directory.LifecycleChange, error)
	Changes(ctx context.Context, id string) ([]directory.Change, error)
	Certifications(ctx context.Context, id string) ([]directory.CertificationRun, error)
}

// Certifier starts a provider's certification in the background and
// returns the RUNNING run (certify.Runner).
type Certifier interface {
	Start(ctx context.Context, id string) (directory.CertificationRun, error)
}

// WithDirectory serves registration, certification and the operators'
// mutations from d, starting certification runs with c, and pages
// `providers` through d's coverage index. Without it those mutations fail
// with UNAVAILABLE and `providers` lists the gateway's registry.
func WithDirectory(d Directory, c Certifier) Option {
	return func(o *options) { o.directory, o.certifier = d, c }
}

// Defaults and bounds of the onboarding arguments.
const (
	DefaultCodeTTL      = 72 * time.Hour
	DefaultOverlap      = 24 * time.Hour
	maxCertRunsShown    = 20
	directoryCursorMark = "d:"
)

func (r *Resolver) dir() (Directory, error) {
	if r.opt.directory == nil {
		return nil, &directory.Error{Code: directory.Unavailable,
			Message: "this gateway runs without a provider directory; onboarding is not available"}
	}
	return r.opt.directory, nil
}

// operator returns the calling operator's user id; @auth(requires:
// OPERATOR) has already refused anyone else.
func operator(ctx context.Context) (string, error) {
	if p, ok := auth.From(ctx); ok && p.UserID != "" && p.HasRole(auth.RoleOperator) {
		return p.UserID, nil
	}
	return "", connectors.Errorf(connectors.KindForbidden, "requires role OPERATOR")
}

// mayRead reports whether the caller may read a provider's certification
// and history: operators, and the user who registered it.
func (r *Resolver) mayRead(ctx context.Context, d Directory, key string) (bool, error) {
	p, _ := auth.From(ctx)
	if p.UserID == "" {
		return false, nil
	}
	if p.HasRole(auth.RoleOperator) {
		return true, nil
	}
	rec, err := d.Get(ctx, key)
	if err != nil {
		return false, err
	}
	return rec.Owner != "" && rec.Owner == p.UserID, nil
}

// renamed returns err with its field named as the client knows it
// (registerProvider's input fields carry the "input." prefix).
func renamed(err error, names map[string]string) error {
	de, ok := err.(*directory.Error)
	if !ok || de.Field == "" {
		return err
	}
	out := *de
	if n, ok := names[de.Field]; ok {
		out.Field = n
	}
	return &out
}

// registrationFields maps the directory's field names to the input's.
var registrationFields = map[string]string{
	"id": "input.id", "vertical": "input.vertical", "name": "input.name", "description": "input.description",
	"cities": "input.cities", "endpoint": "input.endpoint", "sandboxEndpoint": "input.sandboxEndpoint",
	"contactEmail": "input.contactEmail", "secret": "input.signingSecret", "code": "input.onboardingCode",
}

var limitFields = map[string]string{
	"limits.timeout": "limits.timeoutMs", "limits.maxConcurrent": "limits.maxConcurrent", "limits.maxBatch": "limits.maxBatch",
	"limits.maxItems": "limits.maxItems", "limits.pushesPerMinute": "limits.pushesPerMinute",
}

func (r *Resolver) registerProvider(ctx context.Context, in model.RegisterProviderInput) (*model.RegisterProviderPayload, error) {
	d, err := r.dir()
	if err != nil {
		return nil, err
	}
	caller, _ := auth.From(ctx)
	reg := directory.Registration{ID: in.ID, Vertical: connectors.Vertical(in.Vertical), Name: in.Name,
		Description: deref(in.Description), Cities: in.Cities, Endpoint: in.Endpoint, SandboxEndpoint: deref(in.SandboxEndpoint),
		ContactEmail: in.ContactEmail, Secret: in.SigningSecret}
	var p directory.Provider
	switch code := deref(in.OnboardingCode); {
	case code != "":
		reg.Owner = caller.UserID
		p, err = d.RegisterWithCode(ctx, code, reg)
	case caller.HasRole(auth.RoleOperator):
		p, err = d.Register(ctx, reg, caller.UserID)
	default:
		return nil, &ArgError{Arg: "input.onboardingCode", Err: connectors.Errorf(connectors.KindForbidden,
			"registering a provider needs an onboarding code from an operator")}
	}
	if err != nil {
		return nil, renamed(err, registrationFields)
	}
	run, err := r.opt.certifier.Start(ctx, p.ID)
	if err != nil {
		return nil, fmt.Errorf("registered %s, but its certification did not start: %w", p.ID, err)
	}
	return &model.RegisterProviderPayload{Provider: r.directoryProvider(p), Certification: toCertificationRun(run)}, nil
}

func (r *Resolver) createOnboardingCode(ctx context.Context, ttlHours *int) (*model.OnboardingCode, error) {
	d, err := r.dir()
	if err != nil {
		return nil, err
	}
	who, err := operator(ctx)
	if err != nil {
		return nil, err
	}
	ttl := DefaultCodeTTL
	if ttlHours != nil {
		ttl = time.Duration(*ttlHours) * time.Hour
	}
	code, err := d.CreateOnboardingCode(ctx, who, ttl)
	if err != nil {
		return nil, renamed(err, map[string]string{"ttl": "ttlHours"})
	}
	return &model.OnboardingCode{Code: code, ExpiresAt: time.Now().Add(ttl).UTC().Truncate(time.Second)}, nil
}

func (r *Resolver) recertifyProvider(ctx context.Context, key string) (*model.CertificationRun, error) {
	d, err := r.dir()
	if err != nil {
		return nil, err
	}
	if ok, err := r.mayRead(ctx, d, key); err != nil || !ok {
		return nil, forbiddenOr(err)
	}
	run, err := r.opt.certifier.Start(ctx, key)
	if err != nil {
		return nil, err
	}
	return toCertificationRun(run), nil
}

// transition moves a provider's lifecycle for the calling operator.
func (r *Resolver) transition(ctx context.Context, key string, to directory.Lifecycle, reason *string) (*model.Provider, error) {
	d, err := r.dir()
	if err != nil {
		return nil, err
	}
	who, err := operator(ctx)
	if err != nil {
		return nil, err
	}
	p, err := d.Transition(ctx, key, to, who, deref(reason))
	if err != nil {
		return nil, renamed(err, map[string]string{"id": "key"})
	}
	return r.directoryProvider(p), nil
}

func (r *Resolver) updateProviderCities(ctx context.Context, key string, cities []string, reason string) (*model.Provider, error) {
	return r.update(ctx, key, func(d Directory, who string) (directory.Provider, error) {
		return d.UpdateCities(ctx, key, cities, who, reason)
	})
}

func (r *Resolver) updateProviderLimits(ctx context.Context, key string, in model.ProviderLimitsInput, reason string) (*model.Provider, error) {
	l := directory.Limits{Timeout: time.Duration(deref(in.TimeoutMs)) * time.Millisecond, MaxConcurrent: deref(in.MaxConcurrent),
		MaxBatch: deref(in.MaxBatch), MaxItems: deref(in.MaxItems), PushesPerMinute: deref(in.PushesPerMinute)}
	return r.update(ctx, key, func(d Directory, who string) (directory.Provider, error) {
		p, err := d.UpdateLimits(ctx, key, l, who, reason)
		return p, renamed(err, limitFields)
	})
}

func (r *Resolver) rotateProviderSecret(ctx context.Context, key, secret string, overlapHours *int, reason string) (*model.Provider, error) {
	overlap := DefaultOverlap
	if overlapHours != nil {
		overlap = time.Duration(*overlapHours) * time.Hour
	}
	return r.update(ctx, key, func(d Directory, who string) (directory.Provider, error) {
		if err := d.RotateSecret(ctx, key, secret, overlap, who, reason); err != nil {
			return directory.Provider{}, renamed(err, map[string]string{"overlap": "overlapHours"})
		}
		return d.Get(ctx, key)
	})
}

// update runs an operator's change of a provider and converts the result.
func (r *Resolver) update(ctx context.Context, key string, change func(Directory, string) (directory.Provider, error)) (*model.Provider, error) {
	d, err := r.dir()
	if err != nil {
		return nil, err
	}
	who, err := operator(ctx)
	if err != nil {
		return nil, err
	}
	p, err := change(d, who)
	if err != nil {
		return nil, renamed(err, map[string]string{"id": "key"})
	}
	return r.directoryProvider(p), nil
}

func (r *Resolver) registeredProvider(ctx context.Context, key string) (*model.Provider, error) {
	d, err := r.dir()
	if err != nil {
		return nil, err
	}
	ok, err := r.mayRead(ctx, d, key)
	if err != nil || !ok {
		// Another user's provider reads as missing, like another user's order.
		return nil, &directory.Error{Code: directory.NotFound, Field: "key", Message: fmt.Sprintf("provider %q not found", key)}
	}
	p, err := d.Get(ctx, key)
	if err != nil {
		return nil, renamed(err, map[string]string{"id": "key"})
	}
	return r.directoryProvider(p), nil
}

func forbiddenOr(err error) error {
	if err != nil {
		return err
	}
	return connectors.Errorf(connectors.KindForbidden, "only operators and the user who registered the provider may do this")
}

func (r *Resolver) providerLifecycle(obj *model.Provider) *model.ProviderLifecycle {
	if r.opt.directory == nil {
		return nil
	}
	e, ok := r.opt.directory.Snapshot().Lookup(obj.Key)
	if !ok {
		return nil
	}
	l := model.ProviderLifecycle(e.Lifecycle().String())
	return &l
}

// ownerView is the directory when the caller may read key's certification
// runs and history (operators and the user who registered it): nil and no
// error without a directory (the fields are null), FORBIDDEN otherwise.
func (r *Resolver) ownerView(ctx context.Context, key string) (Directory, error) {
	d := r.opt.directory
	if d == nil {
		return nil, nil
	}
	if ok, err := r.mayRead(ctx, d, key); err != nil || !ok {
		return nil, forbiddenOr(err)
	}
	return d, nil
}

func (r *Resolver) providerCertifications(ctx context.Context, obj *model.Provider) ([]*model.CertificationRun, error) {
	d, err := r.ownerView(ctx, obj.Key)
	if d == nil {
		return nil, err
	}
	runs, err := d.Certifications(ctx, obj.Key)
	if err != nil {
		return nil, err
	}
	out := make([]*model.CertificationRun, 0, min(len(runs), maxCertRunsShown))
	for _, run := range runs[:min(len(runs), maxCertRunsShown)] {
		out = append(out, toCertificationRun(run))
	}
	return out, nil
}

func (r *Resolver) providerHistory(ctx context.Context, obj *model.Provider) ([]*model.ProviderLifecycleChange, error) {
	d, err := r.ownerView(ctx, obj.Key)
	if d == nil {
		return nil, err
	}
	hist, err := d.History(ctx, obj.Key)
	if err != nil {
		return nil, err
	}
	out := make([]*model.ProviderLifecycleChange, len(hist))
	for i, h := range hist {
		out[i] = &model.ProviderLifecycleChange{From: model.ProviderLifecycle(h.From.String()), To: model.ProviderLifecycle(h.To.String()),
			Actor: h.Actor, Reason: h.Reason, At: h.At.UTC()}
	}
	return out, nil
}

func (r *Resolver) providerChanges(ctx context.Context, obj *model.Provider) ([]*model.ProviderChange, error) {
	d, err := r.ownerView(ctx, obj.Key)
	if d == nil {
		return nil, err
	}
	changes, err := d.Changes(ctx, obj.Key)
	if err != nil {
		return nil, err
	}
	out := make([]*model.ProviderChange, len(changes))
	for i, c := range changes {
		out[i] = &model.ProviderChange{What: model.ProviderChangeKind(c.What), From: c.From, To: c.To, Actor: c.Actor,
			Reason: c.Reason, At: c.At.UTC()}
	}
	return out, nil
}

// directoryProviders pages through the ACTIVE providers of the directory's
// coverage index: O(log n + first) whatever the number of providers. The
// cursor is the last provider's id, so it stays valid while the directory
// changes.
func (r *Resolver) directoryProviders(ctx context.Context, vertical *model.Vertical, city *string, first *int, after *string) (*model.ProviderConnection, error) {
	w, err := r.window(ctx, first, nil)
	if err != nil {
		return nil, err
	}
	afterID := ""
	if after != nil && *after != "" {
		if afterID, err = decodeDirectoryCursor(*after); err != nil {
			return nil, err
		}
	}
	var v connectors.Vertical
	if vertical != nil {
		v = connectors.Vertical(*vertical)
	}
	page := r.opt.directory.Snapshot().Serving(v, deref(city), afterID, w.limit)
	edges := make([]*model.ProviderEdge, len(page.Entries))
	for i, e := range page.Entries {
		edges[i] = &model.ProviderEdge{Cursor: directoryCursor(e.ID()), Node: r.entryProvider(e)}
	}
	pi := &model.PageInfo{HasNextPage: page.HasNext, HasPreviousPage: afterID != ""}
	if len(edges) > 0 {
		pi.StartCursor, pi.EndCursor = &edges[0].Cursor, &edges[len(edges)-1].Cursor
	}
	return &model.ProviderConnection{Edges: edges, PageInfo: pi, TotalCount: page.Total}, nil
}

// entryProvider converts a snapshot entry. The snapshot holds no
// description; a provider the gateway has a connector for describes itself.
func (r *Resolver) entryProvider(e directory.Entry) *model.Provider {
	if c, ok := r.gw.Registry().Get(e.ID()); ok {
		d := c.Describe()
		d.Cities = e.Cities()
		return toProvider(d)
	}
	return toProvider(e.Descriptor())
}

func (r *Resolver) directoryProvider(p directory.Provider) *model.Provider {
	return toProvider(connectors.Descriptor{ID: p.ID, Name: p.Name, Vertical: p.Vertical, Description: p.Description,
		Rating: p.Rating, Cities: p.Cities})
}

func directoryCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(directoryCursorMark + id))
}

func decodeDirectoryCursor(c string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil && strings.HasPrefix(string(raw), directoryCursorMark) && connectors.ValidProviderID(string(raw[len(directoryCursorMark):])) {
		return string(raw[len(directoryCursorMark):]), nil
	}
	return "", &ArgError{Arg: "after", Err: connectors.Errorf(connectors.KindInvalid, "invalid cursor %q", truncate(c, 64))}
}

func toCertificationRun(run directory.CertificationRun) *model.CertificationRun {
	out := &model.CertificationRun{ID: strconv.FormatInt(run.ID, 10), Outcome: model.CertificationOutcome(run.Outcome),
		Sandbox: run.Sandbox, StartedAt: run.StartedAt.UTC(), Checks: make([]*model.CertificationCheck, len(run.Checks))}
	if !run.FinishedAt.IsZero() {
		f := run.FinishedAt.UTC()
		out.FinishedAt = &f
	}
	for i, c := range run.Checks {
		out.Checks[i] = &model.CertificationCheck{Name: c.Name, Outcome: model.CheckOutcome(c.Outcome), Message: c.Message}
	}
	return out
}
