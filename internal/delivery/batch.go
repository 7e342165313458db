package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/sender"
	"github.com/notifyhq/notify/internal/sendwindow"
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
	wait, tries := 50*time.Millisecond, 0
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
	for wait := 50 * time.Millisecond; !e.draining.Load(); wait = min(2*wait, e.cfg.WriteRetryMax) {
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
	rows, err := e.db.SQL.QueryContext(ctx, rebind(e.db.Dialect, dueMessages), b.MailingID, b.FirstID, b.LastID, now, e.cfg.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("error loading due messages of mailing %d: %w", b.MailingID, err)
	}
	defer rows.Close()
	var out []*pending
	for rows.Next() {
		var (
			p        pending
			customer sql.NullInt64
			text     sql.NullString
			lastErr  sql.NullString
		)
		if err := rows.Scan(&p.id, &customer, &p.phone, &p.zone, &text, &p.status, &p.attempts, &lastErr); err != nil {
			return nil, fmt.Errorf("error loading due messages of mailing %d: %w", b.MailingID, err)
		}
		if customer.Valid {
			p.customerID = new(int(customer.Int64))
		}
		if text.Valid {
			p.text = &text.String
		}
		if lastErr.Valid {
			p.lastError = &lastErr.String
		}
		if e.unwritten.holds(p.id) {
			continue // its outcome is known, only not written yet: never send it again
		}
		out = append(out, &p)
	}
	return out, rows.Err()
}

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
		return update{msg: p, status: status.Expired, attempts: p.attempts, lastError: orReason(p.lastError, why), statusSent: true}
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

func orReason(lastErr *string, why string) *string {
	if lastErr != nil {
		return lastErr
	}
	return &why
}

// result is the answer to one request.
type result struct {
	msg  *pending
	text string
	res  sender.Result
}

// send starts the requests of toSend, a chunk at a time: it takes sender
// slots, then admits the chunk — on Postgres under the mailing's sending
// lock, held until every request of the chunk is written — so that a
// pause, cancel or delete that commits first stops every later request, and
// one that commits later waits for the chunk to be on the wire. Outcomes are
// written in bulk by a collector while requests are in flight.
func (e *Engine) send(ctx context.Context, m *ent.Mailing, toSend []*pending, stopAt time.Time) error {
	if len(toSend) == 0 {
		return nil
	}
	results := make(chan result, len(toSend))
	collected := make(chan error, 1)
	go func() { collected <- e.collect(ctx, m, results) }()

	var (
		inflight sync.WaitGroup
		sendErr  error
		deferred []update
	)
	// Requests run to completion even when the job's context ends
	// (shutdown, job timeout): what is on the wire finishes within the
	// sender timeout and its outcome is recorded.
	reqCtx := context.WithoutCancel(ctx)
	// Admission stops at stopAt: the rest stays due for the next run.
	for i := 0; i < len(toSend) && !e.draining.Load() && time.Now().Before(stopAt) && !e.unwritten.full(); {
		if err := e.sender.Acquire(ctx); err != nil {
			sendErr = err
			break
		}
		started, retryAt, err := e.admit(ctx, m.ID, toSend[i:], func(p *pending, text string, endAt time.Time, written func()) {
			inflight.Add(1)
			go func() {
				defer inflight.Done()
				res := e.sender.Send(reqCtx, sender.Request{ID: int64(p.id), Phone: p.phone, Text: text, Deadline: endAt}, written)
				e.sender.Release(1)
				results <- result{msg: p, text: text, res: res}
			}()
		})
		i += started
		if err != nil {
			sendErr = err
			break
		}
		if !retryAt.IsZero() {
			// The breaker is open: the rest waits for it without spending an
			// attempt — past end_at, until its last chance before end_at.
			at, ok := lastChance(e.now(), retryAt, m.EndAt, e.sender.Timeout())
			for _, p := range toSend[i:] {
				deferred = append(deferred, e.deferTo(p, at, ok, "sending API unavailable (circuit open)"))
			}
			break
		}
		if started == 0 {
			break // the mailing stopped running or reached its end
		}
	}
	inflight.Wait()
	close(results)
	if err := <-collected; err != nil && sendErr == nil {
		sendErr = err
	}
	if len(deferred) > 0 {
		e.logDeferred(ctx, m.ID, deferred, "sending API unavailable (circuit open)")
		if err := e.apply(ctx, m.ID, deferred, false); err != nil && sendErr == nil {
			sendErr = err
		}
	}
	return sendErr
}

