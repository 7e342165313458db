package campaign

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

// TestSendHistory drives the sampler with a fake clock: buckets are the
// differences between the samples at their ends, a missed sample's
// difference is spread over the gap, the first sample of a slot stands, and
// an hour is kept.
func TestSendHistory(t *testing.T) {
	t.Parallel()
	// A slot's start, and a read 40 ms into it, as the sampler's timer makes.
	start := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	bucket := func(i int) time.Time { return start.Add(time.Duration(i) * HistoryBucket) }
	read := func(i int) time.Time { return bucket(i).Add(40 * time.Millisecond) }

	t.Run("EmptyBeforeTheFirstSample", func(t *testing.T) {
		t.Parallel()
		var h sendSampler
		got := h.history(start, 60)
		require.Nil(t, got.Since)
		require.Equal(t, 10, got.BucketSeconds)
		require.Empty(t, got.Buckets)
		require.NotNil(t, got.Buckets, "an empty list, not null")
	})

	// Samples recorded in order, then the history read at a time: a bucket
	// is the difference between the samples at its ends; the first sample
	// is in slot 0, which Since names.
	type sample struct {
		at     time.Time
		totals sendTotals
	}
	for _, tc := range []struct {
		name    string
		samples []sample
		at      time.Time
		want    []SendBucket
	}{
		{"DifferencesBetweenSamples", []sample{
			{start.Add(3700 * time.Millisecond), sendTotals{sent: 1000, failed: 10}}, // started mid-slot
			{read(1), sendTotals{sent: 1500, failed: 12}},
			{read(2), sendTotals{sent: 1500, failed: 12}},
			{read(3), sendTotals{sent: 2100, failed: 20}},
		}, read(3).Add(5 * time.Second), // inside slot 3: its bucket has not ended
			[]SendBucket{{At: bucket(0), Sent: 500, Failed: 2}, {At: bucket(1), Sent: 0, Failed: 0}, {At: bucket(2), Sent: 600, Failed: 8}}},
		{"FirstSampleOfASlotStands", []sample{
			{read(0), sendTotals{sent: 100}},
			{read(0).Add(5 * time.Second), sendTotals{sent: 900}}, // a second read in slot 0
			{read(1), sendTotals{sent: 1000}},
			{read(0), sendTotals{sent: 5}}, // the clock went back
		}, read(1), []SendBucket{{At: bucket(0), Sent: 900}}},
		// Slots 1 and 2 were not read (the database did not answer).
		{"MissedSamplesSpreadOverTheGap", []sample{{read(0), sendTotals{sent: 0, failed: 0}}, {read(3), sendTotals{sent: 100, failed: 2}}},
			read(3), []SendBucket{{At: bucket(0), Sent: 33, Failed: 0}, {At: bucket(1), Sent: 33, Failed: 1}, {At: bucket(2), Sent: 34, Failed: 1}}},
		// A mailing deleted with its messages.
		{"TotalsGoingDownCountAsNothing", []sample{{read(0), sendTotals{sent: 500, failed: 50}}, {read(1), sendTotals{sent: 200, failed: 60}}},
			read(1), []SendBucket{{At: bucket(0), Sent: 0, Failed: 10}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h sendSampler
			for _, s := range tc.samples {
				h.record(s.at, s.totals)
			}
			got := h.history(tc.at, 60)
			require.Equal(t, start, *got.Since, "the slot of the first sample")
			require.Equal(t, tc.want, got.Buckets)
		})
	}

	t.Run("TheLastMinutesOfAnHour", func(t *testing.T) {
		t.Parallel()
		clock := testdb.NewClock(read(0))
		var h sendSampler
		// Two hours of samples, 10 sent in each bucket.
		const slots = 2 * 360
		for i := 0; i <= slots; i++ {
			clock.Set(read(i))
			h.record(clock.Now(), sendTotals{sent: 10 * i})
		}
		got := h.history(clock.Now(), 60)
		require.Len(t, got.Buckets, 360)
		require.Equal(t, bucket(slots-360), got.Buckets[0].At)
		require.Equal(t, bucket(slots-1), got.Buckets[359].At)
		for _, b := range got.Buckets {
			require.Equal(t, 10, b.Sent)
		}
		require.Equal(t, bucket(slots-360), *got.Since, "the oldest sample kept")

		got = h.history(clock.Now(), 1)
		require.Len(t, got.Buckets, 6)
		require.Equal(t, bucket(slots-6), got.Buckets[0].At)

		// Half a minute without samples: the window moves on, the gap is spread.
		clock.Advance(30 * time.Second)
		h.record(clock.Now(), sendTotals{sent: 10*slots + 60})
		got = h.history(clock.Now(), 1)
		require.Equal(t, []SendBucket{
			{At: bucket(slots - 3), Sent: 10},
			{At: bucket(slots - 2), Sent: 10},
			{At: bucket(slots - 1), Sent: 10},
			{At: bucket(slots), Sent: 20},
			{At: bucket(slots + 1), Sent: 20},
			{At: bucket(slots + 2), Sent: 20},
		}, got.Buckets)
	})

	t.Run("MinutesOutOfRange", func(t *testing.T) {
		t.Parallel()
		s := New(Config{Now: testdb.NewClock(start).Now})
		for _, m := range []int{0, -1, HistoryMinutes + 1} {
			_, err := s.SendHistory(m)
			var v *ValidationError
			require.ErrorAs(t, err, &v, "minutes %d", m)
			require.Contains(t, err.Error(), "minutes")
		}
		h, err := s.SendHistory(HistoryMinutes)
		require.NoError(t, err)
		require.Empty(t, h.Buckets)
	})
}
