package demo

import (
	"math/rand/v2"
	"time"
)

// upcoming copies the slots that start after now.
func upcoming[S any](slots []*S, now time.Time, start func(*S) time.Time) []S {
	out := make([]S, 0, len(slots))
	for _, s := range slots {
		if start(s).After(now) {
			out = append(out, *s)
		}
	}
	return out
}

// randomFree returns a random slot that free accepts, or nil when none does.
// History generation uses it to book real upcoming slots.
func randomFree[S any](rng *rand.Rand, slots []*S, free func(*S) bool) *S {
	for _, i := range rng.Perm(len(slots)) {
		if free(slots[i]) {
			return slots[i]
		}
	}
	return nil
}
