package gateway_test

import (
	"context"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/gid"
)

// doctor is a medical provider that answers the calls below with its own
// name, and runs onCall first (the reload).
type doctor struct {
	connectors.Medical // only the methods below are called
	id, name           string
	onCall             func()
}

func (d *doctor) Describe() connectors.Descriptor {
	return connectors.Descriptor{ID: d.id, Name: d.name, Vertical: connectors.VerticalMedical}
}

func (d *doctor) called() {
	if d.onCall != nil {
		d.onCall()
	}
}

func (d *doctor) UserAppointments(context.Context, string) ([]connectors.Appointment, error) {
	d.called()
	return []connectors.Appointment{{ID: "a-" + d.name}}, nil
}

func (d *doctor) SearchDoctors(context.Context, connectors.Query) (connectors.Page[connectors.Doctor], error) {
	d.called()
	return connectors.Page[connectors.Doctor]{Items: []connectors.Doctor{{ID: "d-" + d.name, Name: "Dr " + d.name}}, Total: 1}, nil
}

func (d *doctor) BookAppointment(_ context.Context, in connectors.BookAppointmentInput) (connectors.Appointment, error) {
	d.called()
	return connectors.Appointment{ID: "booked-" + d.name, DoctorID: in.DoctorID}, nil
}

func registryOf(tb testing.TB, conns ...connectors.Connector) *connectors.Registry {
	tb.Helper()
	r, err := connectors.NewRegistry(conns...)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestPinnedRegistry reloads the registry in the middle of an operation:
// the first provider call swaps it for one where provider "clinic" is a
// different connector ("new"). Every later call of the operation (fan-out,
// search, facets, mutation) must still see the registry it started with
// ("old"), as its loaders do.
func TestPinnedRegistry(t *testing.T) {
	steps := []struct {
		name string
		run  func(ctx context.Context, g *gateway.Gateway) (string, error)
	}{
		{"a fan-out", func(ctx context.Context, g *gateway.Gateway) (string, error) {
			items, errs := g.UserAppointments(ctx, "u-1")
			if len(errs) > 0 || len(items) != 1 {
				return "", firstErr(errs)
			}
			return items[0].Value.ID, nil
		}},
		{"a search", func(ctx context.Context, g *gateway.Gateway) (string, error) {
			hits, errs := g.Search(ctx, gateway.SearchParams{Kinds: []gid.Kind{gid.Doctor}})
			if len(errs) > 0 || len(hits) != 1 {
				return "", firstErr(errs)
			}
			return hits[0].ID, nil
		}},
		{"the facets' provider names", func(ctx context.Context, g *gateway.Gateway) (string, error) {
			f := g.Facets(ctx, []gateway.Hit{{Kind: gid.Doctor, Vertical: connectors.VerticalMedical, Provider: "clinic", ID: "d"}})
			return f.Providers[0].Label, nil
		}},
		{"a mutation", func(ctx context.Context, g *gateway.Gateway) (string, error) {
			a, err := g.BookAppointment(ctx, "clinic", connectors.BookAppointmentInput{UserID: "u-1", DoctorID: "d", SlotID: "s"})
			return a.ID, err
		}},
	}
	want := map[string]string{
		"a fan-out": "a-old", "a search": "d-old", "the facets' provider names": "old", "a mutation": "booked-old",
	}
	for _, step := range steps {
		t.Run(step.name+" after a reload still uses the operation's registry", func(t *testing.T) {
			var g *gateway.Gateway
			newer := registryOf(t, &doctor{id: "clinic", name: "new"})
			older := &doctor{id: "clinic", name: "old"}
			older.onCall = func() { g.SetRegistry(newer) } // the reload, during the operation's first call
			g = gateway.New(registryOf(t, older))
			l := g.NewLoaders()
			ctx := gateway.WithRegistry(context.Background(), l.Registry())
			if _, errs := g.UserAppointments(ctx, "u-1"); len(errs) > 0 || g.Registry() != newer {
				t.Fatalf("the first call did not reload (errs %v)", errs)
			}
			older.onCall = nil
			got, err := step.run(ctx, g)
			if err != nil || got != want[step.name] {
				t.Fatalf("got %q (err %v), want %q from the registry the operation started with", got, err, want[step.name])
			}
			if l.Registry() == newer {
				t.Fatal("the loaders moved to the new registry")
			}
		})
	}

	t.Run("work outside an operation uses the current registry", func(t *testing.T) {
		newer := registryOf(t, &doctor{id: "clinic", name: "new"})
		g := gateway.New(registryOf(t, &doctor{id: "clinic", name: "old"}))
		g.SetRegistry(newer)
		items, errs := g.UserAppointments(context.Background(), "u-1")
		if len(errs) > 0 || len(items) != 1 || items[0].Value.ID != "a-new" {
			t.Fatalf("items %v, errs %v; want the new registry's", items, errs)
		}
	})
}

func firstErr(errs []error) error {
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
