package delivery_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/sender"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

// The engine's rules, each on a real database (SQLite and Postgres), the
// real sender client and the real fake sending API over HTTP, with a clock
// the test sets; without River (the batches the engine queues are recorded
// and run by the test) and without the rest of the service.

// batches records the batch jobs the engine queues.
type batches struct {
	mu   sync.Mutex
	list []delivery.Batch
}

func (b *batches) InsertBatches(_ context.Context, _ *database.Tx, bs []delivery.Batch) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, bs...)
	return nil
}

// reset forgets the batches recorded so far.
func (b *batches) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = nil
}

func (b *batches) all() []delivery.Batch {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]delivery.Batch(nil), b.list...)
}

// noJobs stands for River under the domain: the test starts mailings itself.
type noJobs struct{}

func (noJobs) ScheduleMailing(context.Context, *database.Tx, *ent.Mailing) error { return nil }
func (noJobs) ResumeMailing(context.Context, *database.Tx, *ent.Mailing) error   { return nil }

type harness struct {
	db      *database.DB
	svc     *campaign.Service
	engine  *delivery.Engine
	fake    *fakesender.Fake
	batches *batches
	clock   *testdb.Clock
}

// t0 is the harness clock's start: a Monday noon, UTC.
var t0 = time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, dbURL string, faults fakesender.Faults, cfg delivery.Config) *harness {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	db := testdb.Migrated(t, dbURL)
	h := &harness{db: db, batches: &batches{}, clock: testdb.NewClock(t0)}
	h.svc = campaign.New(campaign.Config{DB: db, Scheduler: noJobs{}, Now: h.clock.Now, Logger: logger})
	fake, url, stop, err := fakesender.Start(fakesender.Config{Token: "token", Faults: faults, Seed: 1, Logger: logger})
	require.NoError(t, err)
	t.Cleanup(stop)
	h.fake = fake
	snd, err := sender.New(sender.Config{BaseURL: url, Token: "token", Timeout: time.Second, Concurrency: 8, Now: h.clock.Now,
		Breaker: sender.BreakerConfig{FailureThreshold: 1000}})
	require.NoError(t, err)
	t.Cleanup(snd.Close)
	h.engine = delivery.New(delivery.Deps{DB: db, Campaign: h.svc, Sender: snd, Batches: h.batches, NowFunc: h.clock.Now, Logger: logger}, cfg)
	return h
}

// clients creates n clients in zone, tagged tag, with phones from first.
func (h *harness) clients(t *testing.T, first, n int, zone, tag string) {
	t.Helper()
	var in []campaign.ClientInput
	for i := range n {
		in = append(in, campaign.ClientInput{Phone: fmt.Sprintf("7%010d", 9000000000+first+i), Timezone: &zone, Tag: &tag})
	}
	_, err := h.svc.CreateClients(context.Background(), in)
	require.NoError(t, err)
}

// start creates a mailing over [now-1m, now+d) and runs its start job.
func (h *harness) start(t *testing.T, d time.Duration, in campaign.MailingInput) *ent.Mailing {
	t.Helper()
	ctx := context.Background()
	in.StartAt, in.EndAt, in.Text = h.clock.Now().Add(-time.Minute), h.clock.Now().Add(d), "hello"
	m, err := h.svc.CreateMailing(ctx, in)
	require.NoError(t, err)
	out, err := h.engine.Start(ctx, m.ID, m.StartAt)
	require.NoError(t, err)
	require.True(t, out.Done, "the start selected every recipient in one run")
	return m
}

// runBatches runs every queued batch once and returns their outcomes.
func (h *harness) runBatches(t *testing.T) []delivery.Outcome {
	t.Helper()
	var outs []delivery.Outcome
	for _, b := range h.batches.all() {
		out, err := h.engine.SendBatch(context.Background(), b)
		require.NoError(t, err)
		outs = append(outs, out)
	}
	return outs
}

func (h *harness) messages(t *testing.T, mailingID int) []*ent.Message {
	t.Helper()
	msgs, err := h.db.Ent.Message.Query().Where(message.MailingID(mailingID)).Order(ent.Asc(message.FieldID)).All(context.Background())
	require.NoError(t, err)
	return msgs
}

