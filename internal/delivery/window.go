// Planning before a send: messages outside their client's daily window
// are deferred to its next opening, or expire when that is not before
// end_at; the rest go to send.

package delivery

import (
	"cmp"
	"context"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/sendwindow"
	"github.com/notifyhq/notify/internal/status"
)

// work plans and sends one set of due messages: those outside their
// client's window are deferred to its next opening (or expire when that is
// not before end_at); the others are sent, under admission, while the
// breaker allows.
func (e *Engine) work(ctx context.Context, m *ent.Mailing, due []*pending, stopAt time.Time) error {
	now := e.now()
	win := campaign.MailingWindow(m)
	var (
		planned []update
		toSend  []*pending
	)
	for _, p := range due {
		if win != nil {
			loc, err := sendwindow.LoadZone(p.zone)
			if err != nil {
				loc = time.UTC
			}
			if !win.Contains(now, loc) {
				// No last chance outside the window: its next opening or nothing.
				at := win.Next(now, loc)
				planned = append(planned, e.deferTo(p, at, at.Before(m.EndAt), "outside the send window"))
				continue
			}
		}
		toSend = append(toSend, p)
	}
	e.logDeferred(ctx, m.ID, planned, "outside the send window")
	if err := e.apply(ctx, m.ID, planned, false); err != nil {
		return err
	}
	return e.send(ctx, m, toSend, stopAt)
}

// deferTo moves a message's next attempt to at, or expires it when ok is
// false (at is not before end_at, or no last chance fits). Deferring spends
// no attempt and writes no status.
func (e *Engine) deferTo(p *pending, at time.Time, ok bool, why string) update {
	if !ok {
		// An expired message keeps its last error; without one, why is its reason.
		return update{msg: p, status: status.Expired, attempts: p.attempts, lastError: cmp.Or(p.lastError, &why), statusSent: true}
	}
	return update{msg: p, status: p.status, attempts: p.attempts, next: &at, lastError: p.lastError}
}

// logDeferred tells each message's story: expired (final), or deferred to
// its next attempt (debug).
func (e *Engine) logDeferred(ctx context.Context, mailingID int, updates []update, why string) {
	for _, u := range updates {
		if u.status == status.Expired {
			e.logger.InfoContext(ctx, "message expired",
				"message_id", u.msg.id, "mailing_id", mailingID, "client_id", u.msg.customerID,
				"status", string(u.status), "attempts", u.attempts, "reason", why, "error", u.lastError)
		} else if u.next != nil {
			e.logger.DebugContext(ctx, "message deferred",
				"message_id", u.msg.id, "mailing_id", mailingID, "client_id", u.msg.customerID,
				"status", string(u.status), "next_attempt_at", *u.next, "reason", why)
		}
	}
}
