// Retries: the answer to a request becomes the message's next state —
// sent, failed, retried with backoff (or a last chance before end_at,
// lastchance.go) or expired.

package delivery

import (
	"context"
	"errors"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/sender"
	"github.com/notifyhq/notify/internal/status"
)

// outcome maps the answer to a request to the message's next state.
func (e *Engine) outcome(ctx context.Context, m *ent.Mailing, r result) update {
	p, res, now := r.msg, r.res, e.now()
	attempts := p.attempts
	if res.Attempted {
		attempts++
	}
	u := update{msg: p, attempts: attempts, text: &r.text, lastError: p.lastError, statusSent: true}
	if res.Err != nil {
		u.lastError = new(res.Err.Error())
	}
	switch res.Outcome {
	case sender.Sent:
		u.status, u.sentAt = status.Sent, &now
	case sender.Permanent:
		u.status = status.Failed
	default:
		// A backoff or Retry-After past end_at leaves a last chance before it.
		next, ok := lastChance(now, sender.NextAttempt(now, max(attempts, 1), res, e.rand), m.EndAt, e.sender.Timeout())
		switch {
		case errors.Is(res.Err, sender.ErrDeadlinePassed) || !ok:
			u.status = status.Expired
		case !res.Attempted:
			u.status, u.next, u.statusSent = p.status, &next, false
		default:
			u.status, u.next = status.Retrying, &next
		}
	}
	e.logger.InfoContext(ctx, "message attempt",
		"message_id", p.id, "mailing_id", m.ID, "client_id", p.customerID,
		"outcome", res.Outcome.String(), "http_status", res.Status, "attempts", attempts,
		"status", string(u.status), "error", u.lastError, "duration_ms", res.Duration.Milliseconds())
	return u
}
