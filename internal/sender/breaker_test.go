package sender

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

type breakerBundle struct {
	b     *breaker
	clock *testdb.Clock
	obs   *recordingObserver
}

func setupBreaker(t *testing.T, cfg BreakerConfig) *breakerBundle {
	t.Helper()
	cfg = cfg.withDefaults()
	require.NoError(t, cfg.validate())
	obs := &recordingObserver{}
	return &breakerBundle{
		b:     newBreaker(cfg, 10*time.Second, slog.New(slog.DiscardHandler), obs),
		clock: newFakeClock(),
		obs:   obs,
	}
}

// probingBreaker returns a breaker that opened on its first failure, waited
// out DefaultOpenFor and has let its probe through.
func probingBreaker(t *testing.T) *breakerBundle {
	t.Helper()
	tb := setupBreaker(t, BreakerConfig{FailureThreshold: 1})
	tb.fail(1)
	tb.tripAndProbe(t, DefaultOpenFor)
	return tb
}

// fail records n transient failures begun in the current generation.
func (tb *breakerBundle) fail(n int) {
	for range n {
		tb.record(Transient, false)
	}
}

func (tb *breakerBundle) record(o Outcome, neutral bool) {
	now := tb.clock.Now()
	tb.b.record(now, tb.b.begin(now), o, neutral)
}

func (tb *breakerBundle) state() BreakerState { return tb.b.current(tb.clock.Now()) }

func (tb *breakerBundle) allow() (bool, time.Time) { return tb.b.allow(tb.clock.Now()) }

// tripAndProbe opens the breaker, waits out the open period and takes the probe.
func (tb *breakerBundle) tripAndProbe(t *testing.T, openFor time.Duration) {
	t.Helper()
	tb.clock.Advance(openFor)
	require.Equal(t, HalfOpen, tb.state())
	ok, _ := tb.allow()
	require.True(t, ok, "the probe")
}

