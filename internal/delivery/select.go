// A mailing's start: its recipients are selected in chunks, each with the
// batch jobs of its messages.

package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// Start starts a mailing whose start job (for startAt) came due: the domain
// marks it running and fixes its recipients (campaign.StartMailing: the
// clients matching the filter with an id up to the highest client id at
// that moment, recipients_through), then Start selects them — one message
// each — a chunk of clients at a time, each chunk in its own transaction with the
// batch jobs of its messages, so sending starts after the first chunk rather
// than after the whole directory. A start that runs again (a restart, a
// crash) resumes the selection where it stopped: same bound, ON CONFLICT for
// what is already there. The mailing cannot finish before its last chunk
// (recipients_selected_at). A mailing with no recipient finishes at once;
// one whose end_at has passed finishes with nothing sent. A job made stale by
// a change of start_at, or for a closed mailing, does nothing.
func (e *Engine) Start(ctx context.Context, mailingID int, startAt time.Time) (Outcome, error) {
	m, err := e.db.Ent.Mailing.Get(ctx, mailingID)
	if ent.IsNotFound(err) {
		return done, nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("error loading mailing %d: %w", mailingID, err)
	}
	if !m.StartAt.Equal(startAt) || m.Status.Closed() {
		return done, nil
	}
	now := e.now()
	if now.Before(m.StartAt) {
		return snooze(m.StartAt.Sub(now)), nil
	}
	if !now.Before(m.EndAt) {
		if _, err := e.campaign.CloseMailing(ctx, mailingID); err != nil {
			return Outcome{}, err
		}
		return done, nil
	}

	var sel *selection
	err = e.db.InTx(ctx, func(tx *database.Tx) error {
		sel = nil
		m, err := e.campaign.StartMailing(ctx, tx, mailingID, startAt)
		if err != nil || m == nil {
			return err
		}
		if m.RecipientsSelectedAt != nil {
			// Run again after its selection: only make sure every batch
			// with unsent messages has its job.
			return e.dispatch(ctx, tx, m)
		}
		span, err := e.span(ctx, tx, mailingID)
		if err != nil {
			return err
		}
		sel = &selection{mailingID: mailingID, filter: campaign.MailingFilter(m), through: *m.RecipientsThrough, span: span,
			chunk: min(2*e.cfg.BatchSize, e.cfg.SelectChunk)}
		if span.ok {
			// Resuming: queue the batches of what is selected, but the last.
			sel.next = e.batchOf(span, span.last)
			return e.dispatch(ctx, tx, m)
		}
		return nil
	})
	if err != nil {
		return Outcome{}, err
	}
	if sel == nil {
		return done, nil
	}
	e.logger.InfoContext(ctx, "mailing started", "mailing_id", mailingID, "recipients_through", sel.through)
	if e.publisher != nil {
		e.publisher.MailingChanged(ctx, mailingID)
	}
	sliceEnd := time.Now().Add(e.cfg.Slice)
	for !sel.final {
		if e.draining.Load() || time.Now().After(sliceEnd) {
			// The selection resumes where it is, on any instance; a
			// job that yields now and then stays well inside its timeout.
			return snooze(0), nil
		}
		if sel.span.ok {
			if err := e.pace(ctx, mailingID); err != nil {
				return Outcome{}, err
			}
		}
		if err := e.selectChunk(ctx, sel); err != nil {
			return Outcome{}, err
		}
		if e.publisher != nil {
			e.publisher.MailingChanged(ctx, mailingID)
		}
	}
	if sel.stopped {
		return done, nil
	}
	e.logger.InfoContext(ctx, "recipients selected", "mailing_id", mailingID, "recipients", sel.selected,
		"first_message_id", sel.span.first, "last_message_id", sel.span.last)
	// A mailing without recipients (or whose messages all went out already)
	// finishes now; otherwise its last batch finishes it.
	if _, err := e.campaign.FinishIfDone(ctx, mailingID); err != nil {
		return Outcome{}, err
	}
	return done, nil
}

