// Package jobs holds the River jobs of the service, one file per kind: when a
// mailing starts (start_mailing.go), how its messages are sent and retried in
// batches (send_batch.go), how a resumed one gets its batches back
// (resume_mailing.go), how it is closed at its end (close_mailing.go), and
// the daily report. Workers are thin: they load what the job names, call the
// domain (internal/campaign, internal/delivery) and map the outcome to River's.
// Job calls go one way: the domain and the engine ask for work through
// interfaces of their own (campaign.Scheduler, delivery.BatchScheduler),
// which the Scheduler here implements with River's InsertTx.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/delivery"
)

// Queue names.
const (
	// QueueControl runs the short jobs that start and close mailings.
	QueueControl = "control"
	// QueueSend runs the batch jobs; its worker count bounds how many batches
	// send at once on an instance (the sender's concurrency bounds requests).
	QueueSend = "send"
	// QueueWebhook runs the webhook deliveries, apart from the sending.
	QueueWebhook = "webhook"
)

// Scheduler inserts the jobs a domain write implies, inside the write's
// transaction: it is the campaign.Scheduler of the domain, the
// delivery.BatchScheduler of the engine and the webhook.Scheduler of the
// webhook outbox. It inserts through an insert-only
// River client of its own, which works no job, so it is whole before the
// engine and the workers are built (the River client that works the jobs
// needs the workers, which need the engine, which needs the Scheduler).
type Scheduler struct {
	client *river.Client[*sql.Tx]
}

// NewScheduler returns the Scheduler of the River tables in schema.
func NewScheduler(driver riverdriver.Driver[*sql.Tx], schema string, logger *slog.Logger) (*Scheduler, error) {
	client, err := river.NewClient(driver, &river.Config{Schema: schema, Logger: logger, MaxAttempts: MaxAttempts})
	if err != nil {
		return nil, fmt.Errorf("error creating the River client that inserts jobs: %w", err)
	}
	return &Scheduler{client: client}, nil
}

// ScheduleMailing inserts the job that starts m at its start_at (at once when
// that is past) and the one that closes it at its end_at. Jobs are unique per
// (mailing, time), so rescheduling adds a job for the new time and the stale
// one does nothing when it runs.
func (s *Scheduler) ScheduleMailing(ctx context.Context, tx *database.Tx, m *ent.Mailing) error {
	// A start that is due goes straight to available: a scheduled job would
	// wait for River's scheduler to promote it (up to 5 s).
	var startOpts *river.InsertOpts
	if m.StartAt.After(time.Now()) {
		startOpts = &river.InsertOpts{ScheduledAt: m.StartAt}
	}
	_, err := s.client.InsertManyTx(ctx, tx.Tx, []river.InsertManyParams{
		{Args: StartMailingArgs{MailingID: m.ID, StartAt: m.StartAt.UTC()}, InsertOpts: startOpts},
		{Args: CloseMailingArgs{MailingID: m.ID, EndAt: m.EndAt.UTC()}, InsertOpts: &river.InsertOpts{ScheduledAt: m.EndAt}},
	})
	if err != nil {
		return fmt.Errorf("error scheduling mailing %d: %w", m.ID, err)
	}
	return nil
}

// ResumeMailing inserts the job that makes sure every batch of a resumed
// mailing with unsent messages has a job (ResumeMailingArgs).
func (s *Scheduler) ResumeMailing(ctx context.Context, tx *database.Tx, m *ent.Mailing) error {
	if _, err := s.client.InsertTx(ctx, tx.Tx, ResumeMailingArgs{MailingID: m.ID, ResumedAt: m.UpdatedAt.UTC()}, nil); err != nil {
		return fmt.Errorf("error scheduling the resume of mailing %d: %w", m.ID, err)
	}
	return nil
}

// ScheduleDelivery inserts the job that sends a webhook delivery
// (webhook.Scheduler), in the transaction that records it.
func (s *Scheduler) ScheduleDelivery(ctx context.Context, tx *database.Tx, deliveryID int) error {
	if _, err := s.client.InsertTx(ctx, tx.Tx, DeliverWebhookArgs{DeliveryID: deliveryID}, nil); err != nil {
		return fmt.Errorf("error scheduling webhook delivery %d: %w", deliveryID, err)
	}
	return nil
}

// InsertBatches inserts one batch job per batch.
func (s *Scheduler) InsertBatches(ctx context.Context, tx *database.Tx, batches []delivery.Batch) error {
	params := make([]river.InsertManyParams, len(batches))
	for i, b := range batches {
		params[i] = river.InsertManyParams{Args: SendBatchArgs{MailingID: b.MailingID, FirstID: b.FirstID, LastID: b.LastID}}
	}
	// Chunks keep each statement's parameters well inside the databases' limits.
	for chunk := range slices.Chunk(params, 1000) {
		if _, err := s.client.InsertManyTx(ctx, tx.Tx, chunk); err != nil {
			return fmt.Errorf("error inserting batch jobs of mailing %d: %w", batches[0].MailingID, err)
		}
	}
	return nil
}

// snoozeOrDone maps a delivery outcome to River's.
func snoozeOrDone(out delivery.Outcome, err error) error {
	if err != nil {
		return err
	}
	if out.Done {
		return nil
	}
	return river.JobSnooze(max(out.Snooze, time.Millisecond))
}
