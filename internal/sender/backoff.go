package sender

import (
	"math/rand/v2"
	"time"
)

// Backoff defaults (docs/design.md, "Sending: batches, not a job per message":
// exponential backoff with equal jitter, capped).
const (
	// DefaultBackoffBase is the delay before the second attempt, before jitter.
	DefaultBackoffBase = time.Second
	// DefaultBackoffMax caps the delay between attempts.
	DefaultBackoffMax = time.Minute
)

// Backoff returns the delay after the given attempt (1 for the first failed
// attempt): base·2^(attempt-1) capped at max, with equal jitter, i.e. a value
// in [d/2, d). Equal rather than full jitter keeps a floor under the delay so
// that a failing message never retries at once. rnd returns a number in
// [0, 1); nil uses math/rand/v2. A zero or negative base or max takes the
// default; an attempt below 1 counts as 1.
func Backoff(attempt int, rnd func() float64, base, max time.Duration) time.Duration {
	if base <= 0 {
		base = DefaultBackoffBase
	}
	if max <= 0 {
		max = DefaultBackoffMax
	}
	if base > max {
		base = max
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		if d > max/2 { // doubling would pass max (or overflow)
			d = max
			break
		}
		d *= 2
	}

	if rnd == nil {
		rnd = rand.Float64
	}
	f := rnd()
	if !(f >= 0) || f >= 1 { // also catches NaN
		f = 0
	}
	half := d / 2
	return half + time.Duration(f*float64(d-half))
}

// NextAttempt returns when a message whose attempt-th attempt ended with res
// at now is due again: now plus Backoff(attempt, rnd, DefaultBackoffBase,
// DefaultBackoffMax), or plus res.RetryAfter (capped at MaxRetryAfter) when
// the server asked for longer.
func NextAttempt(now time.Time, attempt int, res Result, rnd func() float64) time.Time {
	d := Backoff(attempt, rnd, DefaultBackoffBase, DefaultBackoffMax)
	if ra := min(res.RetryAfter, MaxRetryAfter); ra > d {
		d = ra
	}
	return now.Add(d)
}
