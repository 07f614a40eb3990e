package limits

import (
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

func opWithCost(cost int) *graphql.OperationContext {
	op := &graphql.OperationContext{}
	op.Stats.SetExtension(complexityStat, cost)
	return op
}

// TestAdmitWeighsByComplexity checks that an operation holds room in
// proportion to its complexity: a large one leaves no room for others until
// it is done, small ones share, and a wait past the deadline is OVERLOADED.
func TestAdmitWeighsByComplexity(t *testing.T) {
	g := New(Config{MaxInFlight: 4, InFlightUnit: 500}, nil)
	short := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 30*time.Millisecond)
	}
	for _, tc := range []struct {
		name      string
		held      []int // complexities of the operations running
		cost      int
		wantAdmit bool
	}{
		{"small operations share the room", []int{10, 10, 10}, 10, true},
		{"room is full", []int{10, 10, 10, 10}, 10, false},
		{"a list of 50 takes two units", []int{501, 10}, 10, true},
		{"a huge operation takes all the room", []int{20000}, 1, false},
		{"a huge operation waits for the room to empty", []int{10}, 20000, false},
		{"a huge operation runs alone", nil, 20000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var releases []func()
			for _, c := range tc.held {
				rel, err := g.Admit(context.Background(), opWithCost(c))
				if err != nil {
					t.Fatalf("could not hold %d: %v", c, err)
				}
				releases = append(releases, rel)
			}
			defer func() {
				for _, r := range releases {
					r()
				}
			}()
			ctx, cancel := short()
			defer cancel()
			rel, err := g.Admit(ctx, opWithCost(tc.cost))
			if tc.wantAdmit != (err == nil) {
				t.Fatalf("admitted %v (err %v), want %v", err == nil, err, tc.wantAdmit)
			}
			if err == nil {
				rel()
				return
			}
			if err.Extensions["code"] != CodeOverloaded || err.Extensions["retryable"] != true {
				t.Fatalf("error %v %v", err, err.Extensions)
			}
		})
	}
}

// TestAdmitRefusesAnEndedRequest checks that an operation whose request has
// ended (deadline passed, client gone) is refused OVERLOADED even when there
// is room, and gives the room back: the executor would answer it with no
// response at all.
func TestAdmitRefusesAnEndedRequest(t *testing.T) {
	g := New(Config{MaxInFlight: 1, InFlightUnit: 500}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Admit(ctx, opWithCost(1)); err == nil || err.Extensions["code"] != CodeOverloaded || err.Extensions["retryable"] != true {
		t.Fatalf("Admit with an ended context = %v, want a retryable OVERLOADED", err)
	}
	rel, err := g.Admit(context.Background(), opWithCost(1))
	if err != nil {
		t.Fatalf("the refused operation kept its room: %v", err)
	}
	rel()
}
