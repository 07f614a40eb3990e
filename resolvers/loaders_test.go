package resolvers_test

import (
	"context"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/resolvers"
)

// clinic is a medical provider whose appointments carry its name.
type clinic struct {
	connectors.Medical // only UserAppointments is called
	name               string
}

func (c clinic) Describe() connectors.Descriptor {
	return connectors.Descriptor{ID: "clinic", Name: c.name, Vertical: connectors.VerticalMedical}
}

func (c clinic) UserAppointments(context.Context, string) ([]connectors.Appointment, error) {
	return []connectors.Appointment{{ID: "a-" + c.name}}, nil
}

// TestOperationPinsItsRegistry checks that the per-operation context the
// HTTP layer builds (WithLoaders) pins the loaders' registry for the
// gateway's fan-outs too: after a reload, the operation still calls the
// providers it started with.
func TestOperationPinsItsRegistry(t *testing.T) {
	reg := func(name string) *connectors.Registry {
		r, err := connectors.NewRegistry(clinic{name: name})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	gw := gateway.New(reg("old"))
	ctx := resolvers.WithLoaders(context.Background(), gw)
	gw.SetRegistry(reg("new")) // the reload, once the operation has started
	items, errs := gw.UserAppointments(ctx, "u-1")
	if len(errs) > 0 || len(items) != 1 || items[0].Value.ID != "a-old" {
		t.Fatalf("items %v, errs %v; want the old registry's appointment", items, errs)
	}
}
