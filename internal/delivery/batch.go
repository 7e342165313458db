// A batch job's run: it loads the due messages of its id range, has them
// planned (window.go) and sent (send.go), and decides when to look again;
// it finishes or closes the mailing when nothing is left or end_at passed.

package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/status"
)

// pending is an unsent message as a batch loads it.
type pending struct {
	id         int
	customerID *int
	phone      string
	zone       string
	text       *string // frozen at the first attempt; nil before
	status     status.Message
	attempts   int
	lastError  *string
	// optOutMark is the highest opt-out id before the message was loaded,
	// or when it was last re-read; settled is set when that re-read found
	// it no longer unsent (optout.go).
	optOutMark int64
	settled    bool
}

// update is the next state of one message.
type update struct {
	msg        *pending
	status     status.Message
	attempts   int
	next       *time.Time
	lastError  *string
	sentAt     *time.Time
	text       *string
	statusSent bool // a status write (an event); false for a deferral
}

// SendBatch works the due messages of a batch until none is due, the slice
// of time is used up, or the mailing stops running. It returns done when the
// batch has no unsent message left, else when to look again.
//
// When the database is away it keeps trying (pausing up to WriteRetryMax)
// until it answers again or ctx ends, instead of failing the job, and it
// does not go on while outcomes of its messages wait in memory to be
// written (unless ctx ends): the job keeps its batch, so neither River nor
// another instance works these messages again before their outcomes are
// written (docs/design.md, "Database outages").
func (e *Engine) SendBatch(ctx context.Context, b Batch) (Outcome, error) {
	wait, tries := firstRetryWait, 0
	for {
		out, err := e.sendBatch(ctx, b)
		if unavailable(err) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return e.outlast(b, out, err)
		}
		if err == nil || !unavailable(err) || ctx.Err() != nil {
			if err == nil && tries > 0 {
				e.logger.InfoContext(ctx, "batch resumed: the database answers again",
					"mailing_id", b.MailingID, "first_message_id", b.FirstID, "tries", tries)
			}
			return out, err
		}
		if e.draining.Load() && !e.unwritten.anyIn(b.FirstID, b.LastID) {
			return out, err // shutting down, and nothing of this batch waits in memory
		}
		tries++
		e.logger.WarnContext(ctx, "database unavailable: the batch waits for it",
			"mailing_id", b.MailingID, "first_message_id", b.FirstID, "tries", tries, "error", err)
		select {
		case <-ctx.Done():
			return out, err
		case <-e.unwritten.after(wait):
		}
		wait = min(2*wait, e.cfg.WriteRetryMax)
	}
}

// outlast ends a run whose time (the job's timeout) is up while the
// database is away. Returning the error now would leave the job "running"
// in River's table (River cannot record its end either) until River's
// rescuer, minutes later, with the batch's outcomes perhaps still in
// memory. So the run waits, starting no request, until the database
// answers and no outcome of the batch is held, then snoozes: River records
// that at once and any instance takes the batch up again (docs/design.md,
// "Database outages"). A shutdown ends the wait.
func (e *Engine) outlast(b Batch, out Outcome, err error) (Outcome, error) {
	e.logger.Warn("batch run out of time while the database is away: ending it once the database answers",
		"mailing_id", b.MailingID, "first_message_id", b.FirstID, "error", err)
	for wait := firstRetryWait; !e.draining.Load(); wait = min(2*wait, e.cfg.WriteRetryMax) {
		if !e.unwritten.anyIn(b.FirstID, b.LastID) {
			ctx, cancel := context.WithTimeout(context.Background(), e.cfg.WriteTimeout)
			perr := e.db.SQL.PingContext(ctx)
			cancel()
			if perr == nil {
				return snooze(0), nil
			}
		}
		<-e.unwritten.after(wait)
	}
	return out, err
}

