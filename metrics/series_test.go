package metrics_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/plaza-gateway/plaza/connectors"
	"github.com/plaza-gateway/plaza/gateway"
	"github.com/plaza-gateway/plaza/metrics"
	"github.com/plaza-gateway/plaza/resilience"
)

// grocer is a grocery provider that answers UserOrders, or fails it.
type grocer struct {
	connectors.Grocery // only UserOrders is called
	id                 string
	fails              bool
}

func (g grocer) Describe() connectors.Descriptor {
	return connectors.Descriptor{ID: g.id, Vertical: connectors.VerticalGrocery}
}

func (g grocer) UserOrders(context.Context, string) ([]connectors.GroceryOrder, error) {
	if g.fails {
		return nil, connectors.Errorf(connectors.KindUnavailable, "down")
	}
	return []connectors.GroceryOrder{{ID: "o-" + g.id}}, nil
}

// TestSeriesIndependentOfProviders calls every provider of a registry of 10
// and of 1000 (a tenth of them failing, so breakers open, calls are
// rejected and retried) through the gateway, the call policy and the
// metrics wired as the server wires them, and counts the series /metrics
// exports: the same for both, and none labelled by provider.
func TestSeriesIndependentOfProviders(t *testing.T) {
	series := func(t *testing.T, providers int) (int, []string) {
		conns := make([]connectors.Connector, providers)
		for i := range conns {
			conns[i] = grocer{id: fmt.Sprint("grocer-", i), fails: i%10 == 0}
		}
		reg, err := connectors.NewRegistry(conns...)
		if err != nil {
			t.Fatal(err)
		}
		m := metrics.New()
		c := resilience.DefaultProviderConfig()
		c.BreakerConsecutiveFailures, c.MaxRetries, c.BaseBackoff, c.MaxBackoff = 2, 1, time.Microsecond, time.Microsecond
		policy := resilience.New(resilience.Config{Defaults: c}, resilience.WithObserver(m))
		m.RegisterBreakers(policy)
		gw := gateway.New(reg, gateway.WithPolicy(policy), gateway.WithObserver(m))
		for range 3 { // the third finds the failing providers' breakers open
			if _, errs := gw.UserOrders(context.Background(), "u-1"); len(errs) != (providers+9)/10 {
				t.Fatalf("%d providers: %d errors, want one per failing provider", providers, len(errs))
			}
		}
		families, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n, names := 0, []string{}
		for _, f := range families {
			if !strings.HasPrefix(f.GetName(), "plaza_") {
				continue // the Go runtime's and the process's own
			}
			names = append(names, f.GetName())
			for _, metric := range f.GetMetric() {
				n++
				if label := providerLabel(metric); label != "" {
					t.Errorf("%s has a provider label (%s)", f.GetName(), label)
				}
			}
		}
		return n, names
	}
	few, names := series(t, 10)
	many, _ := series(t, 1000)
	if few != many {
		t.Fatalf("/metrics has %d plaza_ series with 10 providers and %d with 1000; want the same", few, many)
	}
	for _, want := range []string{"plaza_connector_calls_total", "plaza_connector_rejections_total", "plaza_connector_retries_total", "plaza_connector_breakers"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("%s not exported (have %v): the test would not notice its labels", want, names)
		}
	}
}

func providerLabel(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "provider" {
			return l.GetValue()
		}
	}
	return ""
}
