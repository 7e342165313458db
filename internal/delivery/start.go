package delivery

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/mailing"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// Start starts a mailing whose start job (for startAt) came due: it selects
// the recipients — the clients matching the filter now, a snapshot, one
// message each — marks the mailing running and inserts its batch jobs, all in
// one transaction. A mailing with no recipient finishes at once; one whose
// end_at has passed finishes with nothing sent. A job made stale by a change
// of start_at, or for a closed mailing, does nothing.
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

	var selected int64
	finished := false
	err = e.db.InTx(ctx, func(tx *database.Tx) error {
		q := tx.Ent.Mailing.Query().Where(mailing.ID(mailingID))
		if e.db.Dialect == dialect.Postgres {
			q = q.ForUpdate()
		}
		m, err := q.Only(ctx)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("error locking mailing %d: %w", mailingID, err)
		}
		if m.Status.Closed() || !m.StartAt.Equal(startAt) {
			return nil
		}
		has, err := tx.Ent.Message.Query().Where(message.MailingID(mailingID)).Exist(ctx)
		if err != nil {
			return fmt.Errorf("error checking messages of mailing %d: %w", mailingID, err)
		}
		if !has {
			if selected, err = e.selectRecipients(ctx, tx, m, now); err != nil {
				return err
			}
		}
		next := m.Status
		if next == status.Scheduled {
			next = status.Running
		}
		if !has && selected == 0 {
			next, finished = status.Finished, true
		}
		if next != m.Status {
			if err := tx.Ent.Mailing.UpdateOneID(mailingID).SetStatus(next).SetUpdatedAt(now).Exec(ctx); err != nil {
				return fmt.Errorf("error starting mailing %d: %w", mailingID, err)
			}
		}
		if finished {
			return nil
		}
		return e.Dispatch(ctx, tx, mailingID)
	})
	if err != nil {
		return Outcome{}, err
	}
	first, last := e.logCreated(ctx, mailingID, selected)
	e.logger.InfoContext(ctx, "mailing started", "mailing_id", mailingID, "recipients", selected, "finished", finished,
		"first_message_id", first, "last_message_id", last)
	if e.publisher != nil {
		e.publisher.MailingChanged(ctx, mailingID)
	}
	return done, nil
}

// logCreated tells where the stories of a started mailing's messages
// begin: it returns the id range of the messages just created (for the
// "mailing started" line; ids of one mailing's selection are contiguous
// ranges of one INSERT … SELECT, so grepping an id finds its mailing's range)
// and, at debug level, logs one "message created" line per message. Errors
// only cost the log lines: the mailing has started.
func (e *Engine) logCreated(ctx context.Context, mailingID int, selected int64) (first, last int) {
	if selected == 0 {
		return 0, 0
	}
	q := e.db.Ent.Message.Query().Where(message.MailingID(mailingID))
	if e.logger.Enabled(ctx, slog.LevelDebug) {
		msgs, err := q.Order(ent.Asc(message.FieldID)).Select(message.FieldID, message.FieldCustomerID).All(ctx)
		if err != nil || len(msgs) == 0 {
			return 0, 0
		}
		for _, m := range msgs {
			e.logger.DebugContext(ctx, "message created", "message_id", m.ID, "mailing_id", mailingID, "client_id", m.CustomerID, "status", string(status.Queued))
		}
		return msgs[0].ID, msgs[len(msgs)-1].ID
	}
	var r []struct {
		First int `json:"first"`
		Last  int `json:"last"`
	}
	if err := q.Aggregate(ent.As(ent.Min(message.FieldID), "first"), ent.As(ent.Max(message.FieldID), "last")).Scan(ctx, &r); err != nil || len(r) == 0 {
		return 0, 0
	}
	return r[0].First, r[0].Last
}

// selectRecipients inserts the mailing's messages with one INSERT … SELECT.
func (e *Engine) selectRecipients(ctx context.Context, tx *database.Tx, m *ent.Mailing, now time.Time) (int64, error) {
	f := campaign.MailingFilter(m)
	var (
		res sql.Result
		err error
	)
	if e.db.Dialect == dialect.Postgres {
		res, err = tx.ExecContext(ctx, selectRecipientsPostgres, m.ID, now, pq.Array(f.OperatorCodes), pq.Array(f.Tags))
	} else {
		codes, _ := json.Marshal(f.OperatorCodes)
		tags, _ := json.Marshal(f.Tags)
		res, err = tx.ExecContext(ctx, selectRecipientsSQLite, m.ID, now, string(codes), string(tags))
	}
	if err != nil {
		return 0, fmt.Errorf("error selecting recipients of mailing %d: %w", m.ID, err)
	}
	return res.RowsAffected()
}

// Dispatch inserts a batch job for every batch of the mailing that still has
// unsent messages; batches already queued are skipped by River's uniqueness.
// It runs in the caller's transaction (start, resume).
func (e *Engine) Dispatch(ctx context.Context, tx *database.Tx, mailingID int) error {
	rows, err := tx.QueryContext(ctx, rebind(e.db.Dialect, batchIndexes), mailingID, e.cfg.BatchSize)
	if err != nil {
		return fmt.Errorf("error listing batches of mailing %d: %w", mailingID, err)
	}
	defer rows.Close()
	var batches []Batch
	for rows.Next() {
		var k, first int
		if err := rows.Scan(&k, &first); err != nil {
			return fmt.Errorf("error listing batches of mailing %d: %w", mailingID, err)
		}
		lo := first + k*e.cfg.BatchSize
		batches = append(batches, Batch{MailingID: mailingID, FirstID: lo, LastID: lo + e.cfg.BatchSize - 1})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("error listing batches of mailing %d: %w", mailingID, err)
	}
	if len(batches) == 0 {
		return nil
	}
	return e.batches.InsertBatches(ctx, tx, batches)
}