func (h *harness) mailingStatus(t *testing.T, id int) status.Mailing {
	t.Helper()
	m, err := h.svc.Mailing(context.Background(), id)
	require.NoError(t, err)
	return m.Status
}

// TestEngineSelectsInChunks: a start selects the matching clients a chunk
// at a time into fixed id ranges of BatchSize, queues each range once, and
// marks the selection done; the mailing is running.
func TestEngineSelectsInChunks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, fakesender.Faults{}, delivery.Config{SelectChunk: 3, BatchSize: 4})
		h.clients(t, 0, 10, "UTC", "vip")
		h.clients(t, 100, 5, "UTC", "other")
		m := h.start(t, time.Hour, campaign.MailingInput{Filter: campaign.Filter{Tags: []string{"vip"}}})
		msgs := h.messages(t, m.ID)
		require.Len(t, msgs, 10)
		first := msgs[0].ID
		var covered []int
		for i, b := range h.batches.all() {
			require.Equal(t, m.ID, b.MailingID)
			require.Equal(t, first+4*i, b.FirstID, "batch %d starts at its fixed offset", i)
			require.Equal(t, b.FirstID+3, b.LastID)
			for id := b.FirstID; id <= b.LastID; id++ {
				covered = append(covered, id)
			}
		}
		for _, msg := range msgs {
			require.Contains(t, covered, msg.ID)
			require.Equal(t, status.Queued, msg.Status)
		}
		require.Len(t, h.batches.all(), 3, "10 messages in ranges of 4")
		got, err := h.svc.Mailing(context.Background(), m.ID)
		require.NoError(t, err)
		require.Equal(t, status.Running, got.Status)
		require.NotNil(t, got.RecipientsSelectedAt)

		// A start that runs again selects nothing twice.
		out, err := h.engine.Start(context.Background(), m.ID, m.StartAt)
		require.NoError(t, err)
		require.True(t, out.Done)
		require.Len(t, h.messages(t, m.ID), 10)
	})
}

// TestEngineSendsAndFinishes: the batches send each message once and the
// last one finishes the mailing.
func TestEngineSendsAndFinishes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, fakesender.Faults{}, delivery.Config{BatchSize: 5})
		h.clients(t, 0, 12, "UTC", "")
		m := h.start(t, time.Hour, campaign.MailingInput{})
		for _, out := range h.runBatches(t) {
			require.True(t, out.Done)
		}
		for _, msg := range h.messages(t, m.ID) {
			require.Equal(t, status.Sent, msg.Status)
			require.Equal(t, 1, msg.Attempts)
			require.Equal(t, 1, h.fake.Accepted(int64(msg.ID)))
		}
		require.Equal(t, status.Finished, h.mailingStatus(t, m.ID))
	})
}

// TestEngineAdmitsOnlyRunning: a paused mailing's batch starts no request
// and looks again after PausedRecheck; a cancelled one's batch is done.
func TestEngineAdmitsOnlyRunning(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, fakesender.Faults{}, delivery.Config{PausedRecheck: 7 * time.Second})
		h.clients(t, 0, 5, "UTC", "")
		m := h.start(t, time.Hour, campaign.MailingInput{})
		_, err := h.svc.PauseMailing(context.Background(), m.ID)
		require.NoError(t, err)
		outs := h.runBatches(t)
		require.Equal(t, []delivery.Outcome{{Snooze: 7 * time.Second}}, outs)
		require.Zero(t, h.fake.Stats().Requests)

		_, err = h.svc.CancelMailing(context.Background(), m.ID)
		require.NoError(t, err)
		require.Equal(t, []delivery.Outcome{{Done: true}}, h.runBatches(t))
		require.Zero(t, h.fake.Stats().Requests)
		for _, msg := range h.messages(t, m.ID) {
			require.Equal(t, status.MessageCanceled, msg.Status)
		}
	})
}

