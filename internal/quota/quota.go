// Package quota caps the requests per second to the sending API across all
// the instances together (SENDER_MAX_RPS_CLUSTER, README "Configuration"):
// the API's quota is per account, not per instance.
//
// The instances share the quota through the database they already share.
// Each Unix second, by the database's clock, has a row in quota_grants
// counting the requests granted in it. An instance claims tokens of the
// current second in small chunks, with one atomic upsert that grants fewer
// when fewer are left and none when the quota released so far is gone (a
// second's quota is released in Slices parts), keeps them in a local bucket
// for that second only, and when nothing is left waits for the next slice. Tokens unused at the end of their second are lost: the
// cluster may use less than the quota, never more. A dead instance holds
// nothing beyond the current second. See docs/design.md, "One quota for the
// cluster".
package quota

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/notifyhq/notify/internal/database"
)

// DefaultChunks is how many chunks a second's quota is claimed in by
// default (ten per slice): small chunks let the instances interleave, so
// that their shares stay even (three instances with equal demand got 32–35 %
// each with 100 chunks, 29–38 % with 50, 23–43 % with 20), and bound what
// one instance can leave unused when its demand stops. Claims cost one short
// upsert each: about 100 a second for the whole cluster, whatever the quota.
const DefaultChunks = 100

// Slices is how many parts a second's quota is released in: during the k-th
// tenth of a second (from 1) at most k tenths of the quota are granted in
// all, rounded up. Requests spread over the second instead of all going out in
// its first milliseconds, and an instance whose timer fires late at the turn
// of a second still finds most of the quota there: the instances' shares
// stay even.
const Slices = 10

const (
	// pruneEvery is how often an instance deletes old seconds.
	pruneEvery = 10 * time.Second
	// keep is how many past seconds are kept (for a look while debugging).
	keep = 60
	// errorPause is how long a failed claim is reported to every caller
	// before the store is asked again, so that a database outage does not
	// turn every request into a query.
	errorPause = 100 * time.Millisecond
)

// Config configures a Limiter.
type Config struct {
	// Limit is the requests per second of the whole cluster; at least 1.
	Limit int
	// Chunk is how many tokens one claim asks for; default
	// Limit/DefaultChunks, at least 1.
	Chunk int
	// Logger receives claim failures (default: discard).
	Logger *slog.Logger
	// Now is the local clock (default time.Now); Sleep waits on it
	// (default: a timer). Tests set both to a controlled clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// grant is the answer of a store to a claim.
type grant struct {
	n  int       // tokens granted; 0 when the second's quota is gone
	at time.Time // the store's clock when it granted: the second is at.Unix()
}

// store keeps the per-second counts: Postgres for a cluster, memory for a
// single instance.
type store interface {
	// claim grants up to n tokens of the current second, never letting the
	// second's total pass limit.
	claim(ctx context.Context, n, limit int) (grant, error)
	// prune deletes the seconds before the given Unix second.
	prune(ctx context.Context, before int64) error
	// close releases what the store holds (a connection).
	close()
}

// Limiter hands out the cluster's tokens to this instance's requests. It is
// safe for concurrent use and starts no goroutine.
type Limiter struct {
	cfg   Config
	store store
	// claiming is held by the one caller that talks to the store; the
	// others wait for it (or for their context) and then look at the bucket
	// again.
	claiming chan struct{}

	mu      sync.Mutex
	tokens  int       // tokens of the bucket's second still unused
	expires time.Time // local time the bucket's second ends; tokens are void from then on
	next    time.Time // local time the next slice starts when this one's quota is gone
	failed  time.Time // until when lastErr is returned without asking the store
	lastErr error
	pruned  time.Time // local time of the last prune
}

// New returns the cluster limiter for db: its grants are shared through
// Postgres, or kept in memory on SQLite, where there is only one instance.
func New(db *database.DB, cfg Config) *Limiter {
	if db.Dialect == dialect.Postgres {
		return newLimiter(&postgresStore{db: db.SQL}, cfg)
	}
	return NewLocal(cfg)
}

// NewLocal returns a limiter whose grants are kept in memory by the local
// clock: the same per-second quota for one instance alone.
func NewLocal(cfg Config) *Limiter {
	cfg = cfg.withDefaults()
	return newLimiter(&memoryStore{now: cfg.Now}, cfg)
}

func (c Config) withDefaults() Config {
	c.Limit = max(c.Limit, 1)
	c.Chunk = min(cmp.Or(c.Chunk, c.Limit/DefaultChunks), c.Limit)
	c.Chunk = max(c.Chunk, 1)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	return c
}

func newLimiter(s store, cfg Config) *Limiter {
	return &Limiter{cfg: cfg.withDefaults(), store: s, claiming: make(chan struct{}, 1)}
}

// Close releases the limiter's connection to the database, after the claim
// in progress if there is one. Call it before closing the database; a Wait
// after Close takes a connection again.
func (l *Limiter) Close() {
	l.claiming <- struct{}{}
	l.store.close()
	<-l.claiming
}

// Wait blocks until this instance holds a token of the current second and
// takes it, or returns an error: the context's, or the store's when a claim
// failed (the caller then does not send).
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if ok, err := l.take(); ok || err != nil {
			return err
		}
		select {
		case l.claiming <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("cancelled waiting for the cluster quota: %w", context.Cause(ctx))
		}
		// Another caller may have filled the bucket meanwhile.
		ok, err := l.take()
		if !ok && err == nil {
			err = l.refill(ctx)
		}
		<-l.claiming
		if ok || err != nil {
			return err
		}
	}
}

