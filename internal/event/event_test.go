package event

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// database/sql's and modernc's background goroutines of pools that
		// tests close in Cleanup after goleak's snapshot are not leaks of this package.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
	)
}

// testBundle is a Bus over a real database, with a statistics source the
// test drives.
type testBundle struct {
	bus   *Bus
	db    *database.DB
	stats *fakeStats
}

// fakeStats stands in for campaign.Service.MailingStats: the counts a test
// sets, and how often they were loaded.
type fakeStats struct {
	mu    sync.Mutex
	byID  map[int]*campaign.MailingStats
	loads atomic.Int64
}

func (f *fakeStats) set(id, sent, total int, st status.Mailing) {
	f.mu.Lock()
	defer f.mu.Unlock()
	byStatus := make([]campaign.StatusCount, len(status.Messages))
	for i, s := range status.Messages {
		byStatus[i] = campaign.StatusCount{Status: s}
		switch s {
		case status.Sent:
			byStatus[i].Count = sent
		case status.Queued:
			byStatus[i].Count = total - sent
		}
	}
	f.byID[id] = &campaign.MailingStats{MailingID: id, Status: st, Total: total, ByStatus: byStatus}
}

func (f *fakeStats) load(_ context.Context, id int) (*campaign.MailingStats, error) {
	f.loads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: mailing %d", campaign.ErrNotFound, id)
	}
	cp := *st
	return &cp, nil
}

type setupOpts struct {
	buffer   int
	interval time.Duration
	db       *database.DB // share a database (two instances)
	stats    *fakeStats
}

func setup(t *testing.T, databaseURL string, o setupOpts) *testBundle {
	t.Helper()
	ctx := context.Background()
	db := o.db
	if db == nil {
		db = testdb.Open(t, databaseURL)
	}
	stats := o.stats
	if stats == nil {
		stats = &fakeStats{byID: map[int]*campaign.MailingStats{}}
	}
	bus, err := New(ctx, Config{
		DB:               db,
		Stats:            stats.load,
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		Buffer:           o.buffer,
		ProgressInterval: o.interval,
		Now:              func() time.Time { return committedAt },
	})
	require.NoError(t, err)
	t.Cleanup(bus.Close)
	return &testBundle{bus: bus, db: db, stats: stats}
}

// messages subscribes to the message events of one mailing (all when nil)
// until ctx ends.
func (b *testBundle) messages(t *testing.T, ctx context.Context, mailing *int) *MessageSubscription {
	t.Helper()
	sub, err := b.bus.SubscribeMessages(ctx, mailing)
	require.NoError(t, err)
	return sub
}

// progress subscribes to a mailing's progress until ctx ends.
func (b *testBundle) progress(t *testing.T, ctx context.Context, mailingID int) <-chan *campaign.MailingStats {
	t.Helper()
	ch, err := b.bus.SubscribeProgress(ctx, mailingID)
	require.NoError(t, err)
	return ch
}

func change(msgID, mailingID int, st status.Message, attempts int) campaign.StatusChange {
	client := msgID + 1000
	return campaign.StatusChange{MessageID: msgID, MailingID: mailingID, ClientID: &client, Status: st, Attempts: attempts, At: time.Unix(1700000000, int64(msgID)).UTC()}
}

// committedAt is the test bus's clock: the commit time of every change.
var committedAt = time.Unix(1700000100, 5).UTC()

// published is c as subscribers get it: stamped with its commit time.
func published(c campaign.StatusChange) campaign.StatusChange {
	c.CommittedAt = committedAt
	return c
}

// receive reads n events from sub within the timeout.
func receive(t *testing.T, sub *MessageSubscription, n int) []*MessageEvent {
	t.Helper()
	var out []*MessageEvent
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case ev, ok := <-sub.C:
			require.True(t, ok, "subscription closed after %d of %d events: %v", len(out), n, sub.Err())
			out = append(out, ev)
		case <-timeout:
			t.Fatalf("timed out after %d of %d events", len(out), n)
		}
	}
	return out
}

// closedWith waits for sub to be closed and returns its error.
func closedWith(t *testing.T, sub *MessageSubscription) error {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-sub.C:
			if !ok {
				return sub.Err()
			}
		case <-timeout:
			t.Fatal("timed out waiting for the subscription to close")
		}
	}
}

// nextSnapshot reads one progress snapshot (nil when the channel closed).
func nextSnapshot(t *testing.T, ch <-chan *campaign.MailingStats) *campaign.MailingStats {
	t.Helper()
	select {
	case st := <-ch:
		return st
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for a progress snapshot")
		return nil
	}
}

