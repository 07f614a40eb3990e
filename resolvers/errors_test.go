package resolvers

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/plaza-gateway/plaza/connectors"
)

func TestRedactProviderDetail(t *testing.T) {
	tests := []struct{ in, want string }{
		{`delivery slot "s-01-3" is full`, `delivery slot is full`},
		{`insufficient stock for product "p-000002": 3 left`, `insufficient stock for product: 3 left`},
		{`order ord_9f8e1c is cancelled and can no longer be cancelled`, `order is cancelled and can no longer be cancelled`},
		{`slot 3f2b9c1e-8d4a-4f5e-9a7b-1c2d3e4f5a6b is taken (see https://ops.acme.internal/slots/42?k=s3cr3t)`, `slot is taken (see)`},
		{`backend api.acme.internal:8443 refused the booking`, `backend refused the booking`},
		{`10.0.3.7:5432 is unreachable`, `is unreachable`},
		{`quantity must be between 1 and 100, got 200`, `quantity must be between 1 and 100, got 200`},
		{`reason is longer than 2000 characters`, `reason is longer than 2000 characters`},
		{`"x-1"`, `the provider refused the request`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redactProviderDetail(tt.in); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorPresenterRedactsProviderDetailAndLogsIt(t *testing.T) {
	var logged bytes.Buffer
	present := ErrorPresenter(slog.New(slog.NewTextHandler(&logged, nil)))
	raw := `delivery slot "s-0042" is full, see https://ops.freshcart.internal/slots/42`
	cases := []struct {
		name string
		err  *connectors.Error
		want string
		logs bool
	}{
		{"a provider's message loses its ids and URLs; the log keeps them",
			&connectors.Error{Kind: connectors.KindConflict, Provider: "freshcart", Message: raw}, "delivery slot is full, see", true},
		{"a message Plaza wrote (no provider) is left as it is",
			connectors.Errorf(connectors.KindInvalid, `invalid cursor "abc1"`), `invalid cursor "abc1"`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logged.Reset()
			got := present(context.Background(), tc.err)
			if got.Message != tc.want {
				t.Fatalf("client sees %q, want %q", got.Message, tc.want)
			}
			if tc.logs && (!strings.Contains(logged.String(), "s-0042") || !strings.Contains(logged.String(), "ops.freshcart.internal")) {
				t.Fatalf("the log lost the provider's own words: %s", logged.String())
			}
		})
	}
}
