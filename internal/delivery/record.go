// Recording: outcomes are written in bulk as they arrive; what the
// database cannot take is kept (unwritten.go) and written later.

package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
)

// collect writes outcomes as they arrive, in bulk: every 250 results or
// when results stop coming for a moment. What the database does not take
// is kept in memory and written later (record).
func (e *Engine) collect(ctx context.Context, m *ent.Mailing, results <-chan result) {
	const flushAt = 250
	var buf []update
	flush := func() {
		if len(buf) == 0 {
			return
		}
		e.record(ctx, m.ID, buf)
		buf = buf[:0]
	}
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case r, ok := <-results:
			if !ok {
				flush()
				return
			}
			buf = append(buf, e.outcome(ctx, m, r))
			if len(buf) >= flushAt {
				flush()
			}
		case <-ticker.C:
			flush()
		}
	}
}

// record writes outcomes of requests, under WriteTimeout. When that fails
// (or earlier outcomes still wait), they are kept in e.unwritten, whose
// writer retries until the database takes them: an answer of the sending
// API is never dropped for a database outage (docs/design.md, "Database
// outages").
func (e *Engine) record(ctx context.Context, mailingID int, us []update) {
	us = slices.Clone(us) // the collector reuses its buffer; a write left hanging may still read it
	if e.unwritten.len() == 0 {
		err := e.applyWithin(context.WithoutCancel(ctx), mailingID, us, false)
		if err == nil {
			return
		}
		e.logger.WarnContext(ctx, "outcomes not written: kept in memory until the database takes them",
			"mailing_id", mailingID, "outcomes", len(us), "error", err)
	}
	e.unwritten.add(mailingID, us)
}

// maxHungWrites bounds the outcome writes left running after WriteTimeout
// (applyWithin): each holds a connection of the pool until its socket fails.
const maxHungWrites = 2

// errWritesHang is returned while maxHungWrites writes are left running.
var errWritesHang = fmt.Errorf("earlier outcome writes got no answer: %w", context.DeadlineExceeded)

// applyWithin is apply under WriteTimeout, enforced here: lib/pq ends a
// query whose context ends by sending a cancel request, and on a connection
// that went silent (a black-holed network) neither that request nor the
// reply comes, so the query would wait for TCP keepalive. The write is then
// left to finish in the background (at most maxHungWrites at once) and
// counts as failed; its outcomes are kept and written again, which is
// harmless (apply's again).
func (e *Engine) applyWithin(ctx context.Context, mailingID int, us []update, again bool) error {
	if e.hungWrites.Load() >= maxHungWrites {
		return errWritesHang
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.WriteTimeout)
	const running, finished, abandoned = 0, 1, 2
	var state atomic.Int32
	done := make(chan error, 1)
	go func() {
		defer cancel()
		done <- e.apply(ctx, mailingID, us, again)
		if !state.CompareAndSwap(running, finished) {
			e.hungWrites.Add(-1) // it had been given up on
		}
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if state.CompareAndSwap(running, abandoned) {
			e.hungWrites.Add(1)
			return fmt.Errorf("writing outcomes of mailing %d: no answer within %s: %w", mailingID, e.cfg.WriteTimeout, ctx.Err())
		}
		return <-done
	}
}

// apply writes updates and publishes the status writes that took. again
// says an earlier try may have committed without its reply reaching us:
// rows already holding the update's status and attempts then count as
// written (so their events are published).
func (e *Engine) apply(ctx context.Context, mailingID int, updates []update, again bool) error {
	if len(updates) == 0 {
		return nil
	}
	now := e.now()
	written, err := e.write(ctx, updates, now, again)
	for try := 1; database.Retryable(err) && try < 3; try++ {
		written, err = e.write(ctx, updates, now, again) // the updates set explicit values: running them again is safe
	}
	if err != nil {
		return fmt.Errorf("error recording outcomes of mailing %d: %w", mailingID, err)
	}
	if e.publisher == nil {
		return nil
	}
	var changes []campaign.StatusChange
	for _, u := range updates {
		if u.statusSent && written[u.msg.id] {
			changes = append(changes, campaign.StatusChange{
				MessageID: u.msg.id, MailingID: mailingID, ClientID: u.msg.customerID,
				Status: u.status, Attempts: u.attempts, At: now,
			})
		}
	}
	if len(changes) > 0 {
		e.publisher.MessagesChanged(ctx, changes)
		e.publisher.MailingChanged(ctx, mailingID)
	}
	return nil
}

// write runs the bulk update and returns the ids it wrote.
func (e *Engine) write(ctx context.Context, updates []update, now time.Time, again bool) (map[int]bool, error) {
	written := make(map[int]bool, len(updates))
	if e.db.Dialect == dialect.Postgres {
		n := len(updates)
		ids, attempts := make([]int64, n), make([]int64, n)
		statuses := make([]string, n)
		nexts, sentAts := make([]sql.NullString, n), make([]sql.NullString, n)
		// pq writes a nil element as NULL.
		lastErrs, texts := make([]*string, n), make([]*string, n)
		for i, u := range updates {
			ids[i], attempts[i], statuses[i] = int64(u.msg.id), int64(u.attempts), string(u.status)
			nexts[i], sentAts[i] = nullTime(u.next), nullTime(u.sentAt)
			lastErrs[i], texts[i] = u.lastError, u.text
		}
		rows, err := e.db.SQL.QueryContext(ctx, applyUpdatesPostgres,
			pq.Array(ids), pq.Array(statuses), pq.Array(attempts), pq.Array(nexts), pq.Array(lastErrs), pq.Array(sentAts), pq.Array(texts), now, again)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			written[id] = true
		}
		return written, rows.Err()
	}
	err := e.db.InTx(ctx, func(tx *database.Tx) error {
		stmt, err := tx.PrepareContext(ctx, applyUpdateSQLite)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, u := range updates {
			var id int
			err := stmt.QueryRowContext(ctx, u.msg.id, string(u.status), u.attempts, u.next, u.lastError, u.sentAt, u.text, now, again).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			written[id] = true
		}
		return nil
	})
	return written, err
}

func nullTime(t *time.Time) sql.NullString {
	if t == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: t.UTC().Format(time.RFC3339Nano), Valid: true}
}