func TestBus(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		t.Run("FanOutInOrder", func(t *testing.T) {
			t.Parallel()
			b := setup(t, databaseURL, setupOpts{})
			ctx := t.Context()
			all := b.messages(t, ctx, nil)
			one := b.messages(t, ctx, new(7))

			// 1,000 changes in batches as the engine publishes them, half
			// for mailing 7: each message queued → retrying → sent.
			var want, want7 []campaign.StatusChange
			for round, st := range []status.Message{status.Retrying, status.Retrying, status.Sent} {
				var batch []campaign.StatusChange
				for id := 1; id <= 333; id++ {
					c := change(id, 7+id%2, st, round+1)
					batch = append(batch, c)
				}
				b.bus.MessagesChanged(ctx, batch[:100])
				b.bus.MessagesChanged(ctx, batch[100:])
				want = append(want, batch...)
				for _, c := range batch {
					if c.MailingID == 7 {
						want7 = append(want7, c)
					}
				}
			}
			for i, ev := range receive(t, all, len(want)) {
				require.NoError(t, ev.Err)
				require.Equal(t, published(want[i]), *ev.Change, "event %d", i)
			}
			for i, ev := range receive(t, one, len(want7)) {
				require.Equal(t, published(want7[i]), *ev.Change, "event %d", i)
			}
			require.Equal(t, Stats{MessageSubscribers: 2}, b.bus.Stats())
		})

		t.Run("NeverReadingSubscriberIsDropped", func(t *testing.T) {
			t.Parallel()
			b := setup(t, databaseURL, setupOpts{buffer: 16})
			ctx := t.Context()
			stuck := b.messages(t, ctx, nil)
			reader := b.messages(t, ctx, new(1))

			// Ten rounds of ten events; the reader keeps up, the stuck
			// subscriber overflows its 16 places in the second round.
			for round := range 10 {
				start := time.Now()
				for i := range 10 {
					b.bus.MessagesChanged(ctx, []campaign.StatusChange{change(round*10+i+1, 1, status.Sent, 1)})
				}
				require.Less(t, time.Since(start), 100*time.Millisecond, "publishing never waits for subscribers")
				for i, ev := range receive(t, reader, 10) {
					require.Equal(t, round*10+i+1, ev.Change.MessageID)
				}
			}
			require.ErrorIs(t, closedWith(t, stuck), ErrTooSlow)
			require.EqualError(t, ErrTooSlow, "subscriber too slow, events dropped")
			require.Equal(t, 1, b.bus.Stats().MessageSubscribers)
		})

		t.Run("ContextEndsSubscription", func(t *testing.T) {
			t.Parallel()
			b := setup(t, databaseURL, setupOpts{})
			ctx, cancel := context.WithCancel(t.Context())
			sub := b.messages(t, ctx, nil)
			b.stats.set(3, 0, 10, status.Running)
			progress := b.progress(t, ctx, 3)
			require.NotNil(t, nextSnapshot(t, progress))
			cancel()
			require.NoError(t, closedWith(t, sub))
			require.Nil(t, nextSnapshot(t, progress))
			require.Equal(t, Stats{}, b.bus.Stats())
		})

		t.Run("ProgressThrottledLatestWins", func(t *testing.T) {
			t.Parallel()
			const interval = 100 * time.Millisecond
			b := setup(t, databaseURL, setupOpts{interval: interval})
			ctx := t.Context()
			_, err := b.bus.SubscribeProgress(ctx, 99)
			require.ErrorIs(t, err, campaign.ErrNotFound)

			const total = 300
			b.stats.set(5, 0, total, status.Running)
			first := b.progress(t, ctx, 5)
			second := b.progress(t, ctx, 5)
			require.Equal(t, Stats{ProgressSubscribers: 2, ProgressMailings: 1}, b.bus.Stats())
			require.Equal(t, 0, nextSnapshot(t, first).ByStatus[2].Count, "a snapshot at once")

			start := time.Now()
			loadsBefore := b.stats.loads.Load()
			for sent := 1; sent <= total; sent++ {
				st := status.Running
				if sent == total {
					st = status.Finished
				}
				b.stats.set(5, sent, total, st)
				b.bus.MailingChanged(ctx, 5)
				if sent%50 == 0 {
					time.Sleep(20 * time.Millisecond) // a sending engine's pace: 300 changes over ~120 ms
				}
			}
			var last *campaign.MailingStats
			snapshots := 0
			for st := range first {
				last = st
				snapshots++
			}
			elapsed := time.Since(start)
			require.Equal(t, status.Finished, last.Status, "the final snapshot, then the end")
			require.Equal(t, total, last.ByStatus[2].Count, "always ending on the latest state")
			maxLoads := int64(elapsed/interval) + 2
			require.LessOrEqual(t, b.stats.loads.Load()-loadsBefore, maxLoads, "throttled, shared by subscribers")
			require.LessOrEqual(t, snapshots, int(maxLoads))
			// A reader that never read in between gets the latest only.
			var got []*campaign.MailingStats
			for st := range second {
				got = append(got, st)
			}
			require.Equal(t, status.Finished, got[len(got)-1].Status)
			require.LessOrEqual(t, len(got), 2)

			// A closed mailing: its snapshot, then the end.
			late := b.progress(t, ctx, 5)
			require.Equal(t, status.Finished, nextSnapshot(t, late).Status)
			require.Nil(t, nextSnapshot(t, late))
			require.Equal(t, Stats{}, b.bus.Stats())
		})

		t.Run("CloseEndsSubscriptions", func(t *testing.T) {
			t.Parallel()
			b := setup(t, databaseURL, setupOpts{})
			ctx := t.Context()
			sub := b.messages(t, ctx, nil)
			b.stats.set(1, 0, 1, status.Running)
			progress := b.progress(t, ctx, 1)
			nextSnapshot(t, progress)
			b.bus.Close()
			require.ErrorIs(t, closedWith(t, sub), ErrClosed)
			require.Nil(t, nextSnapshot(t, progress))
			_, err := b.bus.SubscribeMessages(ctx, nil)
			require.ErrorIs(t, err, ErrClosed)
			b.bus.MessagesChanged(ctx, []campaign.StatusChange{change(1, 1, status.Sent, 1)}) // dropped, no panic
		})
	})
}

