// Sending: requests start under admission, a chunk at a time, while the
// mailing runs and the breaker allows.

package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/sender"
	"github.com/notifyhq/notify/internal/status"
)

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
	var collecting sync.WaitGroup
	collecting.Go(func() { e.collect(ctx, m, results) })

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
			e.requests.run(func() {
				defer inflight.Done()
				res := e.sender.Send(reqCtx, sender.Request{ID: int64(p.id), Phone: p.phone, Text: text, Deadline: endAt}, written)
				e.sender.Release(1)
				results <- result{msg: p, text: text, res: res}
			})
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
	collecting.Wait()
	e.logDeferred(ctx, m.ID, deferred, "sending API unavailable (circuit open)")
	if err := e.apply(ctx, m.ID, deferred, false); err != nil && sendErr == nil {
		sendErr = err
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
// they free up during admitWindow, and returns how many of pending it went
// through: requests started, and messages an opt-out settled since they were
// loaded (passed over, optout.go).
// When the breaker refuses a request it stops and returns when to try again.
// start must call written once the request is on the wire (or failed
// before); admit holds its transaction — and on Postgres the mailing's
// sending lock — until every request it started is written.
func (e *Engine) admit(ctx context.Context, mailingID int, pending []*pending, start func(p *pending, text string, endAt time.Time, written func())) (started int, retryAt time.Time, err error) {
	held := 1
	defer func() { e.sender.Release(held) }()
	err = e.db.InTxOnce(ctx, func(tx *database.Tx) error {
		if err := campaign.LockSending(ctx, tx, e.db.Dialect, mailingID); err != nil {
			return err
		}
		var (
			st        status.Mailing
			endAt     time.Time
			text      string
			optOutMax int64
		)
		err := tx.QueryRowContext(ctx, rebind(e.db.Dialect, admitRequests), mailingID).Scan(&st, &endAt, &text, &optOutMax)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("error admitting requests of mailing %d: %w", mailingID, err)
		}
		if st != status.Running {
			return nil
		}
		if err := e.rereadAfterOptOut(ctx, tx, pending, optOutMax); err != nil {
			return err
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
			if p.settled {
				started++ // cancelled by an opt-out since it was loaded: passed over
				continue
			}
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

// requestGoroutines runs requests on goroutines kept from one request to the
// next. A request's goroutine grows its stack to the depth of the HTTP
// client; with a new goroutine per request that growth (copying the stack,
// twice or three times) was paid on every request, about 8 % of the
// service's CPU in the instant fan-out. A goroutine left idle for
// requestIdle ends.
type requestGoroutines struct{ next chan func() }

const requestIdle = 2 * time.Second

// run runs f on an idle goroutine, or on a new one when none is idle.
func (g *requestGoroutines) run(f func()) {
	select {
	case g.next <- f:
	default:
		go g.loop(f)
	}
}

func (g *requestGoroutines) loop(f func()) {
	idle := time.NewTimer(requestIdle)
	defer idle.Stop()
	for {
		f()
		idle.Reset(requestIdle)
		select {
		case f = <-g.next:
		case <-idle.C:
			return
		}
	}
}
