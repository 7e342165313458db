package fakesender

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// numShards spreads the per-msgId records over independent locks so tens of
// thousands of requests per second do not queue on one mutex; a power of two.
const numShards = 64

// outcome is how the fake answered a send request.
type outcome int

const (
	outcomeOK outcome = iota
	outcomeUnauthorized
	outcomeInvalid
	outcomeOutage
	outcomeOutageDrop
	outcomeHang
	outcomeServerError
	outcomeTooMany
	outcomeMalformed
	outcomeRejected
	outcomeAborted
	numOutcomes
)

// String returns the outcome's key in Stats.Outcomes.
func (o outcome) String() string {
	switch o {
	case outcomeOK:
		return "ok"
	case outcomeUnauthorized:
		return "unauthorized"
	case outcomeInvalid:
		return "invalid"
	case outcomeOutage:
		return "outage"
	case outcomeOutageDrop:
		return "outage_drop"
	case outcomeHang:
		return "hang"
	case outcomeServerError:
		return "server_error"
	case outcomeTooMany:
		return "too_many"
	case outcomeMalformed:
		return "malformed"
	case outcomeRejected:
		return "rejected"
	case outcomeAborted:
		return "aborted"
	default:
		return "unknown"
	}
}

// Stats is what the fake has received since it started or was last reset.
type Stats struct {
	// Requests counts send requests, valid or not.
	Requests int `json:"requests"`
	// Accepted counts success answers (200 with code 0).
	Accepted int `json:"accepted"`
	// AcceptedMessages counts distinct msgIds accepted at least once.
	AcceptedMessages int `json:"accepted_messages"`
	// Since echoes the since parameter of GET /admin/stats; zero otherwise.
	Since time.Time `json:"since,omitzero"`
	// RequestsSince counts requests whose handling started at or after Since (all
	// requests when Since is zero).
	RequestsSince int `json:"requests_since"`
	// FirstRequestAt and LastRequestAt are when the first and the last request
	// started; zero if there was none.
	FirstRequestAt time.Time `json:"first_request_at,omitzero"`
	LastRequestAt  time.Time `json:"last_request_at,omitzero"`
	// Outcomes counts requests by how they were answered: ok, unauthorized, invalid,
	// outage, outage_drop, hang, server_error, too_many, malformed, rejected, and
	// aborted (the client left, or the fake closed, during the latency).
	Outcomes map[string]int `json:"outcomes"`
	// DuplicateCount is len(Duplicates).
	DuplicateCount int `json:"duplicate_count"`
	// Duplicates are the msgIds accepted more than once, ascending.
	Duplicates []int64 `json:"duplicates"`
	// Messages holds the counts per msgId, for requests whose path had a valid
	// msgId, for the last 1,048,576 msgIds (keptMessages).
	// GET /admin/stats?messages=false leaves it out.
	Messages map[int64]MessageStats `json:"messages,omitempty"`
}

// MessageStats counts the requests and success answers for one msgId.
type MessageStats struct {
	Requests int `json:"requests"`
	Accepted int `json:"accepted"`
}

// recorder holds the statistics. Totals are atomics; per-msgId counts and start
// times live in shards, each a mutex around a small update.
type recorder struct {
	requests         atomic.Int64
	accepted         atomic.Int64
	acceptedMessages atomic.Int64
	outcomes         [numOutcomes]atomic.Int64
	shards           [numShards]*shard
	changed          signal
}

// shard is one lock's worth of the per-msgId records. Requests without a valid
// msgId are recorded in shard 0 with no per-msgId entry.
type shard struct {
	mu       sync.Mutex
	messages map[int64]MessageStats
	// ids are the msgIds of messages in the order they came, a ring of
	// keptMessages/numShards: the oldest is forgotten for a new one.
	ids    []int64
	nextID int
	starts startLog
	_      [64]byte
}

// keptMessages is how many msgIds the fake keeps counts for (about 64 MiB
// at most): far more than any test or benchmark sends, and a bound for a
// fake that runs as long as `make run` or the compose stack does. A msgId
// forgotten and seen again counts as new.
const keptMessages = 1 << 20

// remember records that id has an entry in s.messages, forgetting the
// oldest one when the shard keeps as many as it may.
func (s *shard) remember(id int64) {
	if len(s.ids) < keptMessages/numShards {
		s.ids = append(s.ids, id)
		return
	}
	delete(s.messages, s.ids[s.nextID])
	s.ids[s.nextID] = id
	s.nextID = (s.nextID + 1) % len(s.ids)
}

func (r *recorder) init() {
	for i := range r.shards {
		r.shards[i] = &shard{messages: make(map[int64]MessageStats)}
	}
}

// keptStarts is how many request start times each shard keeps exactly (all
// shards: 64 × 1,024 = 65,536, 512 KiB); keptSeconds is how long the
// per-second counts go back. The fake runs for as long as `make run` or the
// compose stack does, so what it keeps of its requests is bounded: the
// recent starts exactly, older ones to the second, the oldest only in the
// totals.
const (
	keptStarts  = 1024
	keptSeconds = 3600
)

