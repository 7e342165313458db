// Package delivery is the sending engine (docs/product.md, "Sending" and "The sending API"): it selects a
// mailing's recipients when the mailing starts, and works its messages in
// batches — sending each one through the sender, deferring it to its
// client's send window or past a circuit-breaker pause, retrying transient
// failures with backoff until end_at (with a last chance before it,
// lastChance), and recording every outcome on the message row. The River
// workers in jobs/ call it; it knows nothing of River: it queues batches
// through BatchScheduler, and a mailing's status is the domain's to write
// (campaign.StartMailing, FinishIfDone, CloseMailing).
package delivery

import (
	"cmp"
	"context"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/sender"
)

// Sender is what the engine needs of the sending API client (*sender.Client).
type Sender interface {
	Acquire(ctx context.Context) error
	TryAcquire(n int) int
	// Release gives back n slots; 0 gives back none.
	Release(n int)
	// Concurrency is the number of slots (SENDER_CONCURRENCY).
	Concurrency() int
	Allow() (ok bool, retryAt time.Time)
	Send(ctx context.Context, req sender.Request, onWritten func()) sender.Result
	// Timeout is the timeout of one request: a last chance before end_at
	// is one whole Timeout before it (lastChance).
	Timeout() time.Duration
}

// Batch is a range of message ids of one mailing, worked by one job. Ranges
// are fixed (batch k covers first+k·size … first+(k+1)·size-1 where first is
// the mailing's lowest message id), so the same batch is always the same job
// and River's uniqueness keeps two jobs off the same messages.
type Batch struct {
	MailingID int
	FirstID   int
	LastID    int
}

// BatchScheduler inserts batch jobs inside the caller's transaction, one
// per batch (none for none).
type BatchScheduler interface {
	InsertBatches(ctx context.Context, tx *database.Tx, batches []Batch) error
}

// Config tunes the engine; zero values take the defaults.
type Config struct {
	// BatchSize is the number of message ids per batch job (default 1000).
	BatchSize int
	// SelectChunk is the number of clients a mailing's start selects per
	// transaction (default 10000).
	SelectChunk int
	// ChunkSize caps the requests started under one admission (default 256).
	ChunkSize int
	// MaxSnooze caps how long a batch waits before looking again at messages
	// deferred to a window, a retry or a breaker pause (default 30s): a
	// change of window or end_at is picked up at least that often.
	MaxSnooze time.Duration
	// PausedRecheck is how often a batch of a paused mailing looks whether it
	// was resumed (default 5s).
	PausedRecheck time.Duration
	// Slice bounds one run of a batch job, or of a start selecting
	// recipients, before it yields (default 30s); it stays well under the
	// job timeout.
	Slice time.Duration
	// MaxUnwritten is how many outcomes whose write failed (the database
	// is away) the engine keeps before admission stops starting requests
	// (default 10000); it then holds at most this plus the requests in
	// flight (SENDER_CONCURRENCY) and the results the running batches have
	// not flushed (250 each) (docs/design.md, "Database outages").
	MaxUnwritten int
	// WriteTimeout bounds each try to write outcomes (default 10s).
	WriteTimeout time.Duration
	// WriteRetryMax is the longest pause between tries to write kept
	// outcomes, and between a batch's tries to reach the database
	// (default 2s).
	WriteRetryMax time.Duration
}

func (c Config) withDefaults() Config {
	c.BatchSize = cmp.Or(c.BatchSize, 1000)
	c.ChunkSize = cmp.Or(c.ChunkSize, 256)
	c.SelectChunk = cmp.Or(c.SelectChunk, 10000)
	c.MaxSnooze = cmp.Or(c.MaxSnooze, 30*time.Second)
	c.PausedRecheck = cmp.Or(c.PausedRecheck, 5*time.Second)
	c.Slice = cmp.Or(c.Slice, 30*time.Second)
	c.MaxUnwritten = cmp.Or(c.MaxUnwritten, 10000)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, 10*time.Second)
	c.WriteRetryMax = cmp.Or(c.WriteRetryMax, 2*time.Second)
	return c
}

