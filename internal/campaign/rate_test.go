package campaign

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

func newFakeClock() *testdb.Clock { return testdb.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }
func statsOf(id int, st status.Mailing, sent, queued int) *MailingStats {
	byStatus, total := counts(map[status.Message]int{status.Sent: sent, status.Queued: queued})
	return &MailingStats{MailingID: id, Status: st, Total: total, ByStatus: byStatus}
}

func TestRate(t *testing.T) {
	t.Parallel()

	t.Run("UnknownUntilASecondWatched", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		r := newRateTracker(clock.Now)
		st := statsOf(1, status.Running, 0, 1000)
		r.observe(st)
		require.Nil(t, st.Rate)
		require.Nil(t, st.ETA)
		clock.Advance(500 * time.Millisecond)
		st = statsOf(1, status.Running, 50, 950)
		r.observe(st)
		require.Nil(t, st.Rate, "half a second is too short for a rate")
	})

	t.Run("SteadyRateAndETA", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		r := newRateTracker(clock.Now)
		var st *MailingStats
		// 100 messages a second for 5 s, read every 250 ms.
		for i := 0; i <= 20; i++ {
			sent := i * 25
			st = statsOf(1, status.Running, sent, 2000-sent)
			r.observe(st)
			if i < 20 {
				clock.Advance(250 * time.Millisecond)
			}
		}
		require.NotNil(t, st.Rate)
		require.InDelta(t, 100, *st.Rate, 0.001)
		require.NotNil(t, st.ETA)
		// 1500 unsent at 100/s: 15 s from now.
		require.Equal(t, clock.Now().Add(15*time.Second), *st.ETA)
	})

	t.Run("OnlyTheLastTenSecondsCount", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		r := newRateTracker(clock.Now)
		sent := 0
		// 20 s at 200/s, then 10 s at 50/s, read every second.
		for i := 0; i < 30; i++ {
			r.observe(statsOf(1, status.Running, sent, 100000-sent))
			clock.Advance(time.Second)
			if i < 20 {
				sent += 200
			} else {
				sent += 50
			}
		}
		st := statsOf(1, status.Running, sent, 100000-sent)
		r.observe(st)
		require.InDelta(t, 50, *st.Rate, 0.001)
	})

	t.Run("BaselineInterpolatedAtWindowStart", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		r := newRateTracker(clock.Now)
		// Read at 0 s (0 sent) and 20 s (2000 sent, 100/s): the window's
		// start (10 s) is interpolated at 1000.
		r.observe(statsOf(1, status.Running, 0, 5000))
		clock.Advance(20 * time.Second)
		st := statsOf(1, status.Running, 2000, 3000)
		r.observe(st)
		require.InDelta(t, 100, *st.Rate, 0.001)
	})

	t.Run("NoETAWhenPausedFinishedOrIdle", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		r := newRateTracker(clock.Now)
		r.observe(statsOf(1, status.Running, 0, 100))
		clock.Advance(2 * time.Second)
		paused := statsOf(1, status.Paused, 50, 50)
		r.observe(paused)
		require.InDelta(t, 25, *paused.Rate, 0.001)
		require.Nil(t, paused.ETA)

		clock.Advance(2 * time.Second)
		finished := statsOf(1, status.Finished, 100, 0)
		r.observe(finished)
		require.NotNil(t, finished.Rate)
		require.Nil(t, finished.ETA)

		r.observe(statsOf(2, status.Running, 10, 90))
		clock.Advance(2 * time.Second)
		idle := statsOf(2, status.Running, 10, 90)
		r.observe(idle)
		require.Equal(t, 0.0, *idle.Rate)
		require.Nil(t, idle.ETA, "no progress: no ETA")
	})

	t.Run("MailingsApartAndForgotten", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		r := newRateTracker(clock.Now)
		r.observe(statsOf(1, status.Running, 0, 100))
		r.observe(statsOf(2, status.Running, 0, 100))
		clock.Advance(2 * time.Second)
		a, b := statsOf(1, status.Running, 20, 80), statsOf(2, status.Running, 60, 40)
		r.observe(a)
		r.observe(b)
		require.InDelta(t, 10, *a.Rate, 0.001)
		require.InDelta(t, 30, *b.Rate, 0.001)

		clock.Advance(rateForget + RateWindow)
		r.observe(statsOf(3, status.Running, 0, 1))
		r.mu.Lock()
		defer r.mu.Unlock()
		require.NotContains(t, r.mailings, 1)
		require.NotContains(t, r.mailings, 2)
		require.Contains(t, r.mailings, 3)
	})
}