// TestPostgres covers what only Postgres does: instances sharing events,
// schemas not hearing each other, and the listener's reconnection.
func TestPostgres(t *testing.T) {
	t.Parallel()

	t.Run("InstancesShareEvents", func(t *testing.T) {
		t.Parallel()
		url := testdb.Postgres(t)
		a := setup(t, url, setupOpts{})
		b := setup(t, url, setupOpts{stats: a.stats})
		other := setup(t, testdb.Postgres(t), setupOpts{})
		ctx := t.Context()
		onA := a.messages(t, ctx, nil)
		onB := b.messages(t, ctx, nil)
		onOther := other.messages(t, ctx, nil)

		var fromA, fromB []campaign.StatusChange
		for i := 1; i <= 500; i++ {
			fromA = append(fromA, change(i, 1, status.Sent, 1))
			fromB = append(fromB, change(1000+i, 2, status.Sent, 1))
		}
		a.bus.MessagesChanged(ctx, fromA)
		b.bus.MessagesChanged(ctx, fromB)
		for _, sub := range []*MessageSubscription{onA, onB} {
			got := map[int]bool{}
			for _, ev := range receive(t, sub, 1000) {
				got[ev.Change.MessageID] = true
			}
			require.Len(t, got, 1000, "every instance sees every instance's events")
		}
		// The other schema heard nothing: a marker published there is the
		// first thing it gets.
		other.bus.MessagesChanged(ctx, []campaign.StatusChange{change(42, 9, status.Failed, 1)})
		require.Equal(t, 42, receive(t, onOther, 1)[0].Change.MessageID)
	})

	t.Run("ReconnectTellsSubscribers", func(t *testing.T) {
		t.Parallel()
		url := testdb.Postgres(t)
		b := setup(t, url, setupOpts{interval: 20 * time.Millisecond})
		ctx := t.Context()
		sub := b.messages(t, ctx, nil)
		b.stats.set(4, 2, 10, status.Running)
		progress := b.progress(t, ctx, 4)
		require.Equal(t, 2, nextSnapshot(t, progress).ByStatus[2].Count)

		// Cut the LISTEN connection, as a network failure or a database
		// restart would.
		var killed int
		require.NoError(t, b.db.SQL.QueryRowContext(ctx,
			`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, b.bus.channel).Scan(&killed))
		require.Equal(t, 1, killed)

		ev := receive(t, sub, 1)[0]
		require.ErrorIs(t, ev.Err, ErrEventsMissed, "a notice, not a silent gap")
		st := nextSnapshot(t, progress)
		require.Equal(t, 2, st.ByStatus[2].Count, "a fresh snapshot, even if unchanged")

		// And the feed works again.
		b.bus.MessagesChanged(ctx, []campaign.StatusChange{change(1, 4, status.Sent, 1)})
		require.Equal(t, 1, receive(t, sub, 1)[0].Change.MessageID)
	})

	t.Run("FewNotifiesPerFlush", func(t *testing.T) {
		t.Parallel()
		url := testdb.Postgres(t)
		b := setup(t, url, setupOpts{})
		ctx := t.Context()
		// Count the NOTIFYs with a listener of our own on the channel.
		raw := pq.NewListener(url, time.Second, time.Second, nil)
		t.Cleanup(func() { raw.Close() })
		require.NoError(t, raw.Listen(b.bus.channel))

		changes := make([]campaign.StatusChange, 10000)
		for i := range changes {
			changes[i] = change(i+1, 1_000_000+i%3, status.Sent, 1)
		}
		b.bus.MessagesChanged(ctx, changes)
		notifies, got := 0, 0
		timeout := time.After(10 * time.Second)
		for got < len(changes) {
			select {
			case n := <-raw.NotificationChannel():
				require.NotNil(t, n)
				require.Less(t, len(n.Extra), 8000)
				bt, err := decode(n.Extra)
				require.NoError(t, err)
				notifies++
				got += len(bt.changes)
			case <-timeout:
				t.Fatalf("timed out after %d changes", got)
			}
		}
		require.Equal(t, len(changes), got)
		require.Less(t, notifies, 100, "10,000 changes in a few dozen NOTIFYs, not 10,000")
		t.Logf("10,000 changes: %d NOTIFYs", notifies)
	})
}

func TestCodec(t *testing.T) {
	t.Parallel()
	changes := []campaign.StatusChange{
		change(1, 2, status.Sent, 1),
		{MessageID: 9_000_000_000, MailingID: 3, Status: status.Retrying, Attempts: 12, At: time.Date(2026, 3, 29, 1, 30, 0, 123456789, time.UTC)},
	}
	// Commit times: unknown for the first two (an older instance), then
	// one for many changes (a payload's first change states it again), then
	// another.
	committed := time.Date(2026, 3, 29, 1, 30, 0, 987654321, time.UTC)
	for i := range 1000 {
		c := change(100+i, 5, status.Expired, 3)
		c.CommittedAt = committed
		if i >= 900 {
			c.CommittedAt = committed.Add(time.Millisecond)
		}
		changes = append(changes, c)
	}
	in := batch{changes: changes, mailings: []int{2, 3, 5}, reset: true}
	payloads := encode(in, maxPayload)
	require.Greater(t, len(payloads), 1)
	var out batch
	for _, p := range payloads {
		require.LessOrEqual(t, len(p), maxPayload)
		bt, err := decode(p)
		require.NoError(t, err)
		out.changes = append(out.changes, bt.changes...)
		out.mailings = append(out.mailings, bt.mailings...)
		out.reset = out.reset || bt.reset
	}
	require.Equal(t, in, out)
	require.Nil(t, changes[1].ClientID)

	// Each payload decodes alone: its first change has its commit time.
	for _, p := range payloads[1:] {
		bt, err := decode(p)
		require.NoError(t, err)
		require.False(t, bt.changes[0].CommittedAt.IsZero(), p[:40])
	}

	for _, bad := range []string{"v2\nc 1", "v1\nc 1 2 3", "v1\nm x", "v1\nc 1 2 - sent x 5", "v1\nt x", "v1\nt 1 2"} {
		_, err := decode(bad)
		require.Error(t, err, bad)
	}
	bt, err := decode("v1\nz future record\nm 4")
	require.NoError(t, err)
	require.Equal(t, []int{4}, bt.mailings)
}

func TestChannelName(t *testing.T) {
	t.Parallel()
	require.Equal(t, "notify_events", ChannelName(""))
	require.Equal(t, "notify_events", ChannelName("public"))
	require.Equal(t, "notify_events.test_0a1b2c", ChannelName("test_0a1b2c"))
	long := ChannelName(strings.Repeat("s", 63))
	require.LessOrEqual(t, len(long), 63)
	require.NotEqual(t, long, ChannelName(strings.Repeat("s", 62)+"t"))
}

// BenchmarkMessagesChanged is the cost the bus adds to the sending hot
// path: one call per flush of the engine (up to 250 changes).
func BenchmarkMessagesChanged(b *testing.B) {
	for _, kind := range testdb.Kinds {
		b.Run(kind.Name, func(b *testing.B) {
			ctx := context.Background()
			db := testdb.Open(b, kind.URL(b))
			stats := &fakeStats{byID: map[int]*campaign.MailingStats{}}
			bus, err := New(ctx, Config{DB: db, Stats: stats.load, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			require.NoError(b, err)
			defer bus.Close()
			changes := make([]campaign.StatusChange, 250)
			for i := range changes {
				changes[i] = change(i+1, 1, status.Sent, 1)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				bus.MessagesChanged(ctx, changes)
				bus.MailingChanged(ctx, 1)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(changes)), "ns/change")
		})
	}
}