// pace keeps the selection ahead of the sending without racing it: it waits
// while more than a chunk of the mailing's messages are queued, for at most
// a second per chunk. A chunk costs Postgres about as much CPU as
// sending it; selecting everything up front took the machine from the
// sending and from the API (generalStatistics p99 up from ~30 to ~55 ms
// while it ran). Queued messages waiting for their window count too, hence
// the bound.
func (e *Engine) pace(ctx context.Context, mailingID int) error {
	deadline := time.Now().Add(time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !e.draining.Load() && time.Now().Before(deadline) {
		queued, err := e.campaign.QueuedMessages(ctx, mailingID)
		if err != nil {
			return err
		}
		if queued <= e.cfg.SelectChunk {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// selection is the state of a mailing's recipient selection.
type selection struct {
	mailingID int
	filter    campaign.Filter
	through   int  // the highest client id that can be a recipient
	span      span // the mailing's messages so far
	next      int  // the first batch without a job yet
	chunk     int  // the clients its next chunk selects (selectChunk)
	selected  int64
	final     bool // the last chunk is selected
	stopped   bool // the mailing closed or was deleted meanwhile
}

// span is the id range of a mailing's messages and the highest client id
// among them (the selection's cursor).
type span struct {
	ok          bool
	first, last int
	lastClient  int
}

// batchOf is the index of the batch of message id; batches start at the
// mailing's first message id.
func (e *Engine) batchOf(s span, id int) int { return (id - s.first) / e.cfg.BatchSize }

// batch is batch k of a mailing whose messages span s.
func (e *Engine) batch(mailingID int, s span, k int) Batch {
	lo := s.first + k*e.cfg.BatchSize
	return Batch{MailingID: mailingID, FirstID: lo, LastID: lo + e.cfg.BatchSize - 1}
}

// span reads the id range of a mailing's messages.
func (e *Engine) span(ctx context.Context, tx *database.Tx, mailingID int) (span, error) {
	var first, last, client sql.NullInt64
	err := tx.QueryRowContext(ctx, rebind(e.db.Dialect, messageSpan), mailingID).Scan(&first, &last, &client)
	if err != nil {
		return span{}, fmt.Errorf("error reading the messages of mailing %d: %w", mailingID, err)
	}
	return span{ok: first.Valid, first: int(first.Int64), last: int(last.Int64), lastClient: int(client.Int64)}, nil
}

// selectChunk selects the next chunk of recipients (the next s.chunk
// matching clients after the cursor) in one transaction, with the batch jobs
// of every batch it completes. The batch holding the mailing's last message
// waits for the next chunk, which may add messages to it: a batch job starts
// only once its range can get no more messages. The last chunk queues it and
// marks the selection done.
//
// The first chunk is two batches' worth, so that the first batch job is
// queued after a few milliseconds of inserts rather than after a whole
// SelectChunk (the c2000 benchmark's first send came at 280–306 ms instead
// of 350–409, the sender's 200 ms included); each chunk after it doubles,
// up to SelectChunk.
func (e *Engine) selectChunk(ctx context.Context, s *selection) error {
	now := e.now()
	var (
		next     selection
		inserted int64
	)
	err := e.db.InTx(ctx, func(tx *database.Tx) error {
		next, inserted = *s, 0
		// A cancel or delete waits for the chunk, then settles its messages.
		if err := campaign.LockSending(ctx, tx, e.db.Dialect, s.mailingID); err != nil {
			return err
		}
		var st status.Mailing
		err := tx.QueryRowContext(ctx, rebind(e.db.Dialect, admitMailing), s.mailingID).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && st.Closed()) {
			next.final, next.stopped = true, true
			return nil
		}
		if err != nil {
			return fmt.Errorf("error selecting recipients of mailing %d: %w", s.mailingID, err)
		}
		var (
			n     int
			upper sql.NullInt64
		)
		q, args := e.filtered(chunkBoundsPostgres, chunkBoundsSQLite, s.filter, s.span.lastClient, s.through, s.chunk)
		err = tx.QueryRowContext(ctx, q, args...).Scan(&n, &upper)
		if err != nil {
			return fmt.Errorf("error selecting recipients of mailing %d: %w", s.mailingID, err)
		}
		next.final = n < s.chunk
		next.chunk = min(2*s.chunk, e.cfg.SelectChunk)
		if n > 0 {
			q, args := e.filtered(selectRecipientsPostgres, selectRecipientsSQLite, s.filter, s.span.lastClient, int(upper.Int64), s.mailingID, now)
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("error selecting recipients of mailing %d: %w", s.mailingID, err)
			}
			if inserted, err = res.RowsAffected(); err != nil {
				return err
			}
			var lo, hi sql.NullInt64
			err = tx.QueryRowContext(ctx, rebind(e.db.Dialect, chunkSpan), s.mailingID, s.span.lastClient, upper.Int64).Scan(&lo, &hi)
			if err != nil {
				return fmt.Errorf("error selecting recipients of mailing %d: %w", s.mailingID, err)
			}
			if hi.Valid {
				if !next.span.ok {
					next.span = span{ok: true, first: int(lo.Int64)}
				}
				next.span.last = int(hi.Int64)
			}
			next.span.lastClient = int(upper.Int64)
		}
		if next.span.ok {
			end := e.batchOf(next.span, next.span.last)
			if next.final {
				end++
			}
			var batches []Batch
			for k := next.next; k < end; k++ {
				batches = append(batches, e.batch(s.mailingID, next.span, k))
			}
			if err := e.batches.InsertBatches(ctx, tx, batches); err != nil {
				return err
			}
			next.next = max(next.next, end)
		}
		if next.final {
			err := tx.Ent.Mailing.UpdateOneID(s.mailingID).SetRecipientsSelectedAt(now).SetUpdatedAt(now).Exec(ctx)
			if err != nil {
				return fmt.Errorf("error selecting recipients of mailing %d: %w", s.mailingID, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	after := s.span.lastClient
	next.selected += inserted
	*s = next
	if inserted > 0 {
		e.logCreated(ctx, s.mailingID, after, s.span.lastClient)
	}
	return nil
}

// filtered returns a statement over the clients matching a filter with ids
// in (after, upto] (pg or lite, by dialect), and its arguments: the filter's
// codes and tags ($1, $2, as campaign.RecipientArgs encodes them), after and
// upto ($3, $4), then extra.
func (e *Engine) filtered(pg, lite string, f campaign.Filter, after, upto int, extra ...any) (string, []any) {
	args := append(campaign.RecipientArgs(e.db.Dialect, f), after, upto)
	if e.db.Dialect == dialect.Postgres {
		return pg, append(args, extra...)
	}
	return lite, append(args, extra...)
}

// logCreated logs, at debug level, one "message created" line per message
// of a chunk — its clients' ids are in (after, upto] — where each message's
// story starts. Errors only cost the log lines.
func (e *Engine) logCreated(ctx context.Context, mailingID, after, upto int) {
	if !e.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	msgs, err := e.db.Ent.Message.Query().
		Where(message.MailingID(mailingID),
			entsql.FieldGT(message.FieldCustomerID, after), entsql.FieldLTE(message.FieldCustomerID, upto)).
		Order(ent.Asc(message.FieldID)).Select(message.FieldID, message.FieldCustomerID).All(ctx)
	if err != nil {
		return
	}
	for _, m := range msgs {
		e.logger.DebugContext(ctx, "message created", "message_id", m.ID, "mailing_id", mailingID, "client_id", m.CustomerID, "status", string(status.Queued))
	}
}

// Resume makes sure every batch of a resumed mailing with unsent messages
// has a job (batches of a paused mailing keep theirs, snoozing, so this
// mostly finds them queued already): the resume job's work.
func (e *Engine) Resume(ctx context.Context, mailingID int) error {
	return e.db.InTx(ctx, func(tx *database.Tx) error {
		m, err := tx.Ent.Mailing.Get(ctx, mailingID)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("error loading mailing %d: %w", mailingID, err)
		}
		if m.Status.Closed() {
			return nil
		}
		return e.dispatch(ctx, tx, m)
	})
}

// dispatch inserts a batch job for every batch of m that still has unsent
// messages; batches already queued are skipped by River's uniqueness. While
// recipients are being selected, the batch holding the last message is left
// to the selection (its next chunk may add to it). It runs in the caller's
// transaction (start, resume).
func (e *Engine) dispatch(ctx context.Context, tx *database.Tx, m *ent.Mailing) error {
	sp, err := e.span(ctx, tx, m.ID)
	if err != nil || !sp.ok {
		return err
	}
	rows, err := tx.QueryContext(ctx, rebind(e.db.Dialect, batchIndexes), m.ID, sp.first, e.cfg.BatchSize)
	if err != nil {
		return fmt.Errorf("error listing batches of mailing %d: %w", m.ID, err)
	}
	defer rows.Close()
	var batches []Batch
	for rows.Next() {
		var k int
		if err := rows.Scan(&k); err != nil {
			return fmt.Errorf("error listing batches of mailing %d: %w", m.ID, err)
		}
		if m.RecipientsSelectedAt == nil && k >= e.batchOf(sp, sp.last) {
			continue
		}
		batches = append(batches, e.batch(m.ID, sp, k))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("error listing batches of mailing %d: %w", m.ID, err)
	}
	return e.batches.InsertBatches(ctx, tx, batches)
}