// startLog is what a shard keeps of the start times of its requests (Unix
// nanoseconds): the last keptStarts exactly, in a ring, and a count per
// second for the last keptSeconds.
type startLog struct {
	ring        []int64 // the last len(ring) starts; ring[next] is the oldest once full
	next        int
	dropped     bool  // the ring has wrapped: older starts are counted per second only
	droppedLast int64 // the latest start dropped from the ring
	n           int   // starts since the last reset
	first, last int64 // earliest and latest start; valid if n > 0
	perSecond   map[int64]int
	lastSecond  int64 // the latest second counted; older than lastSecond-keptSeconds are pruned
}

func (l *startLog) add(ns int64) {
	if l.n == 0 || ns < l.first {
		l.first = ns
	}
	if l.n == 0 || ns > l.last {
		l.last = ns
	}
	l.n++
	if len(l.ring) < keptStarts {
		l.ring = append(l.ring, ns)
	} else {
		old := l.ring[l.next]
		if !l.dropped || old > l.droppedLast {
			l.droppedLast = old
		}
		l.dropped = true
		l.ring[l.next] = ns
		l.next = (l.next + 1) % keptStarts
	}
	sec := ns / int64(time.Second)
	if l.perSecond == nil {
		l.perSecond = make(map[int64]int)
	}
	l.perSecond[sec]++
	if sec > l.lastSecond {
		if sec/64 != l.lastSecond/64 { // prune now and then, not at every new second
			for s := range l.perSecond {
				if s <= sec-keptSeconds {
					delete(l.perSecond, s)
				}
			}
		}
		l.lastSecond = sec
	}
}

// since counts the starts at or after ns: exactly when ns is later than
// every start the ring dropped, else to the second (whole seconds from ns's
// own second) over the last keptSeconds.
func (l *startLog) since(ns int64) int {
	if !l.dropped || ns > l.droppedLast {
		n := 0
		for _, v := range l.ring {
			if v >= ns {
				n++
			}
		}
		return n
	}
	if ns <= l.first {
		return l.n
	}
	n, from := 0, ns/int64(time.Second)
	for s, c := range l.perSecond {
		if s >= from {
			n += c
		}
	}
	return n
}

func (r *recorder) shardFor(id int64) *shard {
	return r.shards[splitmix64(uint64(id))&(numShards-1)]
}

// start records the start of a request and returns which request for msgId id it
// is, counting from 1 (0 if the msgId is invalid).
func (r *recorder) start(id int64, valid bool, at time.Time) int {
	if !valid {
		id = 0
	}
	ns := at.UnixNano()
	s := r.shardFor(id)
	nth := 0
	s.mu.Lock()
	if valid {
		m, ok := s.messages[id]
		if !ok {
			s.remember(id)
		}
		m.Requests++
		s.messages[id] = m
		nth = m.Requests
	}
	s.starts.add(ns)
	s.mu.Unlock()
	r.requests.Add(1)
	r.changed.broadcast()
	return nth
}

// finish records how a request was answered. It is called before the answer is
// written, so a client that saw the answer finds it in the statistics.
func (r *recorder) finish(id int64, o outcome) {
	r.outcomes[o].Add(1)
	if o != outcomeOK {
		r.changed.broadcast()
		return
	}
	s := r.shardFor(id)
	s.mu.Lock()
	m, ok := s.messages[id]
	m.Accepted++
	if ok { // not forgotten meanwhile
		s.messages[id] = m
	}
	s.mu.Unlock()
	r.accepted.Add(1)
	if m.Accepted == 1 {
		r.acceptedMessages.Add(1)
	}
	r.changed.broadcast()
}

// reset clears the statistics.
func (r *recorder) reset() {
	for _, s := range r.shards {
		s.mu.Lock()
		s.messages = make(map[int64]MessageStats)
		s.ids, s.nextID = nil, 0
		s.starts = startLog{}
		s.mu.Unlock()
	}
	r.requests.Store(0)
	r.accepted.Store(0)
	r.acceptedMessages.Store(0)
	for i := range r.outcomes {
		r.outcomes[i].Store(0)
	}
	r.changed.broadcast()
}

