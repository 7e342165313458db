package delivery

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/lib/pq"

	"github.com/notifyhq/notify/internal/database"
)

// unwritten keeps the outcomes of requests that could not be written (the
// database is away: restarted, unreachable, connections cut), by message
// id, until its writer gets them in. The sending API's answer is the one
// thing the engine cannot ask for again without sending the message again,
// so it is never dropped for an outage (docs/design.md, "Database outages").
//
// It is bounded: admission starts no request while it holds limit outcomes
// or more, so it holds at most limit plus the requests in flight
// (SENDER_CONCURRENCY) and the results collectors have not flushed (250
// per running batch). Batches do not load or send a message whose outcome
// it holds (SendBatch waits for its range to be written first).
type unwritten struct {
	// write writes the outcomes of one mailing; again says a try before
	// may have committed without its reply reaching us.
	write func(ctx context.Context, mailingID int, us []update, again bool) error
	// cfg gives each try's deadline (WriteTimeout), the longest pause
	// between tries (WriteRetryMax) and the limit (MaxUnwritten).
	cfg    Config
	after  func(time.Duration) <-chan time.Time
	logger *slog.Logger

	mu      sync.Mutex
	entries map[int]heldOutcome
	seq     uint64
	running bool          // a writer goroutine is at work
	changed chan struct{} // closed (and replaced) whenever entries shrink
}

// heldOutcome is an outcome waiting to be written.
type heldOutcome struct {
	mailingID int
	u         update
	seq       uint64 // tells a replaced entry from the one a writer took
}

// firstRetryWait is the first pause after a failed try to reach the
// database; each next one doubles, up to WriteRetryMax.
const firstRetryWait = 50 * time.Millisecond

// maxWriteFailures is how many times the writer tries outcomes whose write
// fails for a reason other than an outage (a bug, a constraint) before it
// gives up on them and logs them.
const maxWriteFailures = 5

func newUnwritten(cfg Config, logger *slog.Logger, write func(ctx context.Context, mailingID int, us []update, again bool) error) *unwritten {
	return &unwritten{
		write:   write,
		cfg:     cfg,
		after:   time.After,
		logger:  logger,
		entries: make(map[int]heldOutcome),
		changed: make(chan struct{}),
	}
}

// add keeps us (outcomes of mailingID) until they are written, and starts
// the writer if it is not running. A newer outcome of a message replaces an
// older one.
func (w *unwritten) add(mailingID int, us []update) {
	if len(us) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, u := range us {
		w.seq++
		w.entries[u.msg.id] = heldOutcome{mailingID: mailingID, u: u, seq: w.seq}
	}
	if !w.running {
		w.running = true
		go w.run()
	}
}

// len is the number of outcomes held.
func (w *unwritten) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.entries)
}

// full reports whether admission must wait: limit outcomes or more held.
func (w *unwritten) full() bool { return w.len() >= w.cfg.MaxUnwritten }

// holds reports whether the outcome of message id is held.
func (w *unwritten) holds(id int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.entries[id]
	return ok
}

// anyInLocked reports whether an outcome of a message in [first, last] is
// held. w.mu is held.
func (w *unwritten) anyInLocked(first, last int) bool {
	for id := range w.entries {
		if id >= first && id <= last {
			return true
		}
	}
	return false
}

// anyIn reports whether an outcome of a message in [first, last] is held.
func (w *unwritten) anyIn(first, last int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.anyInLocked(first, last)
}

// waitBatch waits until no outcome of a message in [first, last] is held
// and admission is open (fewer than limit held), or ctx ends.
func (w *unwritten) waitBatch(ctx context.Context, first, last int) error {
	return w.wait(ctx, func() bool { return len(w.entries) < w.cfg.MaxUnwritten && !w.anyInLocked(first, last) })
}

// waitEmpty waits until every held outcome is written, or ctx ends.
func (w *unwritten) waitEmpty(ctx context.Context) error {
	return w.wait(ctx, func() bool { return len(w.entries) == 0 })
}