func (e *Engine) sendBatch(ctx context.Context, b Batch) (Outcome, error) {
	sliceEnd := e.now().Add(e.cfg.Slice)
	// A run with a deadline (the batch job's timeout) starts no request
	// later than a whole sender timeout and a margin before it, so that
	// what it has on the wire ends, and is recorded, within its run
	// (docs/design.md, "Instance kills").
	stopAt := time.Now().Add(e.cfg.Slice)
	if dl, ok := ctx.Deadline(); ok {
		last := dl.Add(-e.sender.Timeout() - RunMargin)
		if floor := time.Now().Add(time.Second); last.Before(floor) {
			last = floor
		}
		if last.Before(stopAt) {
			stopAt = last
		}
	}
	for {
		// Outcomes of this batch still in memory are written before its
		// messages are looked at again, and no batch starts requests while
		// the memory is full.
		if err := e.unwritten.waitBatch(ctx, b.FirstID, b.LastID); err != nil {
			return Outcome{}, fmt.Errorf("waiting for outcomes of mailing %d to be written (%d in memory): %w", b.MailingID, e.unwritten.len(), err)
		}
		m, err := e.db.Ent.Mailing.Get(ctx, b.MailingID)
		if ent.IsNotFound(err) {
			return done, nil
		}
		if err != nil {
			return Outcome{}, fmt.Errorf("error loading mailing %d: %w", b.MailingID, err)
		}
		switch m.Status {
		case status.Finished, status.MailingCanceled:
			return done, nil
		case status.Paused, status.Scheduled:
			return snooze(e.cfg.PausedRecheck), nil
		}
		now := e.now()
		if !now.Before(m.EndAt) {
			if _, err := e.campaign.CloseMailing(ctx, m.ID); err != nil {
				return Outcome{}, err
			}
			return done, nil
		}
		due, err := e.loadDue(ctx, b, now)
		if err != nil {
			return Outcome{}, err
		}
		if len(due) == 0 {
			return e.idle(ctx, b, now)
		}
		if now.After(sliceEnd) || !time.Now().Before(stopAt) || e.draining.Load() {
			return snooze(0), nil
		}
		if err := e.work(ctx, m, due, stopAt); err != nil {
			return Outcome{}, err
		}
	}
}

// idle decides what a batch with nothing due does: finish when nothing is
// unsent (and finish the mailing when it was the last), else sleep until the
// next message is due.
func (e *Engine) idle(ctx context.Context, b Batch, now time.Time) (Outcome, error) {
	var next sql.NullTime
	err := e.db.SQL.QueryRowContext(ctx, rebind(e.db.Dialect, nextDue), b.MailingID, b.FirstID, b.LastID).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := e.campaign.FinishIfDone(ctx, b.MailingID); err != nil {
			return Outcome{}, err
		}
		return done, nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("error reading the next due message of mailing %d: %w", b.MailingID, err)
	}
	wait := e.cfg.MaxSnooze
	if next.Valid {
		wait = min(next.Time.Sub(now), wait)
	}
	return snooze(wait), nil
}

func (e *Engine) loadDue(ctx context.Context, b Batch, now time.Time) ([]*pending, error) {
	mark, err := e.loadOptOutMark(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := e.db.SQL.QueryContext(ctx, rebind(e.db.Dialect, dueMessages), b.MailingID, b.FirstID, b.LastID, now, e.cfg.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("error loading due messages of mailing %d: %w", b.MailingID, err)
	}
	defer rows.Close()
	var out []*pending
	for rows.Next() {
		// database/sql sets a pointer field to nil for NULL.
		p := pending{optOutMark: mark}
		if err := rows.Scan(&p.id, &p.customerID, &p.phone, &p.zone, &p.text, &p.status, &p.attempts, &p.lastError); err != nil {
			return nil, fmt.Errorf("error loading due messages of mailing %d: %w", b.MailingID, err)
		}
		if e.unwritten.holds(p.id) {
			continue // its outcome is known, only not written yet: never send it again
		}
		out = append(out, &p)
	}
	return out, rows.Err()
}
