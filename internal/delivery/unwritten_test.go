package delivery

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// fakeDB is a database for the writer of unwritten outcomes: it refuses
// writes while down and records what it was given.
type fakeDB struct {
	mu      sync.Mutex
	down    bool
	err     error // what a write returns while down
	tries   int
	written map[int]update
	again   []bool
	tried   chan struct{} // a try happened (buffered, 1)
}

func newFakeDB() *fakeDB {
	return &fakeDB{down: true, err: syscall.ECONNREFUSED, written: map[int]update{}, tried: make(chan struct{}, 1)}
}

func (f *fakeDB) write(_ context.Context, _ int, us []update, again bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries++
	f.again = append(f.again, again)
	select {
	case f.tried <- struct{}{}:
	default:
	}
	if f.down {
		return f.err
	}
	for _, u := range us {
		f.written[u.msg.id] = u
	}
	return nil
}

func (f *fakeDB) set(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// testUnwritten is an unwritten store over db whose pauses between tries
// end when the test says so (step), or at once when step is nil.
func testUnwritten(db *fakeDB, limit int, step chan time.Time) *unwritten {
	w := newUnwritten(Config{MaxUnwritten: limit, WriteTimeout: time.Second, WriteRetryMax: time.Second}.withDefaults(),
		slog.New(slog.NewTextHandler(io.Discard, nil)), db.write)
	w.after = func(time.Duration) <-chan time.Time {
		if step != nil {
			return step
		}
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	return w
}

func outcomes(first, n int, st status.Message) []update {
	us := make([]update, n)
	for i := range us {
		us[i] = update{msg: &pending{id: first + i}, status: st, attempts: 1, statusSent: true}
	}
	return us
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestUnwrittenKeepsOutcomesUntilWritten: outcomes refused by a database
// that is away are kept, block their batch and admission at the limit, and
// are written (as a retry) once it answers.
func TestUnwrittenKeepsOutcomesUntilWritten(t *testing.T) {
	db := newFakeDB()
	step := make(chan time.Time)
	w := testUnwritten(db, 10, step)
	w.add(1, outcomes(100, 6, status.Sent))
	w.add(2, outcomes(2000, 4, status.Retrying))

	<-db.tried // the writer tried and failed: it now waits for step
	if got := w.len(); got != 10 {
		t.Fatalf("held %d outcomes, want 10", got)
	}
	if !w.full() || !w.holds(105) || w.holds(106) || !w.anyIn(100, 199) || w.anyIn(200, 1999) {
		t.Fatalf("full=%v holds(105)=%v holds(106)=%v", w.full(), w.holds(105), w.holds(106))
	}
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.waitBatch(short, 3000, 3999); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a batch with nothing held waits while the store is full; got %v", err)
	}

	step <- time.Time{} // another failed try
	<-db.tried
	db.set(false)
	step <- time.Time{}
	if err := w.waitEmpty(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := w.waitBatch(waitCtx(t), 100, 199); err != nil {
		t.Fatal(err)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if len(db.written) != 10 || db.written[105].status != status.Sent || db.written[2003].status != status.Retrying {
		t.Fatalf("written %v", db.written)
	}
	for _, again := range db.again {
		if !again {
			t.Fatal("the writer's tries are retries (an earlier try may have committed)")
		}
	}
}

// TestUnwrittenNewerOutcomeWins: an outcome replaced while the writer was
// writing the older one stays held until it is written itself.
func TestUnwrittenNewerOutcomeWins(t *testing.T) {
	db := newFakeDB()
	step := make(chan time.Time)
	w := testUnwritten(db, 10, step)
	w.add(1, outcomes(1, 1, status.Retrying))
	<-db.tried
	w.add(1, outcomes(1, 1, status.Sent))
	taken := w.snapshot()[0]
	w.remove([]heldOutcome{{mailingID: 1, u: taken[0].u, seq: taken[0].seq - 1}}) // the older one
	if !w.holds(1) {
		t.Fatal("the newer outcome was dropped")
	}
	db.set(false)
	step <- time.Time{}
	if err := w.waitEmpty(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := db.written[1].status; got != status.Sent {
		t.Fatalf("wrote %s, want the newer sent", got)
	}
}

// TestUnwrittenGivesUpOnRefusedWrites: a write the database refuses (not an
// outage) is tried maxWriteFailures times, then logged and dropped.
func TestUnwrittenGivesUpOnRefusedWrites(t *testing.T) {
	db := newFakeDB()
	db.err = &pq.Error{Code: "23514"} // check_violation
	w := testUnwritten(db, 10, nil)
	w.add(1, outcomes(1, 3, status.Sent))
	if err := w.waitEmpty(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
	if db.tries != maxWriteFailures {
		t.Fatalf("tried %d times, want %d", db.tries, maxWriteFailures)
	}
}

func TestUnavailable(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{syscall.ECONNREFUSED, true},
		{io.ErrUnexpectedEOF, true},
		{&pq.Error{Code: "57P01"}, true}, // admin_shutdown
		{&pq.Error{Code: "08006"}, true}, // connection_failure
		{&pq.Error{Code: "40P01"}, true}, // deadlock
		{&pq.Error{Code: "23505"}, false},
		{&pq.Error{Code: "57014"}, false}, // query_canceled
		{errors.New("bad input"), false},
		{nil, false},
	} {
		if got := unavailable(c.err); got != c.want {
			t.Errorf("unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestUnwrittenMemory measures what a held outcome costs (docs/design.md,
// "Database outages", quotes it).
func TestUnwrittenMemory(t *testing.T) {
	db := newFakeDB()
	step := make(chan time.Time)
	w := testUnwritten(db, 20000, step)
	const n = 10000
	us := make([]update, n)
	text := "Hello, world: a message text of some length, shared by the mailing"
	lastErr := "sending API: 503 Service Unavailable"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range us {
		now := time.Now()
		us[i] = update{msg: &pending{id: i + 1, phone: "79000000000", zone: "Europe/Moscow", status: status.Queued},
			status: status.Sent, attempts: 1, sentAt: &now, text: &text, lastError: &lastErr, statusSent: true}
	}
	w.add(1, us)
	us = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d held outcomes: about %d bytes each", n, per)
	if per > 1024 {
		t.Errorf("a held outcome takes %d bytes; the documented bound assumes under 1 KiB", per)
	}
	<-db.tried
	db.set(false)
	step <- time.Time{}
	if err := w.waitEmpty(waitCtx(t)); err != nil {
		t.Fatal(err)
	}
}

// silentDriver is a database whose queries never answer until release is
// closed, whatever their context says: a black-holed connection as lib/pq
// sees it (its cancel request is lost the same way).
type silentDriver struct{ release chan struct{} }

func (d silentDriver) Open(string) (driver.Conn, error) { return silentConn(d), nil }

type silentConn struct{ release chan struct{} }

func (c silentConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (c silentConn) Close() error                        { return nil }
func (c silentConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }
func (c silentConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	<-c.release
	return nil, io.ErrUnexpectedEOF
}

type silentConnector struct{ d silentDriver }

func (c silentConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open("") }
func (c silentConnector) Driver() driver.Driver                        { return c.d }

// TestApplyWithinASilentDatabase: a write the database never answers ends
// at WriteTimeout and counts as failed (an outage), and at most
// maxHungWrites such writes are left running at once.
func TestApplyWithinASilentDatabase(t *testing.T) {
	release := make(chan struct{})
	sqlDB := sql.OpenDB(silentConnector{silentDriver{release}})
	t.Cleanup(func() { sqlDB.Close() })
	e := &Engine{
		db:     &database.DB{SQL: sqlDB, Dialect: dialect.Postgres},
		now:    time.Now,
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		cfg:    Config{WriteTimeout: 20 * time.Millisecond}.withDefaults(),
	}
	us := outcomes(1, 3, status.Sent)
	for i := range maxHungWrites {
		err := e.applyWithin(context.Background(), 1, us, false)
		if !unavailable(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("write %d: %v, want a deadline error", i, err)
		}
	}
	if err := e.applyWithin(context.Background(), 1, us, false); !errors.Is(err, errWritesHang) {
		t.Fatalf("a write beyond %d hanging ones: %v, want errWritesHang at once", maxHungWrites, err)
	}
	close(release) // the silent connections fail at last
	ctx := waitCtx(t)
	for e.hungWrites.Load() != 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("%d writes still counted as hanging", e.hungWrites.Load())
		case <-time.After(time.Millisecond):
		}
	}
}