// wait waits until cond (called with w.mu held) holds, or ctx ends.
func (w *unwritten) wait(ctx context.Context, cond func() bool) error {
	for {
		w.mu.Lock()
		if cond() {
			w.mu.Unlock()
			return nil
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// remove drops the entries taken (unless replaced since) and wakes waiters.
func (w *unwritten) remove(taken []heldOutcome) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range taken {
		if cur, ok := w.entries[h.u.msg.id]; ok && cur.seq == h.seq {
			delete(w.entries, h.u.msg.id)
		}
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// snapshot takes what is held, grouped by mailing, at most 250 per group,
// in id order; nil when nothing is held (and the writer stops).
func (w *unwritten) snapshot() [][]heldOutcome {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.entries) == 0 {
		w.running = false
		return nil
	}
	all := slices.SortedFunc(maps.Values(w.entries), func(a, b heldOutcome) int {
		return cmp.Or(cmp.Compare(a.mailingID, b.mailingID), cmp.Compare(a.u.msg.id, b.u.msg.id))
	})
	var groups [][]heldOutcome
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && j-i < 250 && all[j].mailingID == all[i].mailingID {
			j++
		}
		groups = append(groups, all[i:j])
		i = j
	}
	return groups
}

// run writes what is held until nothing is, each try under the timeout,
// pausing between failed tries (growing to maxWait).
func (w *unwritten) run() {
	wait, failures, since := firstRetryWait, 0, time.Now()
	for {
		groups := w.snapshot()
		if groups == nil {
			if failures > 0 {
				w.logger.Info("kept outcomes written: the database answers again", "failed_tries", failures, "after", time.Since(since).Round(time.Millisecond))
			}
			return
		}
		ok := true
		for _, g := range groups {
			us := make([]update, len(g))
			for i, h := range g {
				us[i] = h.u
			}
			ctx, cancel := context.WithTimeout(context.Background(), w.cfg.WriteTimeout)
			err := w.write(ctx, g[0].mailingID, us, true)
			cancel()
			if err == nil {
				w.remove(g)
				continue
			}
			ok = false
			failures++
			if failures == 1 {
				since = time.Now()
			}
			w.logger.Warn("outcomes not written yet: the database is unavailable; retrying",
				"mailing_id", g[0].mailingID, "outcomes", len(g), "held", w.len(), "tries", failures, "error", err)
			if !unavailable(err) && failures >= maxWriteFailures {
				w.logLost(g, "not written: the database refused the write", err)
				w.remove(g)
			}
			break
		}
		if ok {
			wait = firstRetryWait
			continue
		}
		<-w.after(wait)
		wait = min(2*wait, w.cfg.WriteRetryMax)
	}
}

// logLost logs each outcome that will not be written, with what the API
// answered: the log then holds the message's story (docs/design.md,
// "Database outages").
func (w *unwritten) logLost(hs []heldOutcome, msg string, err error) {
	for _, h := range hs {
		w.logger.Error("message outcome "+msg,
			"message_id", h.u.msg.id, "mailing_id", h.mailingID, "client_id", h.u.msg.customerID,
			"status", string(h.u.status), "attempts", h.u.attempts, "sent_at", h.u.sentAt,
			"last_error", h.u.lastError, "error", err)
	}
}

// abandon logs every outcome still held (shutdown gave up waiting for the
// database) and returns how many there were.
func (w *unwritten) abandon(err error) int {
	w.mu.Lock()
	hs := slices.SortedFunc(maps.Values(w.entries), func(a, b heldOutcome) int { return cmp.Compare(a.u.msg.id, b.u.msg.id) })
	w.mu.Unlock()
	w.logLost(hs, "not written before shutdown", err)
	return len(hs)
}

// unavailable reports whether err says the database is away or the
// connection broke (as opposed to the database refusing a statement): the
// work is worth trying again once it answers.
func unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case pqErr.Code == "57014": // query_canceled: our own context ended it
			return false
		case pqErr.Code.Class() == "08", pqErr.Code.Class() == "53", pqErr.Code.Class() == "57":
			return true // connection exception, insufficient resources, operator intervention (shutdown, restart)
		}
		return database.Retryable(err)
	}
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr)
}
