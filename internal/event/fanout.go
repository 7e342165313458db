package event

import "log/slog"

// The fan-out policy of live events, one for every fan-out: the Bus's
// status and progress subscribers, and the members of a shared execution
// (package live). A publisher never waits on a subscriber: each subscriber
// has a bounded buffer, and what a full buffer means depends on what its
// stream carries:
//   - events, each of which matters (status changes): the subscriber is
//     dropped, and told so (ErrTooSlow, which the API reports as
//     SUBSCRIBER_TOO_SLOW);
//   - snapshots, each superseding the one before (progress): the unread
//     one is replaced by the newest, and the subscriber is never dropped.

// Offer hands v to a subscriber's channel without blocking, as the policy
// says: with latest (snapshots) an unread value is replaced by v; otherwise
// (events) a full channel reports false, and the caller drops the
// subscriber (see LogDropped). Only the caller may send on ch.
func Offer[T any](ch chan T, v T, latest bool) bool {
	select {
	case ch <- v:
		return true
	default:
	}
	if !latest {
		return false
	}
	select {
	case <-ch:
	default:
	}
	ch <- v // only the caller sends: there is room now
	return true
}

// LogDropped logs that a subscriber (what) fell behind its buffer of
// buffer values and was dropped.
func LogDropped(logger *slog.Logger, what string, buffer int, args ...any) {
	logger.Warn(what+" dropped: too slow, events dropped", append([]any{"buffer", buffer}, args...)...)
}
