package conformance_test

import (
	"context"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/connectors/conformance"
	"github.com/plaza-gateway/plaza/connectors/demo"
)

// badRescheduler is the demo public-service provider whose
// RescheduleApplication breaks the contract in one way, chosen by fault.
type badRescheduler struct {
	*demo.PublicService
	fault func(p *demo.PublicService, ctx context.Context, user, id, slot string) (connectors.ServiceApplication, error)
}

func (b badRescheduler) RescheduleApplication(ctx context.Context, user, id, slot string) (connectors.ServiceApplication, error) {
	return b.fault(b.PublicService, ctx, user, id, slot)
}

// withoutReschedule is a public-service provider that lets users cancel
// applications but not move them (contract 1.3, or 1.4 without the option).
type withoutReschedule struct {
	connectors.PublicService
	connectors.ApplicationCanceller
}

// owner is the user whose application id is.
func owner(ctx context.Context, p *demo.PublicService, id string) string {
	res, err := p.Applications(ctx, []string{id})
	if err != nil || len(res) != 1 || res[0].Err != nil {
		return ""
	}
	return res[0].Value.UserID
}

func TestRescheduleCheck(t *testing.T) {
	newPublic := func(t *testing.T) *demo.PublicService {
		p, err := demo.NewPublicService(connectors.Descriptor{ID: "cityhall", Name: "City Hall", Vertical: connectors.VerticalPublicService})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		conn   func(t *testing.T) connectors.Connector
		want   conformance.Status
		reason string
	}{
		{"passes the demo public-service provider", func(t *testing.T) connectors.Connector { return newPublic(t) },
			conformance.Pass, "old slot free, new taken, status kept"},
		{"passes the demo public-service provider over HTTP", func(t *testing.T) connectors.Connector {
			c, _ := serve(t, newPublic(t), nil)
			return c
		}, conformance.Pass, "into a taken slot CONFLICT"},
		{"passes the demo medical provider", func(t *testing.T) connectors.Connector {
			m, err := demo.NewMedical(connectors.Descriptor{ID: "clinic", Name: "Clinic", Vertical: connectors.VerticalMedical})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}, conformance.Pass, "another user's NOT_FOUND"},
		{"skips grocery orders", func(t *testing.T) connectors.Connector {
			g, err := demo.NewGrocery(connectors.Descriptor{ID: "shop", Name: "Shop", Vertical: connectors.VerticalGrocery})
			if err != nil {
				t.Fatal(err)
			}
			return g
		}, conformance.Skip, "cannot reschedule bookings of products"},
		{"skips a connector without the capability", func(t *testing.T) connectors.Connector {
			p := newPublic(t)
			return withoutReschedule{p, p}
		}, conformance.Skip, "cannot reschedule"},
		{"skips a provider that answers the operation does not exist", func(t *testing.T) connectors.Connector {
			p := newPublic(t)
			c, _ := serve(t, withoutReschedule{p, p}, nil)
			return c
		}, conformance.Skip, "does not let users reschedule"},
		{"fails a provider that lets another user move an application", func(t *testing.T) connectors.Connector {
			return badRescheduler{newPublic(t), func(p *demo.PublicService, ctx context.Context, _, id, slot string) (connectors.ServiceApplication, error) {
				return p.RescheduleApplication(ctx, owner(ctx, p, id), id, slot)
			}}
		}, conformance.Fail, "another user's reschedule"},
		{"fails a provider that keeps the old slot taken", func(t *testing.T) connectors.Connector {
			return badRescheduler{newPublic(t), func(p *demo.PublicService, ctx context.Context, user, id, slot string) (connectors.ServiceApplication, error) {
				res, err := p.Applications(ctx, []string{id})
				if err != nil || res[0].Err != nil {
					return p.RescheduleApplication(ctx, user, id, slot)
				}
				was := res[0].Value
				a, err := p.RescheduleApplication(ctx, user, id, slot)
				if err == nil {
					// Someone else gets the old slot, as if it was never freed.
					_, _ = p.Apply(ctx, connectors.ApplicationInput{UserID: "squatter", ServiceID: was.ServiceID, OfficeID: was.OfficeID, SlotID: was.SlotID, Documents: was.Documents})
				}
				return a, err
			}}
		}, conformance.Fail, "is taken, want free"},
		{"fails a provider that answers the old slot", func(t *testing.T) connectors.Connector {
			return badRescheduler{newPublic(t), func(p *demo.PublicService, ctx context.Context, user, id, slot string) (connectors.ServiceApplication, error) {
				res, err := p.Applications(ctx, []string{id})
				if err != nil || res[0].Err != nil {
					return connectors.ServiceApplication{}, connectors.NotFound("application", id)
				}
				was := res[0].Value
				a, err := p.RescheduleApplication(ctx, user, id, slot)
				a.SlotID = was.SlotID
				return a, err
			}}
		}, conformance.Fail, "rescheduled"},
		{"fails a provider that answers a move into a taken slot with success", func(t *testing.T) connectors.Connector {
			return badRescheduler{newPublic(t), func(p *demo.PublicService, ctx context.Context, user, id, slot string) (connectors.ServiceApplication, error) {
				a, err := p.RescheduleApplication(ctx, user, id, slot)
				if connectors.KindOf(err) == connectors.KindConflict {
					res, _ := p.Applications(ctx, []string{id})
					return res[0].Value, nil
				}
				return a, err
			}}
		}, conformance.Fail, "want CONFLICT"},
		{"fails a provider that takes a slot it never issued", func(t *testing.T) connectors.Connector {
			return badRescheduler{newPublic(t), func(p *demo.PublicService, ctx context.Context, user, id, slot string) (connectors.ServiceApplication, error) {
				a, err := p.RescheduleApplication(ctx, user, id, slot)
				if connectors.KindOf(err) == connectors.KindNotFound && strings.HasPrefix(slot, "conformance-") {
					res, _ := p.Applications(ctx, []string{id})
					return res[0].Value, nil
				}
				return a, err
			}}
		}, conformance.Fail, "never issued"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := conformance.Evaluate(context.Background(), tc.conn(t), conformance.Only("reschedule"))
			if err != nil {
				t.Fatal(err)
			}
			got := result(t, res, "reschedule")
			if got.Status != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("got %s %q, want %s with %q", got.Status, got.Reason, tc.want, tc.reason)
			}
		})
	}
}
