package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/webhook"
)

// DeliverWebhookArgs sends one webhook delivery (an event to a receiver),
// once per attempt, until the receiver answers 2xx or webhook.MaxAttempts
// attempts failed (webhook.Backoff apart).
type DeliverWebhookArgs struct {
	DeliveryID int `json:"delivery_id"`
}

// Kind is the job kind.
func (DeliverWebhookArgs) Kind() string { return "deliver_webhook" }

// InsertOpts: on the webhook queue, whose workers no sending waits for.
func (DeliverWebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWebhook, MaxAttempts: webhook.MaxAttempts}
}

// DeliverWebhookWorker works DeliverWebhookArgs.
type DeliverWebhookWorker struct {
	river.WorkerDefaults[DeliverWebhookArgs]
	Deliverer *webhook.Deliverer
}

// Work makes one attempt; an error has River try again at NextRetry,
// except a refused destination (webhook.ErrRefused): the delivery failed
// for good, so the job is cancelled.
func (w *DeliverWebhookWorker) Work(ctx context.Context, job *river.Job[DeliverWebhookArgs]) error {
	err := w.Deliverer.Deliver(ctx, job.Args.DeliveryID, job.Attempt, job.Attempt >= job.MaxAttempts)
	if errors.Is(err, webhook.ErrRefused) {
		return river.JobCancel(err)
	}
	return err
}

// NextRetry is when the next attempt is due: the delivery's own backoff,
// the time its row shows as next_attempt_at.
func (w *DeliverWebhookWorker) NextRetry(job *river.Job[DeliverWebhookArgs]) time.Time {
	return w.Deliverer.NextAttempt(job.Attempt)
}

// Timeout of one attempt's run: the request's own timeout and time to
// record it.
func (w *DeliverWebhookWorker) Timeout(*river.Job[DeliverWebhookArgs]) time.Duration {
	return w.Deliverer.Timeout() + 15*time.Second
}
