package graph

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/live"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/internal/wsclient"
)

// BenchmarkStatusDelivery measures what the service spends to deliver one
// status event to each of 10 messageStatusChanged(mailingID) subscribers
// over WebSocket: the event bus, the shared execution, and every member's
// write, against clients reading in the same process. It is the part of
// make bench's live-events scenario that grows with the subscribers, without
// the fan-out's database and sender traffic, whose noise hides it there.
// The changes come as the engine publishes them during a fan-out: bursts of
// 250, 10,000 a second (one burst each op), so that what each burst wakes
// counts as it does in a fan-out.
//
//	go test -run X -bench StatusDelivery -benchtime 200x -count 6 ./graph
func BenchmarkStatusDelivery(b *testing.B) {
	const (
		subscribers = 10
		burst       = 250  // changes the engine publishes at once
		ahead       = 2000 // events published beyond what the slowest client read
		every       = 25 * time.Millisecond
	)
	ctx := context.Background()
	bus, shared, srv := statusServer(b)
	read := make([]atomic.Int64, subscribers)
	errs := make(chan error, subscribers)
	for i := range subscribers {
		conn, frames := dialStatusSubscriber(b, srv.URL)
		defer conn.Close()
		go func() { errs <- countEvents(frames, &read[i]) }()
	}
	waitWriters(b, shared, subscribers)

	// waitRead waits until every client read n events.
	waitRead := func(n int64) {
		for {
			low := read[0].Load()
			for i := range read {
				low = min(low, read[i].Load())
			}
			if low >= n {
				return
			}
			select {
			case err := <-errs:
				b.Fatal("subscriber:", err)
			default:
				time.Sleep(time.Millisecond) // only when the clients lag, and at the end
			}
		}
	}
	changes := make([]campaign.StatusChange, burst)
	published := int64(0)
	b.ReportAllocs()
	cpu0 := processCPU()
	tick := time.NewTicker(every)
	defer tick.Stop()
	b.ResetTimer()
	for b.Loop() {
		<-tick.C
		waitRead(published - ahead)
		for i := range changes {
			published++
			changes[i] = campaign.StatusChange{MessageID: int(published), MailingID: 1, Status: status.Sent, Attempts: 1, At: time.Now()}
		}
		bus.MessagesChanged(ctx, changes)
	}
	waitRead(published)
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(published), "ns/event")
	// The CPU time is the steadier figure: the wall time of a pipeline of
	// goroutines on two cores moves with how they happen to be scheduled.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(published), "cpu-ns/event")
	b.ReportMetric(0, "ns/op")
}

// statusServer serves the GraphQL endpoint with an in-process event bus
// (SQLite) and shared subscriptions, as the service does; all closed when tb
// ends.
func statusServer(tb testing.TB) (*event.Bus, *live.Hub, *httptest.Server) {
	logger := slog.New(slog.DiscardHandler)
	bus := statusBus(tb, event.Config{})
	shared := live.NewHub(bus, logger, 0)
	srv := httptest.NewServer(NewHandler(HandlerConfig{Events: bus, Shared: shared, Logger: logger}))
	tb.Cleanup(srv.Close)
	return bus, shared, srv
}

// statusBus returns an in-process event bus (SQLite) configured as cfg
// says (its limits), closed when tb ends.
func statusBus(tb testing.TB, cfg event.Config) *event.Bus {
	ctx := context.Background()
	cfg.DB, cfg.Logger = testdb.Open(tb, testdb.SQLite(tb)), slog.New(slog.DiscardHandler)
	cfg.Stats = func(context.Context, int) (*campaign.MailingStats, error) { return nil, nil }
	bus, err := event.New(ctx, cfg)
	require.NoError(tb, err)
	tb.Cleanup(bus.Close)
	return bus
}

// waitWriters waits until n status subscribers have joined and write their
// responses themselves.
func waitWriters(tb testing.TB, shared *live.Hub, n int) {
	deadline := time.Now().Add(10 * time.Second)
	for shared.Stats(live.Events).Writers < n {
		require.True(tb, time.Now().Before(deadline), "subscribers did not join")
		time.Sleep(time.Millisecond)
	}
}

// processCPU returns the CPU time the process used so far (user and
// system), clients and service together.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dialStatusSubscriber subscribes to mailing 1's status events over
// graphql-transport-ws.
func dialStatusSubscriber(b testing.TB, serverURL string) (net.Conn, *wsclient.Frames) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, frames, err := wsclient.Dial(ctx, "ws"+strings.TrimPrefix(serverURL, "http")+"/query")
	require.NoError(b, err)
	require.NoError(b, wsclient.Subscribe(conn, `subscription { messageStatusChanged(mailingID: 1) { messageID status at committedAt } }`))
	return conn, frames
}

// countEvents counts the status events read from a subscriber's connection.
func countEvents(frames *wsclient.Frames, n *atomic.Int64) error {
	for {
		msg, _, err := frames.Next()
		if err != nil {
			return err
		}
		switch {
		case bytes.HasSuffix(msg, []byte(`"type":"next"}`)):
			if !bytes.Contains(msg, []byte(`"status":"SENT"`)) {
				return fmt.Errorf("unexpected event %s", msg)
			}
			n.Add(1)
		case bytes.Contains(msg, []byte(`"type":"error"`)):
			return fmt.Errorf("subscription failed: %s", msg)
		}
	}
}
