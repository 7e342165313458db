package jobs

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/internal/webhook"
)

// jobRow is a row of river_job as the tests read it.
type jobRow struct {
	kind, queue, state string
	scheduledAt        time.Time
}

func jobRows(t *testing.T, db *database.DB) []jobRow {
	t.Helper()
	rows, err := db.SQL.Query(`SELECT kind, queue, state, scheduled_at FROM river_job ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var r jobRow
		require.NoError(t, rows.Scan(&r.kind, &r.queue, &r.state, &r.scheduledAt))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestScheduler: the insert-only scheduler writes its jobs in the caller's
// transaction (gone with a rollback), on their queues, a future start
// scheduled for its time and a due one available at once; a batch queued
// twice while unfinished is one job; a resume and a webhook delivery get
// jobs of their own.
func TestScheduler(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		logger := slog.New(slog.DiscardHandler)
		db := testdb.Migrated(t, dbURL)
		driver, err := db.RiverDriver(ctx)
		require.NoError(t, err)
		s, err := NewScheduler(driver, db.Schema, logger)
		require.NoError(t, err)

		now := time.Now().UTC().Truncate(time.Microsecond)
		future := &ent.Mailing{ID: 1, StartAt: now.Add(time.Hour), EndAt: now.Add(2 * time.Hour), UpdatedAt: now}
		due := &ent.Mailing{ID: 2, StartAt: now.Add(-time.Hour), EndAt: now.Add(time.Hour), UpdatedAt: now}

		require.ErrorIs(t, db.InTx(ctx, func(tx *database.Tx) error {
			require.NoError(t, s.ScheduleMailing(ctx, tx, future))
			return context.Canceled
		}), context.Canceled)
		require.Empty(t, jobRows(t, db), "rolled back with the transaction")

		require.NoError(t, db.InTx(ctx, func(tx *database.Tx) error {
			if err := s.ScheduleMailing(ctx, tx, future); err != nil {
				return err
			}
			if err := s.ScheduleMailing(ctx, tx, due); err != nil {
				return err
			}
			b := []delivery.Batch{{MailingID: 2, FirstID: 1, LastID: 1000}, {MailingID: 2, FirstID: 1001, LastID: 2000}}
			if err := s.InsertBatches(ctx, tx, b); err != nil {
				return err
			}
			if err := s.InsertBatches(ctx, tx, b[:1]); err != nil { // queued again: River's uniqueness
				return err
			}
			if err := s.ResumeMailing(ctx, tx, due); err != nil {
				return err
			}
			return s.ScheduleDelivery(ctx, tx, 9)
		}))
		rows := jobRows(t, db)
		kinds := map[string]int{}
		for _, r := range rows {
			kinds[r.kind]++
		}
		require.Equal(t, map[string]int{"start_mailing": 2, "close_mailing": 2, "send_batch": 2, "resume_mailing": 1, "deliver_webhook": 1}, kinds)
		for _, r := range rows {
			switch {
			case r.kind == "start_mailing" && r.scheduledAt.After(now.Add(30*time.Minute)):
				require.Equal(t, "scheduled", r.state, "a future start waits for its time")
				require.WithinDuration(t, future.StartAt, r.scheduledAt, time.Second)
			case r.kind == "start_mailing":
				require.Equal(t, "available", r.state, "a due start goes at once")
			case r.kind == "close_mailing":
				require.Equal(t, "scheduled", r.state)
			case r.kind == "send_batch":
				require.Equal(t, QueueSend, r.queue)
			case r.kind == "deliver_webhook":
				require.Equal(t, QueueWebhook, r.queue)
			}
		}
	})
}

// TestDeliverWebhookRetries: the webhook job's retries follow the
// delivery's backoff, and every attempt fits its run.
func TestDeliverWebhookRetries(t *testing.T) {
	t.Parallel()
	d := webhook.NewDeliverer(webhook.Config{Timeout: 3 * time.Second})
	w := &DeliverWebhookWorker{Deliverer: d}
	job := &river.Job[DeliverWebhookArgs]{JobRow: nil}
	require.Greater(t, w.Timeout(job), 3*time.Second)
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 14: time.Hour} {
		require.WithinDuration(t, time.Now().Add(want), d.NextAttempt(n), 100*time.Millisecond, "after attempt %d", n)
	}
	require.Equal(t, webhook.MaxAttempts, DeliverWebhookArgs{}.InsertOpts().MaxAttempts)
}