// snapshot collects the statistics; per-message counts only if withMessages.
func (r *recorder) snapshot(since time.Time, withMessages bool) Stats {
	st := Stats{
		Requests:         int(r.requests.Load()),
		Accepted:         int(r.accepted.Load()),
		AcceptedMessages: int(r.acceptedMessages.Load()),
		Since:            since,
		Outcomes:         make(map[string]int, numOutcomes),
		Duplicates:       []int64{},
	}
	for i := range r.outcomes {
		st.Outcomes[outcome(i).String()] = int(r.outcomes[i].Load())
	}
	if withMessages {
		st.Messages = make(map[int64]MessageStats)
	}
	sinceNs, haveSince := since.UnixNano(), !since.IsZero()
	var first, last int64
	seen := false
	for _, s := range r.shards {
		s.mu.Lock()
		if s.starts.n > 0 {
			if !seen || s.starts.first < first {
				first = s.starts.first
			}
			if !seen || s.starts.last > last {
				last = s.starts.last
			}
			seen = true
		}
		if haveSince {
			st.RequestsSince += s.starts.since(sinceNs)
		} else {
			st.RequestsSince += s.starts.n
		}
		for id, m := range s.messages {
			if m.Accepted > 1 {
				st.Duplicates = append(st.Duplicates, id)
			}
			if withMessages {
				st.Messages[id] = m
			}
		}
		s.mu.Unlock()
	}
	if seen {
		st.FirstRequestAt, st.LastRequestAt = time.Unix(0, first), time.Unix(0, last)
	}
	slices.Sort(st.Duplicates)
	st.DuplicateCount = len(st.Duplicates)
	return st
}

// Stats returns what the fake has received since it started or was last reset,
// with the per-msgId counts.
func (f *Fake) Stats() Stats {
	return f.rec.snapshot(time.Time{}, true)
}

// RequestsSince returns how many send requests started at or after t (by the
// fake's clock): exactly when t is later than the starts the fake no longer
// keeps one by one (it keeps the last 65,536), else to the second.
func (f *Fake) RequestsSince(t time.Time) int {
	ns := t.UnixNano()
	n := 0
	for _, s := range f.rec.shards {
		s.mu.Lock()
		n += s.starts.since(ns)
		s.mu.Unlock()
	}
	return n
}

// RequestsPerSecond returns how many send requests started in each second
// (by the fake's clock), keyed by Unix second, over the last hour. Only
// seconds that saw a request are present.
func (f *Fake) RequestsPerSecond() map[int64]int {
	out := make(map[int64]int)
	for _, s := range f.rec.shards {
		s.mu.Lock()
		for sec, n := range s.starts.perSecond {
			out[sec] += n
		}
		s.mu.Unlock()
	}
	return out
}

// Requests returns how many send requests were made for msgId id.
func (f *Fake) Requests(id int64) int {
	s := f.rec.shardFor(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messages[id].Requests
}

// Accepted returns how many success answers were given for msgId id.
func (f *Fake) Accepted(id int64) int {
	s := f.rec.shardFor(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messages[id].Accepted
}

// Duplicates returns the msgIds accepted more than once, ascending.
func (f *Fake) Duplicates() []int64 {
	return f.rec.snapshot(time.Time{}, false).Duplicates
}

// Reset clears the statistics. Requests in flight are recorded when they finish.
func (f *Fake) Reset() {
	f.rec.reset()
}

// Changed returns a channel closed at the next change of the statistics: a
// request starting or being answered, or a reset. Check the condition you wait
// for after calling Changed and before waiting, so no change is missed.
func (f *Fake) Changed() <-chan struct{} {
	return f.rec.changed.wait()
}

// WaitFor blocks until cond returns true, checking it at every change of the
// statistics. Returns the context's error, wrapped, if ctx ends first.
func (f *Fake) WaitFor(ctx context.Context, cond func(*Fake) bool) error {
	for {
		changed := f.Changed()
		if cond(f) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("error waiting for the fake sender: %w", context.Cause(ctx))
		}
	}
}

// WaitForAccepted blocks until at least n distinct msgIds were accepted. Returns
// the context's error, wrapped with the count reached, if ctx ends first.
func (f *Fake) WaitForAccepted(ctx context.Context, n int) error {
	err := f.WaitFor(ctx, func(f *Fake) bool { return f.rec.acceptedMessages.Load() >= int64(n) })
	if err != nil {
		return fmt.Errorf("error waiting for %d accepted msgIds (have %d): %w", n, f.rec.acceptedMessages.Load(), err)
	}
	return nil
}

// WaitForRequests blocks until at least n send requests were received. Returns
// the context's error, wrapped with the count reached, if ctx ends first.
func (f *Fake) WaitForRequests(ctx context.Context, n int) error {
	err := f.WaitFor(ctx, func(f *Fake) bool { return f.rec.requests.Load() >= int64(n) })
	if err != nil {
		return fmt.Errorf("error waiting for %d requests (have %d): %w", n, f.rec.requests.Load(), err)
	}
	return nil
}

// signal is a broadcast: wait returns a channel that the next broadcast closes.
// Broadcasting costs one atomic load when nobody waits, so the hot path stays cheap.
type signal struct {
	ch atomic.Pointer[chan struct{}]
}

func (s *signal) wait() <-chan struct{} {
	for {
		if p := s.ch.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if s.ch.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

func (s *signal) broadcast() {
	if s.ch.Load() == nil {
		return
	}
	if p := s.ch.Swap(nil); p != nil {
		close(*p)
	}
}
