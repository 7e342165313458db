package sender

import (
	"cmp"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Circuit breaker defaults.
const (
	// DefaultFailureThreshold is the number of consecutive transient failures
	// that opens the breaker. Consecutive rather than a ratio: with random
	// faults at rate p it trips by chance with probability p^20 per request
	// (1e-20 at 10%), while a dead sender trips it within one round of
	// requests at the default concurrency.
	DefaultFailureThreshold = 20
	// DefaultOpenFor is how long the breaker first stays open.
	DefaultOpenFor = time.Second
	// DefaultMaxOpenFor caps the doubling of OpenFor on consecutive reopens.
	DefaultMaxOpenFor = 30 * time.Second
)

// BreakerConfig configures the circuit breaker. Zero values take the defaults.
//
// Closed, it lets everything through and counts consecutive transient
// failures; at FailureThreshold it opens for OpenFor. Once that has passed it
// is half-open: Allow lets exactly one probe through. The probe's success
// closes it (and resets OpenFor); its failure reopens it for twice the
// previous period, up to MaxOpenFor. Sent and Permanent answers both count as
// success: a 4xx means the sender is up.
type BreakerConfig struct {
	// FailureThreshold is the number of consecutive transient failures that
	// opens the breaker (default 20).
	FailureThreshold int
	// OpenFor is the first open period (default 1s).
	OpenFor time.Duration
	// MaxOpenFor caps the open period (default 30s).
	MaxOpenFor time.Duration
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	c.FailureThreshold = cmp.Or(c.FailureThreshold, DefaultFailureThreshold)
	c.OpenFor = cmp.Or(c.OpenFor, DefaultOpenFor)
	c.MaxOpenFor = cmp.Or(c.MaxOpenFor, max(DefaultMaxOpenFor, c.OpenFor))
	return c
}

func (c BreakerConfig) validate() error {
	switch {
	case c.FailureThreshold < 0:
		return fmt.Errorf("invalid Breaker.FailureThreshold %d: must be positive", c.FailureThreshold)
	case c.OpenFor < 0:
		return fmt.Errorf("invalid Breaker.OpenFor %s: must be positive", c.OpenFor)
	case c.MaxOpenFor < c.OpenFor:
		return fmt.Errorf("invalid Breaker.MaxOpenFor %s: must be at least OpenFor (%s)", c.MaxOpenFor, c.OpenFor)
	}
	return nil
}

// BreakerState is the state of the circuit breaker.
type BreakerState int

const (
	// Closed lets every request through.
	Closed BreakerState = iota
	// Open refuses requests until its open period has passed.
	Open
	// HalfOpen lets a single probe through.
	HalfOpen
)

// String returns the state's snake_case name, as used in logs and metrics.
func (s BreakerState) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	default:
		return fmt.Sprintf("breaker_state(%d)", int(s))
	}
}

// breaker is the circuit breaker. Its time comes from the caller (Config.Now)
// so that tests drive it without sleeping. Every transition starts a new
// generation; an outcome only counts against the generation its request
// started in, so that the stragglers of an outage (requests timing out long
// after the breaker opened) neither reopen it after a successful probe nor
// count as the probe.
type breaker struct {
	cfg        BreakerConfig
	probeLease time.Duration // after this a probe that never reported is presumed lost
	logger     *slog.Logger
	observer   Observer

	mu         sync.Mutex
	state      BreakerState
	gen        uint64
	failures   int           // consecutive transient failures while closed
	openFor    time.Duration // the current open period
	openUntil  time.Time     // end of the open period
	probeUntil time.Time     // while half-open: a probe is in flight until then
}

func newBreaker(cfg BreakerConfig, timeout time.Duration, logger *slog.Logger, observer Observer) *breaker {
	return &breaker{
		cfg:        cfg,
		probeLease: timeout + time.Second,
		logger:     logger,
		observer:   observer,
		openFor:    cfg.OpenFor,
	}
}

// setLocked moves to state s, starting a new generation.
func (b *breaker) setLocked(s BreakerState) {
	b.state = s
	b.gen++
	if b.observer != nil {
		b.observer.ObserveBreaker(s)
	}
}

// advanceLocked moves an expired Open to HalfOpen.
func (b *breaker) advanceLocked(now time.Time) {
	if b.state == Open && !now.Before(b.openUntil) {
		b.probeUntil = time.Time{}
		b.setLocked(HalfOpen)
		b.logger.Info("sender circuit half-open: probing", "open_for", b.openFor)
	}
}

// allow reports whether a request may be made now and, if not, when to ask again.
func (b *breaker) allow(now time.Time) (bool, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked(now)
	switch b.state {
	case Open:
		return false, b.openUntil
	case HalfOpen:
		if now.Before(b.probeUntil) {
			// A probe is in flight. Ask again after a base period rather than
			// at the end of the probe's lease, which can be a whole timeout.
			return false, now.Add(min(b.cfg.OpenFor, b.probeUntil.Sub(now)))
		}
		b.probeUntil = now.Add(b.probeLease)
		return true, time.Time{}
	default:
		return true, time.Time{}
	}
}

// begin returns the generation a request starting now belongs to.
func (b *breaker) begin(now time.Time) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked(now)
	return b.gen
}

// current returns the state at now.
func (b *breaker) current(now time.Time) BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked(now)
	return b.state
}

// record counts the outcome of a request begun in generation gen. A neutral
// outcome (the caller cancelled, the mailing's deadline cut it short) says
// nothing about the sender; it only frees the probe slot.
func (b *breaker) record(now time.Time, gen uint64, o Outcome, neutral bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advanceLocked(now)
	if gen != b.gen {
		return
	}
	failed := o == Transient
	switch b.state {
	case Closed:
		switch {
		case neutral:
		case !failed:
			b.failures = 0
		default:
			b.failures++
			if b.failures >= b.cfg.FailureThreshold {
				b.openLocked(now)
			}
		}
	case HalfOpen:
		switch {
		case neutral:
			b.probeUntil = time.Time{}
		case !failed:
			b.failures = 0
			b.openFor = b.cfg.OpenFor
			b.setLocked(Closed)
			b.logger.Info("sender circuit closed: sender is back")
		default:
			b.openFor = min(b.openFor*2, b.cfg.MaxOpenFor)
			b.openLocked(now)
		}
	}
}

func (b *breaker) openLocked(now time.Time) {
	b.failures = 0
	b.openUntil = now.Add(b.openFor)
	b.setLocked(Open)
	b.logger.Warn("sender circuit open: sender keeps failing", "open_for", b.openFor, "retry_at", b.openUntil)
}

// Allow reports whether the circuit breaker lets a request through now; if
// not, retryAt is when to ask again, so the caller can defer the message
// without spending an attempt. While half-open, exactly one caller gets true
// (the probe) until that probe's outcome is recorded by Send, or until
// Timeout+1s has passed without one. A caller that gets true should Send.
func (c *Client) Allow() (ok bool, retryAt time.Time) {
	return c.breaker.allow(c.cfg.Now())
}

// State returns the circuit breaker's current state, for metrics.
func (c *Client) State() BreakerState {
	return c.breaker.current(c.cfg.Now())
}
