// Package event is the live status feed behind the GraphQL subscriptions
// (docs/product.md, "The API"): the domain and the sending engine tell the Bus about committed
// status writes (it implements campaign.Publisher) and the Bus fans them out
// to subscribers of message status changes and of mailing progress.
//
// On SQLite (one instance) the Bus is an in-process broker. On Postgres every
// publication goes through Postgres: batched pg_notify calls on a channel
// named after the service's schema, received by one LISTEN connection per
// instance (lib/pq's Listener), so subscribers on every instance — this one
// included — see the same events in the same order.
//
// Publishing never blocks on subscribers: publications are queued and
// flushed by one goroutine, and each subscriber has a bounded buffer. What a
// full buffer means is the fan-out policy of every live fan-out (Offer): a
// status subscriber that falls behind is dropped (ErrTooSlow); progress
// subscribers are coalesced (the latest snapshot wins).
package event

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
)

// Errors that end a subscription or are notices within one.
var (
	// ErrTooSlow ends a status subscription whose buffer was full: the
	// subscriber did not keep up and events were dropped.
	ErrTooSlow = errors.New("subscriber too slow, events dropped")
	// ErrEventsMissed is a notice in a status subscription: the feed was
	// interrupted (the Postgres listener reconnected, or a publication could
	// not be sent) and events may have been missed. The subscription goes on.
	ErrEventsMissed = errors.New("the live event feed was interrupted: events may have been missed")
	// ErrClosed ends subscriptions when the Bus shuts down, and refuses new ones.
	ErrClosed = errors.New("event bus closed")
)

// Defaults of Config.
const (
	// DefaultBuffer is how many status events a subscriber may fall behind
	// before it is dropped: about 0.4 s of a 10,000 message/s fan-out, 32 KiB
	// of pointers per subscriber.
	DefaultBuffer = 4096
	// DefaultProgressInterval is the shortest time between two progress
	// snapshots of one mailing: "a few times a second" (docs/product.md, "The API").
	DefaultProgressInterval = 250 * time.Millisecond
	// DefaultMaxPending bounds the status changes waiting to be flushed; past
	// it publications are dropped and subscribers told events were missed.
	DefaultMaxPending = 1 << 17
)

// StatsFunc loads the statistics of one mailing; it returns an error
// wrapping campaign.ErrNotFound for an unknown mailing.
type StatsFunc func(ctx context.Context, mailingID int) (*campaign.MailingStats, error)

// Config holds the dependencies and knobs of a Bus.
type Config struct {
	// DB decides the mode (Postgres: LISTEN/NOTIFY; SQLite: in-process) and,
	// on Postgres, gives the DSN, the schema (channel name) and the pool the
	// NOTIFYs go through.
	DB *database.DB
	// Stats loads progress snapshots (campaign.Service.MailingStats).
	Stats  StatsFunc
	Logger *slog.Logger
	// Buffer is each status subscriber's buffer; DefaultBuffer when 0.
	Buffer int
	// ProgressInterval throttles progress snapshots; DefaultProgressInterval when 0.
	ProgressInterval time.Duration
	// MaxPending bounds the unflushed status changes; DefaultMaxPending when 0.
	MaxPending int
	// Now is the clock of the changes' CommittedAt; time.Now when nil.
	Now func() time.Time
}

// MessageEvent is one item of a status subscription: a committed status
// write, or a notice (Err) that events may have been missed. One
// MessageEvent is shared by every subscriber that receives it: read only.
type MessageEvent struct {
	// Change is the status write; nil for a notice.
	Change *campaign.StatusChange
	// Err is ErrEventsMissed for a notice; nil with a Change.
	Err error
}

// missed is the notice sent after an interruption of the feed.
var missed = &MessageEvent{Err: ErrEventsMissed}

// Bus is the live status feed: a campaign.Publisher and the subscriptions of
// the GraphQL resolvers. It is safe for concurrent use.
type Bus struct {
	cfg      Config
	logger   *slog.Logger
	postgres bool
	channel  string // the NOTIFY channel (Postgres)

	ctx    context.Context // the Bus's lifetime, cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Publishing side: what waits for the flusher.
	pmu             sync.Mutex
	pending         []campaign.StatusChange
	pendingMailings map[int]struct{}
	lost            bool          // publications were dropped: the next flush tells subscribers
	wake            chan struct{} // capacity 1: something is pending

	// Subscribing side, under mu: every send to and every close of a
	// subscriber's channel happens with mu held, so each is closed once.
	mu      sync.Mutex
	closed  bool
	msgSubs map[int]map[*messageSub]struct{} // by mailing id; 0 = all mailings
	groups  map[int]*group                   // progress, by mailing id
	seq     atomic.Uint64                    // orders progress loads

	listener *pq.Listener
}

// New returns a running Bus. On Postgres it opens the LISTEN connection and
// returns once it listens, so that nothing published after New returns is
// missed by this instance.
func New(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.DB == nil || cfg.Stats == nil {
		return nil, errors.New("event: Config.DB and Config.Stats are required")
	}
	cfg.Buffer = cmp.Or(cfg.Buffer, DefaultBuffer)
	cfg.ProgressInterval = cmp.Or(cfg.ProgressInterval, DefaultProgressInterval)
	cfg.MaxPending = cmp.Or(cfg.MaxPending, DefaultMaxPending)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bus{
		cfg:             cfg,
		logger:          cmp.Or(cfg.Logger, slog.Default()),
		postgres:        cfg.DB.Dialect == dialect.Postgres,
		pendingMailings: map[int]struct{}{},
		wake:            make(chan struct{}, 1),
		msgSubs:         map[int]map[*messageSub]struct{}{},
		groups:          map[int]*group{},
	}
	b.ctx, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if b.postgres {
		b.channel = ChannelName(cfg.DB.Schema)
		if err := b.listen(ctx); err != nil {
			b.cancel()
			return nil, err
		}
	}
	b.wg.Add(1)
	go b.flushLoop()
	return b, nil
}

