package event

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/notifyhq/notify/internal/campaign"
)

// Stats counts the live subscriptions of a Bus (for metrics and tests).
type Stats struct {
	// MessageSubscribers counts status subscriptions.
	MessageSubscribers int
	// ProgressSubscribers counts progress subscriptions, over
	// ProgressMailings mailings (one statistics query each per interval).
	ProgressSubscribers int
	ProgressMailings    int
}

// Stats returns the current subscription counts.
func (b *Bus) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	var s Stats
	for _, subs := range b.msgSubs {
		s.MessageSubscribers += len(subs)
	}
	for _, g := range b.groups {
		s.ProgressSubscribers += len(g.subs)
	}
	s.ProgressMailings = len(b.groups)
	return s
}

// MessageSubscription is a subscription to message status changes.
type MessageSubscription struct {
	// C delivers the events in commit order per message. The Bus closes it
	// when the subscriber's context is done, when the subscriber fell
	// behind, or when the Bus shuts down; Err then says which.
	C <-chan *MessageEvent

	sub *messageSub
}

// Err returns why C was closed: ErrTooSlow, ErrClosed, or nil when the
// subscriber's context ended it. Call it after C is closed.
func (s *MessageSubscription) Err() error {
	s.sub.b.mu.Lock()
	defer s.sub.b.mu.Unlock()
	return s.sub.err
}

type messageSub struct {
	b         *Bus
	ctx       context.Context
	mailingID int // 0: every mailing
	ch        chan *MessageEvent
	err       error
	stop      func() bool // stops the context.AfterFunc
}

// SubscribeMessages subscribes to the status writes of mailingID's messages,
// or of every message when mailingID is nil, from now on, until ctx is done.
// Returns ErrClosed when the Bus is shutting down.
func (b *Bus) SubscribeMessages(ctx context.Context, mailingID *int) (*MessageSubscription, error) {
	s := &messageSub{b: b, ctx: ctx, ch: make(chan *MessageEvent, b.cfg.Buffer)}
	if mailingID != nil {
		s.mailingID = *mailingID
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	subs := b.msgSubs[s.mailingID]
	if subs == nil {
		subs = map[*messageSub]struct{}{}
		b.msgSubs[s.mailingID] = subs
	}
	subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.dropLocked(s, nil)
	})
	return &MessageSubscription{C: s.ch, sub: s}, nil
}

// dropLocked ends s with err, once: it leaves the index and its channel is
// closed. b.mu must be held.
func (b *Bus) dropLocked(s *messageSub, err error) {
	subs := b.msgSubs[s.mailingID]
	if _, ok := subs[s]; !ok {
		return
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(b.msgSubs, s.mailingID)
	}
	s.err = err
	close(s.ch)
	if s.stop != nil {
		s.stop()
	}
	if errors.Is(err, ErrTooSlow) {
		var args []any
		if s.mailingID != 0 {
			args = append(args, "mailing_id", s.mailingID)
		}
		LogDropped(b.logger, "status subscriber", cap(s.ch), args...)
	}
}

// offerLocked hands ev to s without blocking; a full buffer drops s (the
// fan-out policy, see Offer), unless s is leaving (its AfterFunc closes
// it). b.mu must be held.
func (b *Bus) offerLocked(s *messageSub, ev *MessageEvent) {
	if !Offer(s.ch, ev, false) && s.ctx.Err() == nil {
		b.dropLocked(s, ErrTooSlow)
	}
}

// deliver fans a batch out to the local subscribers, in order, without
// blocking: on SQLite from the flusher, on Postgres from the listener.
func (b *Bus) deliver(bt batch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if bt.reset {
		b.resetLocked()
	}
	all := b.msgSubs[0]
	for i := range bt.changes {
		c := &bt.changes[i]
		some := b.msgSubs[c.MailingID]
		if len(some) == 0 && len(all) == 0 {
			continue
		}
		ev := &MessageEvent{Change: c}
		for s := range some {
			b.offerLocked(s, ev)
		}
		for s := range all {
			b.offerLocked(s, ev)
		}
	}
	for _, id := range bt.mailings {
		if g := b.groups[id]; g != nil {
			g.kick(false)
		}
	}
}

// resetLocked tells every subscriber that events may have been missed:
// status subscribers get a notice, progress subscribers a fresh snapshot.
// b.mu must be held.
func (b *Bus) resetLocked() {
	for _, subs := range b.msgSubs {
		for s := range subs {
			b.offerLocked(s, missed)
		}
	}
	for _, g := range b.groups {
		g.kick(true)
	}
}

// group serves the progress subscribers of one mailing on this instance:
// one throttled statistics query for all of them.
type group struct {
	mailingID int
	subs      map[*progressSub]struct{}
	kicks     chan struct{} // capacity 1: counts may have changed
	done      chan struct{} // closed when the group ends
	force     bool          // under Bus.mu: send the next snapshot even if unchanged
}

// kick asks for a fresh snapshot without blocking; Bus.mu must be held.
func (g *group) kick(force bool) {
	g.force = g.force || force
	select {
	case g.kicks <- struct{}{}:
	case <-g.done:
	default:
	}
}

