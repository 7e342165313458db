package fakesender

import (
	"testing"
	"time"
)

// TestStartLogBounded: a fake that runs for hours keeps a bounded record of
// its request starts — the last keptStarts exactly, per-second counts for
// the last keptSeconds — and still answers RequestsSince exactly for recent
// times and to the second for older ones.
func TestStartLogBounded(t *testing.T) {
	var l startLog
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	const perSecond, seconds = 100, 2 * keptSeconds // two hours at 100 requests/s
	at := func(i int) int64 { return t0 + int64(i)*int64(time.Second)/perSecond }
	for i := range perSecond * seconds {
		l.add(at(i))
	}
	if len(l.ring) != keptStarts {
		t.Fatalf("ring holds %d starts, want %d", len(l.ring), keptStarts)
	}
	if len(l.perSecond) > keptSeconds+64 {
		t.Fatalf("%d seconds counted, want at most %d", len(l.perSecond), keptSeconds+64)
	}
	total := perSecond * seconds
	if l.n != total {
		t.Fatalf("n = %d, want %d", l.n, total)
	}
	// Exact within the ring: the last 10 starts, and from the ring's oldest.
	if got := l.since(at(total - 10)); got != 10 {
		t.Errorf("since the 10th last start: %d, want 10", got)
	}
	if got := l.since(at(total-keptStarts) + 1); got != keptStarts-1 {
		t.Errorf("since just after the ring's oldest: %d, want %d", got, keptStarts-1)
	}
	// To the second before it: from 30 minutes before the end.
	from := total - 1800*perSecond
	if got := l.since(at(from) + 1); got != 1800*perSecond {
		t.Errorf("since 30 minutes before the end: %d, want %d (whole seconds)", got, 1800*perSecond)
	}
	// Everything, from the first start or before.
	if got := l.since(t0); got != total {
		t.Errorf("since the first start: %d, want %d", got, total)
	}
	if l.first != t0 || l.last != at(total-1) {
		t.Errorf("first/last %d/%d", l.first, l.last)
	}
}

// TestMessagesBounded: the per-msgId counts are kept for the last
// keptMessages msgIds; an older one is forgotten, a recent one still counted.
func TestMessagesBounded(t *testing.T) {
	var r recorder
	r.init()
	at := time.Unix(0, 0)
	const n = keptMessages + keptMessages/2
	for id := int64(1); id <= n; id++ {
		r.start(id, true, at)
		r.finish(id, outcomeOK)
	}
	kept := 0
	for _, s := range r.shards {
		if len(s.messages) > keptMessages/numShards {
			t.Fatalf("a shard keeps %d msgIds, at most %d", len(s.messages), keptMessages/numShards)
		}
		kept += len(s.messages)
	}
	if kept != keptMessages {
		t.Fatalf("%d msgIds kept, want %d", kept, keptMessages)
	}
	last := r.shardFor(n)
	if m := last.messages[n]; m.Requests != 1 || m.Accepted != 1 {
		t.Fatalf("the latest msgId: %+v", m)
	}
	if got := r.requests.Load(); got != n {
		t.Fatalf("requests %d, want %d: totals are not forgotten", got, n)
	}
}
