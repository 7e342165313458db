package sender

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func constRand(f float64) func() float64 { return func() float64 { return f } }

func TestBackoff(t *testing.T) {
	t.Parallel()
	const almostOne = 0.999999999
	for _, tt := range []struct {
		name      string
		attempt   int
		rnd       float64
		base, max time.Duration
		want      time.Duration
	}{
		{"FirstNoJitter", 1, 0, time.Second, time.Minute, 500 * time.Millisecond},
		{"FirstFullJitter", 1, almostOne, time.Second, time.Minute, time.Second - 1},
		{"Odd", 4, 0, 3 * time.Millisecond, time.Minute, 12 * time.Millisecond},
		{"Second", 2, 0, time.Second, time.Minute, time.Second},
		{"Third", 3, 0.5, time.Second, time.Minute, 3 * time.Second},
		{"Sixth", 6, 0, time.Second, time.Minute, 16 * time.Second},
		{"Capped", 7, 0, time.Second, time.Minute, 30 * time.Second},
		{"CappedJitter", 7, 0.75, time.Second, time.Minute, 52500 * time.Millisecond},
		{"HugeAttempt", 1 << 30, 0, time.Second, time.Minute, 30 * time.Second},
		{"MaxInt", math.MaxInt, 0, time.Second, time.Minute, 30 * time.Second},
		{"ZeroAttempt", 0, 0, time.Second, time.Minute, 500 * time.Millisecond},
		{"NegativeAttempt", -5, 0, time.Second, time.Minute, 500 * time.Millisecond},
		{"Defaults", 2, 0, 0, 0, time.Second},
		{"BaseAboveMax", 1, 0, time.Hour, time.Minute, 30 * time.Second},
		{"HugeMax", 100, 0, time.Second, time.Duration(math.MaxInt64), time.Duration(math.MaxInt64) / 2},
		{"RandNaN", 1, math.NaN(), time.Second, time.Minute, 500 * time.Millisecond},
		{"RandAboveOne", 1, 1.5, time.Second, time.Minute, 500 * time.Millisecond},
		{"RandNegative", 1, -1, time.Second, time.Minute, 500 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Backoff(tt.attempt, constRand(tt.rnd), tt.base, tt.max))
		})
	}

	t.Run("DefaultRandInRange", func(t *testing.T) {
		t.Parallel()
		for attempt := 1; attempt <= 10; attempt++ {
			d := Backoff(attempt, nil, time.Second, time.Minute)
			full := min(time.Second<<(attempt-1), time.Minute)
			require.GreaterOrEqual(t, d, full/2)
			require.Less(t, d, full)
		}
	})
}

func TestNextAttempt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		attempt int
		res     Result
		want    time.Duration
	}{
		{"Backoff", 3, Result{Outcome: Transient}, 2 * time.Second},
		{"RetryAfterLonger", 3, Result{RetryAfter: 10 * time.Second}, 10 * time.Second},
		{"RetryAfterShorter", 3, Result{RetryAfter: time.Second}, 2 * time.Second},
		{"RetryAfterCapped", 1, Result{RetryAfter: 24 * time.Hour}, MaxRetryAfter},
		{"BackoffCapped", 50, Result{}, 30 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, now.Add(tt.want), NextAttempt(now, tt.attempt, tt.res, constRand(0)))
		})
	}
}