func TestBreaker(t *testing.T) {
	t.Parallel()

	t.Run("OpensAfterThreshold", func(t *testing.T) {
		t.Parallel()
		tb := setupBreaker(t, BreakerConfig{})
		tb.fail(DefaultFailureThreshold - 1)
		require.Equal(t, Closed, tb.state())
		ok, retryAt := tb.allow()
		require.True(t, ok)
		require.True(t, retryAt.IsZero())

		tb.fail(1)
		require.Equal(t, Open, tb.state())
		ok, retryAt = tb.allow()
		require.False(t, ok)
		require.Equal(t, tb.clock.Now().Add(DefaultOpenFor), retryAt)

		tb.clock.Advance(DefaultOpenFor - time.Nanosecond)
		require.Equal(t, Open, tb.state())
		ok, _ = tb.allow()
		require.False(t, ok)
	})

	t.Run("SuccessResetsCount", func(t *testing.T) {
		t.Parallel()
		tb := setupBreaker(t, BreakerConfig{FailureThreshold: 3})
		tb.fail(2)
		tb.record(Sent, false)
		tb.fail(2)
		tb.record(Permanent, false) // a 4xx means the sender is up
		tb.fail(2)
		tb.record(Transient, true) // neutral: neither resets nor counts
		require.Equal(t, Closed, tb.state())
		tb.fail(1)
		require.Equal(t, Open, tb.state())
	})

	t.Run("HalfOpenOneProbeThenClose", func(t *testing.T) {
		t.Parallel()
		tb := probingBreaker(t)

		ok, retryAt := tb.allow()
		require.False(t, ok, "only one probe at a time")
		require.Equal(t, tb.clock.Now().Add(DefaultOpenFor), retryAt)

		tb.record(Sent, false)
		require.Equal(t, Closed, tb.state())
		ok, _ = tb.allow()
		require.True(t, ok)
		require.Equal(t, []BreakerState{Open, HalfOpen, Closed}, tb.obs.States())
	})

	t.Run("ReopenDoublesUpToMax", func(t *testing.T) {
		t.Parallel()
		tb := setupBreaker(t, BreakerConfig{FailureThreshold: 1, OpenFor: time.Second, MaxOpenFor: 10 * time.Second})
		tb.fail(1)
		openFor := time.Second
		for _, want := range []time.Duration{2, 4, 8, 10, 10} {
			tb.tripAndProbe(t, openFor)
			tb.fail(1)
			require.Equal(t, Open, tb.state())
			_, retryAt := tb.allow()
			openFor = want * time.Second
			require.Equal(t, tb.clock.Now().Add(openFor), retryAt)
		}

		// A successful probe closes it and resets the period.
		tb.tripAndProbe(t, openFor)
		tb.record(Sent, false)
		tb.fail(1)
		_, retryAt := tb.allow()
		require.Equal(t, tb.clock.Now().Add(time.Second), retryAt)
	})

	t.Run("StragglersIgnored", func(t *testing.T) {
		t.Parallel()
		tb := setupBreaker(t, BreakerConfig{FailureThreshold: 2})
		now := tb.clock.Now()
		oldGen := tb.b.begin(now) // a request that starts before the outage is noticed
		tb.fail(2)
		require.Equal(t, Open, tb.state())

		tb.tripAndProbe(t, DefaultOpenFor)
		tb.b.record(tb.clock.Now(), oldGen, Transient, false)
		require.Equal(t, HalfOpen, tb.state(), "a straggler is not the probe")

		tb.record(Sent, false)
		require.Equal(t, Closed, tb.state())
		tb.b.record(tb.clock.Now(), oldGen, Transient, false)
		tb.fail(1)
		require.Equal(t, Closed, tb.state(), "a straggler does not count after closing")
	})

	t.Run("OutcomesWhileOpenIgnored", func(t *testing.T) {
		t.Parallel()
		tb := setupBreaker(t, BreakerConfig{FailureThreshold: 1})
		tb.fail(1)
		tb.record(Sent, false)
		require.Equal(t, Open, tb.state())
	})

	t.Run("NeutralProbeFreesTheSlot", func(t *testing.T) {
		t.Parallel()
		tb := probingBreaker(t)
		tb.record(Transient, true)
		require.Equal(t, HalfOpen, tb.state())
		ok, _ := tb.allow()
		require.True(t, ok, "the cancelled probe's slot is free again")
	})

	t.Run("LostProbeExpires", func(t *testing.T) {
		t.Parallel()
		tb := probingBreaker(t) // and never Send
		tb.clock.Advance(tb.b.probeLease - time.Nanosecond)
		ok, retryAt := tb.allow()
		require.False(t, ok)
		require.Equal(t, tb.clock.Now().Add(time.Nanosecond), retryAt, "never later than the lease")
		tb.clock.Advance(time.Nanosecond)
		ok, _ = tb.allow()
		require.True(t, ok)
	})

	t.Run("StateString", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "closed", Closed.String())
		require.Equal(t, "open", Open.String())
		require.Equal(t, "half_open", HalfOpen.String())
		require.Equal(t, "breaker_state(7)", BreakerState(7).String())
	})
}

// TestBreakerThroughSend drives the breaker with real answers and a fake clock.
func TestBreakerThroughSend(t *testing.T) {
	t.Parallel()

	var healthy atomic.Bool
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	clock := newFakeClock()
	obs := &recordingObserver{}
	c := newTestClient(t, srv.URL, func(cfg *Config) {
		cfg.Now = clock.Now
		cfg.Observer = obs
		cfg.Breaker = BreakerConfig{FailureThreshold: 3, OpenFor: 2 * time.Second}
	})

	for i := range 3 {
		require.Equal(t, Transient, c.Send(bounded(t), testRequest(int64(i)), nil).Outcome)
	}
	require.Equal(t, Open, c.State())
	ok, retryAt := c.Allow()
	require.False(t, ok)
	require.Equal(t, clock.Now().Add(2*time.Second), retryAt)

	// The probe fails: open again for twice as long.
	clock.Advance(2 * time.Second)
	ok, _ = c.Allow()
	require.True(t, ok)
	require.Equal(t, Transient, c.Send(bounded(t), testRequest(10), nil).Outcome)
	ok, retryAt = c.Allow()
	require.False(t, ok)
	require.Equal(t, clock.Now().Add(4*time.Second), retryAt)

	// The sender is back: the next probe closes the breaker.
	healthy.Store(true)
	clock.Advance(4 * time.Second)
	ok, _ = c.Allow()
	require.True(t, ok)
	ok, _ = c.Allow()
	require.False(t, ok)
	require.Equal(t, Sent, c.Send(bounded(t), testRequest(11), nil).Outcome)
	require.Equal(t, Closed, c.State())
	require.Equal(t, []BreakerState{Open, HalfOpen, Open, HalfOpen, Closed}, obs.States())
	require.Equal(t, int32(5), requests.Load())
}