// Close flushes what is pending (briefly), stops listening and ends every
// subscription (ErrClosed). Publications after Close are dropped.
func (b *Bus) Close() {
	b.EndSubscriptions()
	b.cancel()
	if b.listener != nil {
		if err := b.listener.Close(); err != nil {
			b.logger.Warn("error closing the event listener", "error", err)
		}
		// The listener's goroutine may be blocked handing over a
		// notification nobody reads any more (receive returns with the
		// context): drain until it closes the channel as it ends.
		for range b.listener.NotificationChannel() {
		}
	}
	b.wg.Wait()
}

// EndSubscriptions ends every subscription (status subscribers see
// ErrClosed) and refuses new ones, while publishing goes on: graceful
// shutdown calls it first so that streaming responses finish.
func (b *Bus) EndSubscriptions() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for _, subs := range b.msgSubs {
		for s := range subs {
			b.dropLocked(s, ErrClosed)
		}
	}
	for _, g := range b.groups {
		b.endGroupLocked(g)
	}
}

// MessagesChanged queues committed status writes for the subscribers. It
// never blocks on them (campaign.Publisher).
func (b *Bus) MessagesChanged(_ context.Context, changes []campaign.StatusChange) {
	if len(changes) == 0 || b.ctx.Err() != nil {
		return
	}
	b.pmu.Lock()
	if len(b.pending)+len(changes) > b.cfg.MaxPending {
		if !b.lost {
			b.logger.Error("live events dropped: the event feed is not keeping up", "pending", len(b.pending), "dropped", len(changes))
		}
		b.lost = true
		for _, c := range changes {
			b.pendingMailings[c.MailingID] = struct{}{}
		}
	} else {
		// Writers publish right after their commit.
		committed := b.cfg.Now()
		for _, c := range changes {
			c.CommittedAt = committed
			b.pending = append(b.pending, c)
		}
	}
	b.pmu.Unlock()
	b.signal()
}

// MailingChanged queues a fresh progress snapshot of mailingID
// (campaign.Publisher); snapshots are coalesced and throttled.
func (b *Bus) MailingChanged(_ context.Context, mailingID int) {
	if b.ctx.Err() != nil {
		return
	}
	b.pmu.Lock()
	b.pendingMailings[mailingID] = struct{}{}
	b.pmu.Unlock()
	b.signal()
}

var _ campaign.Publisher = (*Bus)(nil)

// signal wakes the flusher without blocking: a wake-up already pending
// covers this publication too.
func (b *Bus) signal() {
	select {
	case b.wake <- struct{}{}:
	case <-b.ctx.Done():
	default:
	}
}

// batch is what one flush carries, in publication order.
type batch struct {
	changes  []campaign.StatusChange
	mailings []int
	// reset says events may have been missed before this batch.
	reset bool
}

// take empties the queue into a batch.
func (b *Bus) take() batch {
	b.pmu.Lock()
	defer b.pmu.Unlock()
	out := batch{changes: b.pending, reset: b.lost}
	for id := range b.pendingMailings {
		out.mailings = append(out.mailings, id)
	}
	b.pending, b.lost = nil, false
	clear(b.pendingMailings)
	return out
}

// requeue marks a batch that could not be sent as lost: the next flush
// tells subscribers, and progress is refreshed.
func (b *Bus) requeue(bt batch) {
	b.pmu.Lock()
	b.lost = true
	for _, id := range bt.mailings {
		b.pendingMailings[id] = struct{}{}
	}
	b.pmu.Unlock()
}

// flushLoop sends what is queued: at once when idle, and whatever
// accumulated meanwhile in one go when a flush was under way, so the number
// of NOTIFYs follows the flushes, not the messages.
func (b *Bus) flushLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.wake:
		case <-b.ctx.Done():
			// Last flush: what was committed before Close still reaches the
			// other instances.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = b.flush(ctx)
			return
		}
		if err := b.flush(b.ctx); err != nil {
			// Retry shortly: the batch is marked lost, so subscribers get
			// a notice and progress a fresh snapshot once it goes out.
			select {
			case <-time.After(time.Second):
				b.signal()
			case <-b.ctx.Done():
			}
		}
	}
}

// flush sends one batch: through Postgres, or straight to the local
// subscribers on SQLite.
func (b *Bus) flush(ctx context.Context) error {
	bt := b.take()
	if len(bt.changes) == 0 && len(bt.mailings) == 0 && !bt.reset {
		return nil
	}
	if !b.postgres {
		b.deliver(bt)
		return nil
	}
	if err := b.notify(ctx, bt); err != nil {
		b.logger.Error("error publishing live events", "changes", len(bt.changes), "error", err)
		b.requeue(bt)
		return fmt.Errorf("error publishing %d status changes: %w", len(bt.changes), err)
	}
	return nil
}
