package quota

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

// fakeClock is a controlled clock: Sleep moves it forward.
type fakeClock struct {
	*testdb.Clock
	mu     sync.Mutex
	slept  []time.Duration
	cancel bool // Sleep fails as a cancelled context would
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	if c.cancel {
		return context.Canceled
	}
	c.Advance(d)
	return ctx.Err()
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// countingStore records the claims made to the store under it.
type countingStore struct {
	store
	claims atomic.Int64
	err    error
}

func (s *countingStore) claim(ctx context.Context, n, limit int) (grant, error) {
	s.claims.Add(1)
	if s.err != nil {
		return grant{}, s.err
	}
	return s.store.claim(ctx, n, limit)
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func TestChunkDefaults(t *testing.T) {
	for _, tc := range []struct{ limit, chunk, want int }{
		{200, 0, 2}, {10, 0, 1}, {1, 0, 1}, {0, 0, 1}, {5000, 0, 50}, {5, 30, 5}, {100, 7, 7},
	} {
		c := Config{Limit: tc.limit, Chunk: tc.chunk}.withDefaults()
		require.Equal(t, tc.want, c.Chunk, "limit %d chunk %d", tc.limit, tc.chunk)
	}
}

// A second's quota is taken in chunks and no more; the next caller waits for
// the next second, whose quota is whole again.
func TestLimiterSecondByController(t *testing.T) {
	clk := &fakeClock{Clock: testdb.NewClock(t0.Add(950 * time.Millisecond))} // the last slice: all released
	cs := &countingStore{store: &memoryStore{now: clk.Now}}
	l := newLimiter(cs, Config{Limit: 100, Chunk: 5, Now: clk.Now, Sleep: clk.Sleep})
	ctx := context.Background()
	for range 100 {
		require.NoError(t, l.Wait(ctx))
	}
	require.EqualValues(t, 20, cs.claims.Load(), "100 tokens in chunks of 5")
	require.Empty(t, clk.Slept())

	// The 101st waits for the next second: 50 ms by this clock.
	require.NoError(t, l.Wait(ctx))
	require.Equal(t, []time.Duration{50 * time.Millisecond}, clk.Slept())
	require.Equal(t, t0.Add(time.Second), clk.Now())
	require.EqualValues(t, 22, cs.claims.Load(), "one empty claim, then the new second's first chunk")

	// Tokens left at the end of their second are void: 4 remain in the
	// bucket, but the next second asks the store again.
	clk.Set(t0.Add(2 * time.Second))
	require.NoError(t, l.Wait(ctx))
	require.EqualValues(t, 23, cs.claims.Load())
	require.Equal(t, 5, cs.store.(*memoryStore).used, "a fresh chunk of the new second")
}

// A second's quota is released a tenth at a time: callers with more demand
// than the quota get a tenth per 100 ms, waiting for each slice.
func TestLimiterReleasesSlices(t *testing.T) {
	clk := &fakeClock{Clock: testdb.NewClock(t0)}
	l := newLimiter(&memoryStore{now: clk.Now}, Config{Limit: 100, Chunk: 5, Now: clk.Now, Sleep: clk.Sleep})
	perSlice := map[time.Duration]int{}
	for range 100 {
		require.NoError(t, l.Wait(context.Background()))
		perSlice[clk.Now().Sub(t0)]++
	}
	require.Len(t, perSlice, Slices)
	for k := range Slices {
		require.Equal(t, 10, perSlice[time.Duration(k)*100*time.Millisecond], "slice %d", k)
	}
	require.Len(t, clk.Slept(), Slices-1)
	for _, d := range clk.Slept() {
		require.Equal(t, 100*time.Millisecond, d)
	}
}

func TestReleased(t *testing.T) {
	for _, tc := range []struct {
		limit int
		at    time.Duration
		want  int
	}{
		{100, 0, 10}, {100, 99 * time.Millisecond, 10}, {100, 100 * time.Millisecond, 20},
		{100, 999 * time.Millisecond, 100}, {25, 0, 3}, {25, 950 * time.Millisecond, 25},
		{1, 0, 1}, {7, 450 * time.Millisecond, 4},
	} {
		require.Equal(t, tc.want, released(tc.limit, t0.Add(tc.at)), "limit %d at %s", tc.limit, tc.at)
	}
	require.True(t, t0.Add(100*time.Millisecond).Equal(sliceEnd(t0)))
	require.True(t, t0.Add(time.Second).Equal(sliceEnd(t0.Add(999*time.Millisecond))))
}

// Grants never pass the limit, however many ask at once; the last chunk of a
// second is what is left.
func TestMemoryStoreGrantsWhatIsLeft(t *testing.T) {
	clk := &fakeClock{Clock: testdb.NewClock(t0.Add(950 * time.Millisecond))}
	s := &memoryStore{now: clk.Now}
	var got []int
	for range 4 {
		g, err := s.claim(context.Background(), 10, 25)
		require.NoError(t, err)
		got = append(got, g.n)
	}
	require.Equal(t, []int{10, 10, 5, 0}, got)
	clk.Set(t0.Add(1950 * time.Millisecond))
	g, err := s.claim(context.Background(), 10, 25)
	require.NoError(t, err)
	require.Equal(t, 10, g.n)
}

// A failed claim is returned to every caller for errorPause without asking
// the store again; after it the store is asked again.
func TestLimiterStoreError(t *testing.T) {
	clk := &fakeClock{Clock: testdb.NewClock(t0)}
	boom := errors.New("connection refused")
	cs := &countingStore{store: &memoryStore{now: clk.Now}, err: boom}
	l := newLimiter(cs, Config{Limit: 100, Now: clk.Now, Sleep: clk.Sleep, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for range 3 {
		require.ErrorIs(t, l.Wait(context.Background()), boom)
	}
	require.EqualValues(t, 1, cs.claims.Load())
	clk.Set(t0.Add(errorPause))
	cs.err = nil
	require.NoError(t, l.Wait(context.Background()))
	require.EqualValues(t, 2, cs.claims.Load())
}

// A caller whose context ends while it waits for the next second gets the
// context's error and no token.
func TestLimiterCancelledWait(t *testing.T) {
	clk := &fakeClock{Clock: testdb.NewClock(t0.Add(900 * time.Millisecond))}
	l := newLimiter(&memoryStore{now: clk.Now}, Config{Limit: 1, Now: clk.Now, Sleep: clk.Sleep})
	require.NoError(t, l.Wait(context.Background()))
	clk.cancel = true
	require.ErrorIs(t, l.Wait(context.Background()), context.Canceled)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l2 := newLimiter(&memoryStore{now: clk.Now}, Config{Limit: 1, Now: clk.Now, Sleep: clk.Sleep})
	l2.claiming <- struct{}{} // another caller is claiming
	require.ErrorIs(t, l2.Wait(ctx), context.Canceled)
}

// The upsert grants chunks, then what is left, then nothing, by the clock
// it is given; a new second starts whole; prune deletes old seconds.
func TestPostgresClaim(t *testing.T) {
	db := testdb.Migrated(t, testdb.Postgres(t))
	at := t0.Add(950 * time.Millisecond)
	s := &postgresStore{db: db.SQL, clock: func() time.Time { return at }}
	defer s.close()
	ctx := context.Background()
	var got []int
	for range 4 {
		g, err := s.claim(ctx, 10, 25)
		require.NoError(t, err)
		require.True(t, g.at.Equal(at), "the store's clock: %s", g.at)
		got = append(got, g.n)
	}
	require.Equal(t, []int{10, 10, 5, 0}, got)

	at = t0.Add(1999 * time.Millisecond)
	g, err := s.claim(ctx, 10, 25)
	require.NoError(t, err)
	require.Equal(t, 10, g.n)

	var rows, used int
	require.NoError(t, db.SQL.QueryRow(`SELECT count(*), max(used) FROM quota_grants`).Scan(&rows, &used))
	require.Equal(t, 2, rows)
	require.Equal(t, 25, used)
	require.NoError(t, s.prune(ctx, t0.Unix()+1))
	require.NoError(t, db.SQL.QueryRow(`SELECT count(*), max(used) FROM quota_grants`).Scan(&rows, &used))
	require.Equal(t, 1, rows)
	require.Equal(t, 10, used)

	// The quota is released a tenth of a second at a time, as released
	// computes it.
	at = t0.Add(5*time.Second + 50*time.Millisecond)
	got = nil
	for range 3 {
		g, err := s.claim(ctx, 7, 100)
		require.NoError(t, err)
		got = append(got, g.n)
	}
	at = at.Add(100 * time.Millisecond)
	for range 4 {
		g, err := s.claim(ctx, 7, 100)
		require.NoError(t, err)
		got = append(got, g.n)
	}
	require.Equal(t, []int{7, 3, 0, 7, 3, 0, 0}, got)
	for i, d := range []time.Duration{0, 99999, 100000, 333333, 450000, 999999} {
		at = t0.Add(time.Duration(10+i)*time.Second + d*time.Microsecond)
		g, err := s.claim(ctx, 1000, 37)
		require.NoError(t, err)
		require.Equal(t, released(37, at), g.n, "at %s", at)
	}

	// Without a test clock the second is Postgres's own.
	s.clock = nil
	before := time.Now()
	g, err = s.claim(ctx, 3, 25)
	require.NoError(t, err)
	require.Equal(t, 3, g.n)
	require.WithinDuration(t, before, g.at, 5*time.Second)
}

// Many claimers at once (each a store with its connection, as instances): together they get exactly
// the limit of the second, never more.
func TestPostgresClaimsNeverPassTheLimit(t *testing.T) {
	db := testdb.Migrated(t, testdb.Postgres(t))
	at := t0.Add(950 * time.Millisecond)
	var (
		wg      sync.WaitGroup
		granted atomic.Int64
	)
	for range 8 {
		wg.Go(func() {
			s := &postgresStore{db: db.SQL, clock: func() time.Time { return at }}
			defer s.close()
			for range 20 {
				g, err := s.claim(context.Background(), 7, 100)
				if err != nil {
					t.Error(err)
					return
				}
				granted.Add(int64(g.n))
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 100, granted.Load())
}

// Three limiters on one Postgres, each with more demand than the quota:
// every second (by Postgres's clock, the same as this host's) grants at
// most the limit, and each limiter gets a fair share.
func TestPostgresLimitersShareTheQuota(t *testing.T) {
	db := testdb.Migrated(t, testdb.Postgres(t))
	const limit, instances, workers = 120, 3, 8
	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		counts = map[int64][instances]int{}
	)
	for i := range instances {
		l := New(db, Config{Limit: limit})
		defer l.Close()
		for range workers {
			wg.Go(func() {
				for l.Wait(ctx) == nil {
					sec := time.Now().Unix()
					mu.Lock()
					c := counts[sec]
					c[i]++
					counts[sec] = c
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	var total [instances]int
	for sec, c := range counts {
		sum := c[0] + c[1] + c[2]
		require.LessOrEqual(t, sum, limit, "second %d: %v", sec, c)
		for i := range instances {
			total[i] += c[i]
		}
		t.Logf("second %d: %v = %d", sec, c, sum)
	}
	all := total[0] + total[1] + total[2]
	require.GreaterOrEqual(t, all, limit, "at least a second's worth granted in 3.5 s")
	for i := range instances {
		// Equal demand, small chunks: each gets about a third.
		share := float64(total[i]) / float64(all)
		t.Logf("instance %d: %d of %d (%.0f %%)", i, total[i], all, 100*share)
		require.InDelta(t, 1.0/instances, share, 0.15, "instance %d's share", i)
	}
}