// take takes a token from the bucket if it holds a valid one. It returns the
// last claim's error while errorPause has not passed since.
func (l *Limiter) take() (bool, error) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.tokens > 0 && now.Before(l.expires) {
		l.tokens--
		return true, nil
	}
	if now.Before(l.failed) {
		return false, l.lastErr
	}
	return false, nil
}

// refill waits for the next slice if the current one's quota is gone, then
// claims a chunk into the bucket. Only the holder of claiming calls it. A
// claim that gets nothing records when the next slice starts.
func (l *Limiter) refill(ctx context.Context) error {
	l.mu.Lock()
	next := l.next
	l.mu.Unlock()
	if d := next.Sub(l.cfg.Now()); d > 0 {
		if err := l.cfg.Sleep(ctx, d); err != nil {
			return fmt.Errorf("cancelled waiting for the next slice of the cluster quota: %w", err)
		}
	}
	sent := l.cfg.Now()
	g, err := l.store.claim(ctx, l.cfg.Chunk, l.cfg.Limit)
	received := l.cfg.Now()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("cancelled claiming the cluster quota: %w", context.Cause(ctx))
		}
		err = fmt.Errorf("error claiming the cluster quota: %w", err)
		l.cfg.Logger.Warn("cluster quota unavailable: requests wait", "error", err)
		l.mu.Lock()
		l.failed, l.lastErr = received.Add(errorPause), err
		l.mu.Unlock()
		return err
	}
	// What is left of the granted second, or of its slice when nothing was
	// granted, by the store's clock, mapped to the local clock: tokens are
	// void from the earliest local time the second may have ended (the store
	// read its clock after sent), and the next claim waits until the latest
	// time the slice may end (the store read its clock before received).
	l.mu.Lock()
	if g.n > 0 {
		l.tokens, l.expires = g.n, sent.Add(time.Unix(g.at.Unix()+1, 0).Sub(g.at))
	} else {
		l.tokens, l.next = 0, received.Add(sliceEnd(g.at).Sub(g.at))
	}
	prune := received.Sub(l.pruned) >= pruneEvery
	if prune {
		l.pruned = received
	}
	l.mu.Unlock()
	if prune {
		if err := l.store.prune(ctx, g.at.Unix()-keep); err != nil && ctx.Err() == nil {
			l.cfg.Logger.Warn("error deleting old seconds of the cluster quota", "error", err)
		}
	}
	return nil
}

// released is how many tokens of a second may have been granted in all by
// the time at: the quota of the slices begun so far, rounded up. claimSQL
// computes the same.
func released(limit int, at time.Time) int {
	slice := int64(at.Nanosecond()) * Slices / int64(time.Second)
	return int((int64(limit)*(slice+1) + Slices - 1) / Slices)
}

// sliceEnd is when the slice of the second that holds at ends.
func sliceEnd(at time.Time) time.Time {
	slice := int64(at.Nanosecond()) * Slices / int64(time.Second)
	return time.Unix(at.Unix(), (slice+1)*int64(time.Second)/Slices)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// memoryStore keeps the current second's count in memory: one instance.
type memoryStore struct {
	now    func() time.Time
	mu     sync.Mutex
	second int64
	used   int
}

func (s *memoryStore) claim(_ context.Context, n, limit int) (grant, error) {
	if n < 1 || limit < 1 {
		return grant{}, errors.New("claim of no tokens")
	}
	at := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := at.Unix(); sec != s.second {
		s.second, s.used = sec, 0
	}
	granted := min(n, released(limit, at)-s.used)
	granted = max(granted, 0)
	s.used += granted
	return grant{n: granted, at: at}, nil
}

func (s *memoryStore) prune(context.Context, int64) error { return nil }

func (s *memoryStore) close() {}