// TestEngineRetriesThenExpires: a transient failure makes a message
// retrying with its next attempt after a backoff; tried again when due; at
// the end, what is still unsent expires and the mailing finishes.
func TestEngineRetriesThenExpires(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, fakesender.Faults{ErrorRate: 1}, delivery.Config{})
		h.clients(t, 0, 3, "UTC", "")
		m := h.start(t, 10*time.Minute, campaign.MailingInput{})
		out := h.runBatches(t)[0]
		require.False(t, out.Done)
		require.Positive(t, out.Snooze, "the batch sleeps until the next retry")
		for _, msg := range h.messages(t, m.ID) {
			require.Equal(t, status.Retrying, msg.Status)
			require.Equal(t, 1, msg.Attempts)
			require.NotNil(t, msg.NextAttemptAt)
			require.True(t, msg.NextAttemptAt.After(h.clock.Now()), "a backoff, not at once")
			require.NotNil(t, msg.LastError)
		}
		// Due again: a second attempt each.
		h.clock.Set(h.clock.Now().Add(out.Snooze + time.Second))
		h.runBatches(t)
		for _, msg := range h.messages(t, m.ID) {
			require.GreaterOrEqual(t, msg.Attempts, 2)
		}
		// Past the end: the batch closes the mailing; the rest expires.
		h.clock.Set(m.EndAt.Add(time.Second))
		require.Equal(t, []delivery.Outcome{{Done: true}}, h.runBatches(t))
		for _, msg := range h.messages(t, m.ID) {
			require.Equal(t, status.Expired, msg.Status)
		}
		require.Equal(t, status.Finished, h.mailingStatus(t, m.ID))
	})
}

// TestEngineSendWindow: outside its client's daily window a message is
// deferred to the next opening without an attempt, sent inside it; one
// whose next opening is not before the end expires.
func TestEngineSendWindow(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, fakesender.Faults{}, delivery.Config{})
		h.clients(t, 0, 2, "Asia/Tokyo", "") // noon UTC is 21:00 in Tokyo
		win := &campaign.WindowInput{From: "09:00", To: "18:00"}
		m := h.start(t, 48*time.Hour, campaign.MailingInput{Window: win})
		out := h.runBatches(t)[0]
		require.False(t, out.Done)
		opening := time.Date(2030, 1, 8, 0, 0, 0, 0, time.UTC) // 09:00 in Tokyo
		for _, msg := range h.messages(t, m.ID) {
			require.Equal(t, status.Queued, msg.Status)
			require.Zero(t, msg.Attempts)
			require.True(t, msg.NextAttemptAt.Equal(opening), "deferred to %s, got %s", opening, msg.NextAttemptAt)
		}
		require.Zero(t, h.fake.Stats().Requests)

		h.clock.Set(opening.Add(time.Minute))
		require.Equal(t, []delivery.Outcome{{Done: true}}, h.runBatches(t))
		for _, msg := range h.messages(t, m.ID) {
			require.Equal(t, status.Sent, msg.Status)
		}

		// A mailing that ends before the next opening: expired, no request.
		h.batches.reset()
		h.clock.Set(t0.Add(24 * time.Hour)) // 21:00 in Tokyo again
		short := h.start(t, 6*time.Hour, campaign.MailingInput{Window: win})
		requests := h.fake.Stats().Requests
		h.runBatches(t)
		for _, msg := range h.messages(t, short.ID) {
			require.Equal(t, status.Expired, msg.Status)
			require.Equal(t, "outside the send window", *msg.LastError)
		}
		require.Equal(t, requests, h.fake.Stats().Requests)
		require.Equal(t, status.Finished, h.mailingStatus(t, short.ID))
	})
}

// TestEngineResumeQueuesUnsentBatches: a resume queues every batch that
// still has unsent messages, and only those.
func TestEngineResumeQueuesUnsentBatches(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		h := newHarness(t, dbURL, fakesender.Faults{}, delivery.Config{BatchSize: 2})
		h.clients(t, 0, 6, "UTC", "")
		m := h.start(t, time.Hour, campaign.MailingInput{})
		all := h.batches.all()
		require.Len(t, all, 3)
		_, err := h.engine.SendBatch(context.Background(), all[0])
		require.NoError(t, err)
		h.batches.reset()
		require.NoError(t, h.engine.Resume(context.Background(), m.ID))
		require.Equal(t, all[1:], h.batches.all())
	})
}
