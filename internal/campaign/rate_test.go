package campaign

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

// rateTest is a rate tracker on a clock the test moves.
type rateTest struct {
	*testdb.Clock
	r *rateTracker
}

func newRateTest() *rateTest {
	clock := testdb.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return &rateTest{clock, newRateTracker(clock.Now)}
}

// observe has the tracker read a mailing's counts now and returns the
// statistics it filled in.
func (rt *rateTest) observe(id int, st status.Mailing, sent, queued int) *MailingStats {
	byStatus, total := counts(map[status.Message]int{status.Sent: sent, status.Queued: queued})
	stats := &MailingStats{MailingID: id, Status: st, Total: total, ByStatus: byStatus}
	rt.r.observe(stats)
	return stats
}

func TestRate(t *testing.T) {
	t.Parallel()

	t.Run("UnknownUntilASecondWatched", func(t *testing.T) {
		t.Parallel()
		rt := newRateTest()
		st := rt.observe(1, status.Running, 0, 1000)
		require.Nil(t, st.Rate)
		require.Nil(t, st.ETA)
		rt.Advance(500 * time.Millisecond)
		st = rt.observe(1, status.Running, 50, 950)
		require.Nil(t, st.Rate, "half a second is too short for a rate")
	})

	t.Run("SteadyRateAndETA", func(t *testing.T) {
		t.Parallel()
		rt := newRateTest()
		var st *MailingStats
		// 100 messages a second for 5 s, read every 250 ms.
		for i := 0; i <= 20; i++ {
			sent := i * 25
			st = rt.observe(1, status.Running, sent, 2000-sent)
			if i < 20 {
				rt.Advance(250 * time.Millisecond)
			}
		}
		require.NotNil(t, st.Rate)
		require.InDelta(t, 100, *st.Rate, 0.001)
		require.NotNil(t, st.ETA)
		// 1500 unsent at 100/s: 15 s from now.
		require.Equal(t, rt.Now().Add(15*time.Second), *st.ETA)
	})

	t.Run("OnlyTheLastTenSecondsCount", func(t *testing.T) {
		t.Parallel()
		rt := newRateTest()
		sent := 0
		// 20 s at 200/s, then 10 s at 50/s, read every second.
		for i := 0; i < 30; i++ {
			rt.observe(1, status.Running, sent, 100000-sent)
			rt.Advance(time.Second)
			if i < 20 {
				sent += 200
			} else {
				sent += 50
			}
		}
		st := rt.observe(1, status.Running, sent, 100000-sent)
		require.InDelta(t, 50, *st.Rate, 0.001)
	})

	t.Run("BaselineInterpolatedAtWindowStart", func(t *testing.T) {
		t.Parallel()
		rt := newRateTest()
		// Read at 0 s (0 sent) and 20 s (2000 sent, 100/s): the window's
		// start (10 s) is interpolated at 1000.
		rt.observe(1, status.Running, 0, 5000)
		rt.Advance(20 * time.Second)
		st := rt.observe(1, status.Running, 2000, 3000)
		require.InDelta(t, 100, *st.Rate, 0.001)
	})

	t.Run("NoETAWhenPausedFinishedOrIdle", func(t *testing.T) {
		t.Parallel()
		rt := newRateTest()
		rt.observe(1, status.Running, 0, 100)
		rt.Advance(2 * time.Second)
		paused := rt.observe(1, status.Paused, 50, 50)
		require.InDelta(t, 25, *paused.Rate, 0.001)
		require.Nil(t, paused.ETA)

		rt.Advance(2 * time.Second)
		finished := rt.observe(1, status.Finished, 100, 0)
		require.NotNil(t, finished.Rate)
		require.Nil(t, finished.ETA)

		rt.observe(2, status.Running, 10, 90)
		rt.Advance(2 * time.Second)
		idle := rt.observe(2, status.Running, 10, 90)
		require.Equal(t, 0.0, *idle.Rate)
		require.Nil(t, idle.ETA, "no progress: no ETA")
	})

	t.Run("MailingsApartAndForgotten", func(t *testing.T) {
		t.Parallel()
		rt := newRateTest()
		rt.observe(1, status.Running, 0, 100)
		rt.observe(2, status.Running, 0, 100)
		rt.Advance(2 * time.Second)
		a, b := rt.observe(1, status.Running, 20, 80), rt.observe(2, status.Running, 60, 40)
		require.InDelta(t, 10, *a.Rate, 0.001)
		require.InDelta(t, 30, *b.Rate, 0.001)

		rt.Advance(rateForget + RateWindow)
		rt.observe(3, status.Running, 0, 1)
		rt.r.mu.Lock()
		defer rt.r.mu.Unlock()
		require.NotContains(t, rt.r.mailings, 1)
		require.NotContains(t, rt.r.mailings, 2)
		require.Contains(t, rt.r.mailings, 3)
	})
}
