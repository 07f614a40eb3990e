package main

import (
	"math/rand/v2"
	"slices"
)

// bootstrapRounds is how many resamples an interval is read from: enough
// for the 2.5% and 97.5% quantiles to be stable to the third decimal.
const bootstrapRounds = 2000

// pairedInterval is the 95% paired-bootstrap interval of mean(a - b) over
// users: users are resampled with replacement (seeded), and both methods
// keep their own score for each resampled user, so what the two lists have
// in common (an easy user, a hard one) cancels out.
func pairedInterval(a, b []float64, seed uint64) (lo, hi float64) {
	n := len(a)
	if n == 0 || len(b) != n {
		return 0, 0
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = a[i] - b[i]
	}
	rng := rand.New(rand.NewPCG(seed, 0xb007))
	means := make([]float64, bootstrapRounds)
	for r := range means {
		sum := 0.0
		for range n {
			sum += d[rng.IntN(n)]
		}
		means[r] = sum / float64(n)
	}
	slices.Sort(means)
	return quantile(means, 0.025), quantile(means, 0.975)
}

// quantile reads q from sorted xs by linear interpolation.
func quantile(xs []float64, q float64) float64 {
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	f := pos - float64(i)
	return xs[i]*(1-f) + xs[i+1]*f
}
