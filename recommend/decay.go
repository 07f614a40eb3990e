package recommend

import (
	"math"
	"time"
)

// forwardDecay implements exponential decay with a landmark ("forward
// decay"): an event at time t is stored with weight 2^((t-landmark)/halfLife)
// and a counter is read at time now by multiplying by
// 2^(-(now-landmark)/halfLife). Counters never need touching as time passes,
// and all counters sharing a landmark rank the same at any instant, so a
// request reads them without recomputing anything.
type forwardDecay struct {
	landmark int64   // unix seconds
	halfLife float64 // seconds
}

// maxExponent keeps stored weights far from float64 overflow (2^1023);
// past it the landmark moves forward and stored values are rescaled.
const maxExponent = 500

func newForwardDecay(halfLife time.Duration) forwardDecay {
	return forwardDecay{halfLife: halfLife.Seconds()}
}

func (d forwardDecay) weight(t int64) float64 {
	return math.Exp2(float64(t-d.landmark) / d.halfLife)
}

// at reads a stored value at time now.
func (d forwardDecay) at(v float64, now int64) float64 {
	return v * math.Exp2(-float64(now-d.landmark)/d.halfLife)
}

// needsShift reports whether an event at t would push weights towards
// overflow, and by which factor stored values must be multiplied when the
// landmark moves to t.
func (d forwardDecay) needsShift(t int64) (factor float64, ok bool) {
	e := float64(t-d.landmark) / d.halfLife
	if e < maxExponent {
		return 0, false
	}
	return math.Exp2(-e), true
}

// timeBucket splits the day into four parts: night (0-6h), morning (6-12h),
// afternoon (12-18h) and evening (18-24h), in t's own location: callers
// pass t in the city's zone (citytz.In).
func timeBucket(t time.Time) int { return t.Hour() / 6 }

var bucketNames = [4]string{"tonight", "this morning", "this afternoon", "this evening"}

const numBuckets = 4
