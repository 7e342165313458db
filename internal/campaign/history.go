package campaign

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/notifyhq/notify/internal/status"
)

// Sends over time (docs/design.md, "Send history"): the instance samples the
// cluster's totals of sent and of failed or expired messages — the counters
// of message_counts, one aggregate query — at the start of every
// HistoryBucket, keeps the last hour of samples in memory, and a bucket is
// the difference between two samples. Nothing is written per message and
// messages is never read, so the sending path pays nothing; the price is a
// history that starts when the instance did.

const (
	// HistoryBucket is the span of one bucket of the send history: short
	// enough for the dashboard's chart (it joins its own 2 s samples), long
	// enough that an hour is 360 points and one query every 10 s.
	HistoryBucket = 10 * time.Second
	// HistoryMinutes is how far back the send history goes.
	HistoryMinutes = 60
	// historySamples is how many samples an hour of buckets needs: one
	// more than the buckets, the start of the oldest.
	historySamples = HistoryMinutes*int(time.Minute/HistoryBucket) + 1
	// historyReadTimeout bounds one sample's query: a read still running
	// when the next slot starts is given up (its bucket is spread, below).
	historyReadTimeout = HistoryBucket
)

// SendBucket counts the messages that reached a status during one
// HistoryBucket, [At, At+HistoryBucket).
type SendBucket struct {
	At time.Time
	// Sent reached SENT; Failed reached FAILED or EXPIRED.
	Sent   int
	Failed int
}

// SendHistory is the sends of the last minutes as this instance sampled them.
type SendHistory struct {
	// Since is the start of the first bucket this instance can give (the
	// slot it started in); nil before its first sample.
	Since *time.Time
	// BucketSeconds is the span of every bucket.
	BucketSeconds int
	// Buckets are oldest first, one per HistoryBucket from the first whole
	// one in the span asked to the last one that has ended.
	Buckets []SendBucket
}

// sendTotals are the cluster's totals at a time.
type sendTotals struct{ sent, failed int }

// sendSample is the totals read at the start of a slot.
type sendSample struct {
	slot   time.Time
	totals sendTotals
}

// sendSampler keeps the last historySamples samples in a ring. It is safe
// for concurrent use.
type sendSampler struct {
	mu   sync.Mutex
	ring [historySamples]sendSample
	next int // where the next sample goes
	n    int // samples held
}

// record keeps totals read at at as the sample of at's slot. The first
// sample of a slot stands (the closest to its start: the sampler reads at
// the start of each slot, and a read that comes early or twice adds
// nothing); one of a slot before the last sample's (the clock went back) is
// dropped.
func (h *sendSampler) record(at time.Time, totals sendTotals) {
	slot := at.Truncate(HistoryBucket)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n > 0 && !slot.After(h.ring[(h.next+len(h.ring)-1)%len(h.ring)].slot) {
		return
	}
	h.ring[h.next] = sendSample{slot: slot, totals: totals}
	h.next = (h.next + 1) % len(h.ring)
	h.n = min(h.n+1, len(h.ring))
}

// history returns the buckets that start in the last minutes before now's
// slot, and have ended. A bucket is the difference between the samples at
// its ends. Where samples are missing (a read failed or was late) the
// difference across the gap is spread evenly over its buckets, so that the
// buckets always add up to what the totals say. A total that went down (a
// mailing was deleted with its messages) counts as nothing sent.
func (h *sendSampler) history(now time.Time, minutes int) SendHistory {
	from := now.Truncate(HistoryBucket).Add(-time.Duration(minutes) * time.Minute)
	h.mu.Lock()
	samples := make([]sendSample, h.n)
	for i := range samples {
		samples[i] = h.ring[(h.next-h.n+i+len(h.ring))%len(h.ring)]
	}
	h.mu.Unlock()

	out := SendHistory{BucketSeconds: int(HistoryBucket / time.Second), Buckets: []SendBucket{}}
	if len(samples) == 0 {
		return out
	}
	since := samples[0].slot
	out.Since = &since
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		k := int(b.slot.Sub(a.slot) / HistoryBucket)
		sent := max(0, b.totals.sent-a.totals.sent)
		failed := max(0, b.totals.failed-a.totals.failed)
		first := 0
		if a.slot.Before(from) {
			first = min(k, int((from.Sub(a.slot)+HistoryBucket-1)/HistoryBucket))
		}
		for j := first; j < k; j++ {
			out.Buckets = append(out.Buckets, SendBucket{
				At:     a.slot.Add(time.Duration(j) * HistoryBucket),
				Sent:   share(sent, j, k),
				Failed: share(failed, j, k),
			})
		}
	}
	return out
}

// share is the jth of k even parts of n, in whole messages: the parts add up
// to n.
func share(n, j, k int) int {
	return n*(j+1)/k - n*j/k
}

// RecordSendHistory samples the cluster's sent and failed totals now and at
// the start of every HistoryBucket until ctx is done; SendHistory answers
// from the samples. The service answering the API runs it, once per
// instance. A failed read is logged and its bucket spread with the next.
func (s *Service) RecordSendHistory(ctx context.Context) {
	for {
		if err := s.SampleSends(ctx); err != nil && ctx.Err() == nil {
			s.logger.WarnContext(ctx, "send history: error sampling the totals", "error", err)
		}
		now := s.now()
		select {
		case <-ctx.Done():
			return
		case <-time.After(HistoryBucket - now.Sub(now.Truncate(HistoryBucket))):
		}
	}
}

// SampleSends reads the cluster's sent and failed totals from the counters
// and keeps them as the sample of the current slot (RecordSendHistory calls
// it; tests call it to take a sample at a time of their clock).
func (s *Service) SampleSends(ctx context.Context) error {
	at := s.now()
	ctx, cancel := context.WithTimeout(ctx, historyReadTimeout)
	defer cancel()
	st, err := s.GeneralStatistics(ctx)
	if err != nil {
		return fmt.Errorf("error reading the send totals: %w", err)
	}
	var t sendTotals
	for _, c := range st.ByStatus {
		switch c.Status {
		case status.Sent:
			t.sent += c.Count
		case status.Failed, status.Expired:
			t.failed += c.Count
		}
	}
	s.history.record(at, t)
	return nil
}

// SendHistory returns the sends of the last minutes (1 to HistoryMinutes),
// in buckets of HistoryBucket, as this instance sampled them: nothing from
// before it started (docs/design.md, "Send history"). Returns a
// ValidationError naming "minutes" when it is out of range.
func (s *Service) SendHistory(minutes int) (*SendHistory, error) {
	if minutes < 1 || minutes > HistoryMinutes {
		return nil, invalid("minutes", "must be between 1 and %d", HistoryMinutes)
	}
	h := s.history.history(s.now(), minutes)
	return &h, nil
}
