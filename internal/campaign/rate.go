package campaign

import (
	"sync"
	"time"

	"github.com/notifyhq/notify/internal/status"
)

// The rate and ETA of a mailing's statistics (docs/design.md, "Rate and
// ETA"): each instance keeps, per mailing, the finished counts it read from
// message_counts over the last RateWindow and derives the rate from them.
// The counts are the database's, kept by triggers whoever writes, so every
// instance sees the same cluster-wide progress whichever instance sends;
// only the sampling is per instance.

const (
	// RateWindow is the span the rate is measured over.
	RateWindow = 10 * time.Second
	// rateMinSpan is the shortest span a rate is given for: over less, a
	// couple of reads would make a wild figure.
	rateMinSpan = time.Second
	// rateResolution thins the samples: a read within it of the last sample
	// replaces that sample (subscriptions read up to 4 times a second, and a
	// busy dashboard more).
	rateResolution = 200 * time.Millisecond
	// rateForget drops the samples of a mailing nobody has read for that
	// long.
	rateForget = 2 * RateWindow
)

// rateSample is how many messages of a mailing were finished at a time.
type rateSample struct {
	at       time.Time
	finished int
}

// rateTracker keeps recent samples per mailing and turns them into a rate
// and an ETA. It is safe for concurrent use.
type rateTracker struct {
	now func() time.Time

	mu        sync.Mutex
	mailings  map[int][]rateSample
	lastSweep time.Time
}

func newRateTracker(now func() time.Time) *rateTracker {
	return &rateTracker{now: now, mailings: map[int][]rateSample{}}
}

// observe records st's counts as read now and sets st.Rate and st.ETA.
func (t *rateTracker) observe(st *MailingStats) {
	now := t.now()
	unsent := 0
	for _, c := range st.ByStatus {
		if !c.Status.Terminal() {
			unsent += c.Count
		}
	}
	finished := st.Total - unsent

	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	samples := t.mailings[st.MailingID]
	switch n := len(samples); {
	case n > 0 && now.Before(samples[n-1].at):
		// A read that raced another: its counts are no newer.
	case n > 0 && now.Sub(samples[n-1].at) < rateResolution && n > 1:
		samples[n-1] = rateSample{at: now, finished: finished}
	default:
		samples = append(samples, rateSample{at: now, finished: finished})
	}
	// Keep one sample at or before the window's start, the baseline.
	start := now.Add(-RateWindow)
	drop := 0
	for drop+1 < len(samples) && !samples[drop+1].at.After(start) {
		drop++
	}
	samples = append(samples[:0], samples[drop:]...)
	t.mailings[st.MailingID] = samples

	st.Rate, st.ETA = nil, nil
	rate, ok := rateOf(samples, now)
	if !ok {
		return
	}
	st.Rate = &rate
	if st.Status == status.Running && unsent > 0 && rate > 0 {
		eta := now.Add(time.Duration(float64(unsent) / rate * float64(time.Second)))
		st.ETA = &eta
	}
}

// rateOf is the messages finished per second over the last RateWindow
// before now, from samples (oldest first, the first possibly before the
// window): the count at the window's start is interpolated between the
// samples around it. It reports false when the samples span less than
// rateMinSpan.
func rateOf(samples []rateSample, now time.Time) (float64, bool) {
	if len(samples) < 2 {
		return 0, false
	}
	first, last := samples[0], samples[len(samples)-1]
	span := last.at.Sub(first.at)
	if span < rateMinSpan {
		return 0, false
	}
	start := now.Add(-RateWindow)
	if first.at.Before(start) {
		next := samples[1]
		frac := float64(start.Sub(first.at)) / float64(next.at.Sub(first.at))
		at := float64(first.finished) + frac*float64(next.finished-first.finished)
		return (float64(last.finished) - at) / last.at.Sub(start).Seconds(), true
	}
	return float64(last.finished-first.finished) / span.Seconds(), true
}

// sweep forgets the mailings not read for rateForget, at most once a
// RateWindow.
func (t *rateTracker) sweep(now time.Time) {
	if now.Sub(t.lastSweep) < RateWindow {
		return
	}
	t.lastSweep = now
	for id, samples := range t.mailings {
		if len(samples) == 0 || now.Sub(samples[len(samples)-1].at) > rateForget {
			delete(t.mailings, id)
		}
	}
}
