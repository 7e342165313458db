package delivery

import "time"

// lastChance decides when a message that failed (or was deferred by the
// circuit breaker) at now is tried again, given next, when its backoff,
// Retry-After or the breaker would have it tried, the mailing's endAt and
// the request timeout (SENDER_TIMEOUT). It returns ok false when the
// message expires instead.
//
// next before endAt stands: an ordinary retry (its request is capped at
// endAt). next at or after endAt would expire a message that could still be
// tried, so it gets a last chance: at endAt − timeout, when a whole request
// still fits before endAt — at now when endAt − timeout is already past but
// now + timeout ≤ endAt. It expires only when no whole attempt fits. The
// last chance is an ordinary attempt; should it fail, its own next attempt
// falls after endAt again and, now being past endAt − timeout, it expires.
// (README, the introduction and SENDER_TIMEOUT; docs/design.md, "Sending:
// batches, not a job per message".)
func lastChance(now, next, endAt time.Time, timeout time.Duration) (time.Time, bool) {
	if next.Before(endAt) {
		return next, true
	}
	at := endAt.Add(-timeout)
	if at.Before(now) {
		at = now
	}
	if timeout <= 0 || at.Add(timeout).After(endAt) {
		return time.Time{}, false
	}
	return at, true
}