type progressSub struct {
	ctx  context.Context
	ch   chan *campaign.MailingStats // capacity 1: the latest snapshot
	seq  uint64                      // load order of the snapshot last put
	last *campaign.MailingStats
	stop func() bool
}

// SubscribeProgress subscribes to the counts of mailingID: a snapshot at
// once, then fresh ones at most every ProgressInterval while they change
// (always ending on the latest state), and after the final snapshot of a
// finished or cancelled mailing the channel is closed. The channel holds
// only the latest snapshot: a slow reader skips intermediate ones. It is
// also closed when ctx is done or the Bus shuts down. Returns an error
// wrapping campaign.ErrNotFound for an unknown mailing, ErrClosed when the
// Bus is shutting down.
func (b *Bus) SubscribeProgress(ctx context.Context, mailingID int) (<-chan *campaign.MailingStats, error) {
	seq := b.seq.Add(1)
	st, err := b.cfg.Stats(ctx, mailingID)
	if err != nil {
		return nil, fmt.Errorf("error loading the progress of mailing %d: %w", mailingID, err)
	}
	s := &progressSub{ctx: ctx, ch: make(chan *campaign.MailingStats, 1), seq: seq, last: st}
	select {
	case s.ch <- st: // a new channel with room for one: never waits
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if st.Status.Closed() {
		close(s.ch)
		return s.ch, nil
	}
	g := b.groups[mailingID]
	if g == nil {
		g = &group{mailingID: mailingID, subs: map[*progressSub]struct{}{}, kicks: make(chan struct{}, 1), done: make(chan struct{})}
		b.groups[mailingID] = g
		b.wg.Add(1)
		go b.runGroup(g)
	}
	g.subs[s] = struct{}{}
	// A change committed between the load above and now may have been
	// delivered before s joined: look again.
	g.kick(false)
	s.stop = context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.leaveLocked(g, s)
	})
	return s.ch, nil
}

// leaveLocked removes s from g and closes its channel, once; the group ends
// with its last subscriber. b.mu must be held.
func (b *Bus) leaveLocked(g *group, s *progressSub) {
	if _, ok := g.subs[s]; !ok {
		return
	}
	delete(g.subs, s)
	close(s.ch)
	if s.stop != nil {
		s.stop()
	}
	if len(g.subs) == 0 {
		b.endGroupLocked(g)
	}
}

// endGroupLocked closes every subscriber of g and stops it. b.mu must be held.
func (b *Bus) endGroupLocked(g *group) {
	for s := range g.subs {
		b.leaveLocked(g, s)
		if len(g.subs) == 0 {
			return // leaveLocked ended g with its last subscriber
		}
	}
	if b.groups[g.mailingID] == g {
		delete(b.groups, g.mailingID)
		close(g.done)
	}
}

// runGroup loads a mailing's counts when they may have changed, at most
// every ProgressInterval, and hands them to its subscribers.
func (b *Bus) runGroup(g *group) {
	defer b.wg.Done()
	var last time.Time
	for {
		select {
		case <-g.kicks:
		case <-g.done:
			return
		case <-b.ctx.Done():
			return
		}
		if wait := time.Until(last.Add(b.cfg.ProgressInterval)); wait > 0 {
			select {
			case <-time.After(wait):
			case <-g.done:
				return
			case <-b.ctx.Done():
				return
			}
		}
		// The load below covers every change signalled until now; a kick
		// arriving while it runs makes another one, so the last snapshot
		// always follows the last change.
		select {
		case <-g.kicks:
		default:
		}
		seq := b.seq.Add(1)
		last = time.Now()
		st, err := b.cfg.Stats(b.ctx, g.mailingID)
		switch {
		case errors.Is(err, campaign.ErrNotFound):
			// Deleted: its progress ends.
			b.mu.Lock()
			b.endGroupLocked(g)
			b.mu.Unlock()
			return
		case err != nil:
			if b.ctx.Err() != nil {
				return
			}
			b.logger.Warn("error loading mailing progress", "mailing_id", g.mailingID, "error", err)
			b.mu.Lock()
			g.kick(false) // try again after the interval
			b.mu.Unlock()
			continue
		}
		if b.publishProgress(g, st, seq) {
			return
		}
	}
}

// publishProgress hands st to g's subscribers, replacing a snapshot they
// have not read yet, and ends g after the final snapshot of a closed
// mailing. It reports whether g ended.
func (b *Bus) publishProgress(g *group, st *campaign.MailingStats, seq uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.groups[g.mailingID] != g {
		return true // ended meanwhile
	}
	force := g.force
	g.force = false
	for s := range g.subs {
		if seq < s.seq || (!force && sameStats(s.last, st)) {
			continue // its own first snapshot is newer, or nothing changed
		}
		// Latest wins (the fan-out policy, see Offer). Only this goroutine
		// sends, with b.mu held.
		if s.ctx.Err() == nil && Offer(s.ch, st, true) {
			s.seq, s.last = seq, st
		}
	}
	if st.Status.Closed() {
		b.endGroupLocked(g)
		return true
	}
	return false
}

// sameStats reports whether two snapshots show the same counts and status.
func sameStats(a, b *campaign.MailingStats) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Status == b.Status && a.Total == b.Total && slices.Equal(a.ByStatus, b.ByStatus)
}
