package delivery

import (
	"testing"
	"time"
)

// TestLastChanceBeforeEndAt: a retry whose backoff (or Retry-After, or
// breaker pause) falls at or after end_at is moved to end_at − timeout when
// a whole request still fits; the message expires only when none fits.
func TestLastChanceBeforeEndAt(t *testing.T) {
	end := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	const timeout = 10 * time.Second
	before := func(d time.Duration) time.Time { return end.Add(-d) }
	never := time.Time{}
	for _, c := range []struct {
		name      string
		now, next time.Time
		timeout   time.Duration
		want      time.Time // zero: expires
	}{
		{name: "backoff before end_at stands", now: before(time.Minute), next: before(30 * time.Second), timeout: timeout, want: before(30 * time.Second)},
		{name: "backoff inside the last timeout before end_at stands", now: before(time.Minute), next: before(time.Second), timeout: timeout, want: before(time.Second)},
		{name: "backoff just before end_at, too late for a whole timeout, stands", now: before(3 * time.Second), next: before(time.Second), timeout: timeout, want: before(time.Second)},
		{name: "backoff at end_at: last chance at end_at − timeout", now: before(time.Minute), next: end, timeout: timeout, want: before(timeout)},
		{name: "backoff after end_at (the 7th attempt, 26 s before end_at)", now: before(26 * time.Second), next: end.Add(20 * time.Second), timeout: timeout, want: before(timeout)},
		{name: "Retry-After of an hour", now: before(5 * time.Minute), next: end.Add(55 * time.Minute), timeout: timeout, want: before(timeout)},
		{name: "end_at − timeout is now: right away", now: before(timeout), next: end.Add(time.Minute), timeout: timeout, want: before(timeout)},
		{name: "a whole timeout no longer fits: expires", now: before(timeout - time.Millisecond), next: end.Add(time.Minute), timeout: timeout, want: never},
		{name: "the last chance failed: expires", now: before(timeout - 40*time.Millisecond), next: end.Add(30 * time.Second), timeout: timeout, want: never},
		{name: "at end_at: expires", now: end, next: end.Add(time.Second), timeout: timeout, want: never},
		{name: "after end_at: expires", now: end.Add(time.Second), next: end.Add(2 * time.Second), timeout: timeout, want: never},
		{name: "a timeout longer than what is left of the mailing: expires", now: before(time.Minute), next: end.Add(time.Second), timeout: 2 * time.Minute, want: never},
		{name: "no timeout: expires rather than try at end_at", now: before(time.Minute), next: end, timeout: 0, want: never},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := lastChance(c.now, c.next, end, c.timeout)
			if c.want.IsZero() {
				if ok {
					t.Fatalf("lastChance(now=end−%s, next=end+%s) = %s, want it to expire", end.Sub(c.now), c.next.Sub(end), got)
				}
				return
			}
			if !ok || !got.Equal(c.want) {
				t.Fatalf("lastChance(now=end−%s, next=end+%s) = %s, %v; want %s (end−%s)", end.Sub(c.now), c.next.Sub(end), got, ok, c.want, end.Sub(c.want))
			}
			if !got.Equal(c.next) && (got.Before(c.now) || got.Add(c.timeout).After(end)) {
				t.Fatalf("lastChance = %s: a last chance must start at or after now with a whole timeout before end_at", got)
			}
		})
	}
}