// Engine is the sending engine.
type Engine struct {
	db        *database.DB
	campaign  *campaign.Service
	sender    Sender
	batches   BatchScheduler
	publisher campaign.Publisher
	now       func() time.Time
	rand      func() float64
	logger    *slog.Logger
	cfg       Config
	draining  atomic.Bool
	// unwritten keeps outcomes the database could not take yet.
	unwritten *unwritten
	// hungWrites counts outcome writes left running past WriteTimeout.
	hungWrites atomic.Int32
	requests   requestGoroutines
}

// Drain makes running batches stop starting requests and yield (their jobs
// snooze, to be picked up again by any instance): the first step of a
// graceful shutdown. Requests in flight finish and are recorded.
func (e *Engine) Drain() { e.draining.Store(true) }

// Flush waits until every outcome kept during a database outage is
// written, or ctx ends; then it logs each one still unwritten (message,
// status, attempts, the API's answer) and returns how many there were.
// Graceful shutdown calls it after River stopped, within SHUTDOWN_TIMEOUT.
func (e *Engine) Flush(ctx context.Context) int {
	if err := e.unwritten.waitEmpty(ctx); err != nil {
		return e.unwritten.abandon(err)
	}
	return 0
}

// Unwritten is the number of outcomes kept in memory because the database
// could not take them yet.
func (e *Engine) Unwritten() int { return e.unwritten.len() }

// Deps are the dependencies of an Engine.
type Deps struct {
	DB        *database.DB
	Campaign  *campaign.Service
	Sender    Sender
	Batches   BatchScheduler
	Publisher campaign.Publisher // may be nil
	NowFunc   func() time.Time   // the campaign service's clock when nil
	Logger    *slog.Logger
}

// New returns an Engine.
func New(d Deps, cfg Config) *Engine {
	e := &Engine{
		db:        d.DB,
		campaign:  d.Campaign,
		sender:    d.Sender,
		batches:   d.Batches,
		publisher: d.Publisher,
		now:       d.NowFunc,
		rand:      rand.Float64,
		logger:    cmp.Or(d.Logger, slog.Default()),
		cfg:       cfg.withDefaults(),
	}
	if e.now == nil {
		e.now = d.Campaign.Now
	}
	e.requests.next = make(chan func())
	e.unwritten = newUnwritten(e.cfg, e.logger, e.applyWithin)
	// Times go to the database in UTC: SQLite compares them as text.
	clock := e.now
	e.now = func() time.Time { return clock().UTC() }
	return e
}

// RunMargin is what a batch run with a deadline keeps after its last
// request's whole sender timeout, for writing outcomes (SendBatch).
const RunMargin = 5 * time.Second

// SenderTimeout is the timeout of one request: a batch job's timeout must
// exceed it by more than RunMargin (jobs.SendBatchTimeout).
func (e *Engine) SenderTimeout() time.Duration { return e.sender.Timeout() }

// BatchWorkers is how many batch jobs an instance should work at once: at
// least four, and enough that their messages are four times the sender's
// concurrency. A batch starts its requests, then waits for all of them, and
// its worker then fetches the next batch; meanwhile the other batches'
// unstarted messages take the slots it frees. At SENDER_CONCURRENCY=2000
// against a 200 ms sender, four workers of 1,000 left slots idle: 8,726
// messages/s with 4, 9,015 with 8, one sitting (docs/benchmarks.md). Below
// 1,000 it stays four, which spreads a mailing's first batches over the
// instances (fewer per instance; README, "Benchmarks").
func (e *Engine) BatchWorkers() int {
	return max(4, (4*e.sender.Concurrency()+e.cfg.BatchSize-1)/e.cfg.BatchSize)
}

// Outcome tells the job what to do after a run: finish, or run again after
// Snooze (without spending an attempt).
type Outcome struct {
	Done   bool
	Snooze time.Duration
}

var done = Outcome{Done: true}

func snooze(d time.Duration) Outcome { return Outcome{Snooze: max(d, 0)} }