// admitWindow bounds how long one admission keeps starting requests: the
// longest a pause, cancel or delete waits for a batch to finish starting
// (besides writing the requests themselves). A longer window spreads the cost
// of the admission transaction over more requests.
const admitWindow = 20 * time.Millisecond

// admit starts requests for pending, in order, while the mailing is running
// and before its end_at: it owns one sender slot on entry, takes more as
// they free up during admitWindow, and returns how many requests it started.
// When the breaker refuses a request it stops and returns when to try again.
// start must call written once the request is on the wire (or failed
// before); admit holds its transaction — and on Postgres the mailing's
// sending lock — until every request it started is written.
func (e *Engine) admit(ctx context.Context, mailingID int, pending []*pending, start func(p *pending, text string, endAt time.Time, written func())) (started int, retryAt time.Time, err error) {
	held := 1
	defer func() {
		if held > 0 {
			e.sender.Release(held)
		}
	}()
	err = e.db.InTxOnce(ctx, func(tx *database.Tx) error {
		if err := campaign.LockSending(ctx, tx, e.db.Dialect, mailingID); err != nil {
			return err
		}
		var (
			st    status.Mailing
			endAt time.Time
			text  string
		)
		err := tx.QueryRowContext(ctx, rebind(e.db.Dialect, admitMailing), mailingID).Scan(&st, &endAt, &text)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("error admitting requests of mailing %d: %w", mailingID, err)
		}
		if st != status.Running {
			return nil
		}
		var written sync.WaitGroup
		defer written.Wait()
		windowEnd := time.Now().Add(admitWindow)
		for started < len(pending) && e.now().Before(endAt) && !e.unwritten.full() {
			if held == 0 {
				if held = e.sender.TryAcquire(min(e.cfg.ChunkSize, len(pending)-started)); held == 0 {
					if e.draining.Load() || !time.Now().Before(windowEnd) {
						break
					}
					wctx, cancel := context.WithDeadline(ctx, windowEnd)
					err := e.sender.Acquire(wctx)
					cancel()
					if err != nil {
						break
					}
					held = 1
				}
			}
			if ok, at := e.sender.Allow(); !ok {
				retryAt = at
				break
			}
			p := pending[started]
			t := text
			if p.text != nil {
				t = *p.text
			}
			written.Add(1)
			start(p, t, endAt, sync.OnceFunc(written.Done))
			started++
			held--
		}
		return nil
	})
	return started, retryAt, err
}

// collect writes outcomes as they arrive, in bulk: every 250 results or
// when results stop coming for a moment. What the database does not take
// is kept in memory and written later (record).
func (e *Engine) collect(ctx context.Context, m *ent.Mailing, results <-chan result) error {
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
				return nil
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
		nexts, lastErrs, sentAts, texts := make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n), make([]sql.NullString, n)
		for i, u := range updates {
			ids[i], attempts[i], statuses[i] = int64(u.msg.id), int64(u.attempts), string(u.status)
			nexts[i], sentAts[i] = nullTime(u.next), nullTime(u.sentAt)
			lastErrs[i], texts[i] = nullString(u.lastError), nullString(u.text)
		}
		rows, err := e.db.SQL.QueryContext(ctx, applyUpdatesPostgres,
			pq.Array(ids), pq.Array(statuses), pq.Array(attempts), pq.Array(nexts), pq.Array(lastErrs), pq.Array(sentAts), pq.Array(texts), now, again)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int
			var customer sql.NullInt64
			if err := rows.Scan(&id, &customer); err != nil {
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
			var customer sql.NullInt64
			err := stmt.QueryRowContext(ctx, u.msg.id, string(u.status), u.attempts, u.next, u.lastError, u.sentAt, u.text, now, again).Scan(&id, &customer)
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

func nullString(s *string) sql.NullString {
	if s == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *s, Valid: true}
}
