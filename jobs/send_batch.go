package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyhq/notify/internal/delivery"
)

// SendBatchArgs sends the unsent messages of one id range of a mailing. The
// job snoozes while messages wait (for a retry, their window, a breaker
// pause, or a paused mailing) and completes when none is unsent.
type SendBatchArgs struct {
	MailingID int `json:"mailing_id"`
	FirstID   int `json:"first_id"`
	LastID    int `json:"last_id"`
}

// Kind is the job kind.
func (SendBatchArgs) Kind() string { return "send_batch" }

// InsertOpts: on the send queue; unique per batch while it is not completed,
// so a batch is never worked by two jobs, and a resume can queue it again
// once it completed.
func (SendBatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue: QueueSend,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
				rivertype.JobStateRetryable, rivertype.JobStateScheduled,
			},
		},
	}
}

// SendBatchTimeout bounds one run of a batch job: the sender timeout plus
// 10 s (20 s with the default SENDER_TIMEOUT). The engine starts no request
// later than the sender timeout and delivery.RunMargin before the end (5 s
// into the run by default), so what it has on the wire ends, and is
// recorded, within the run (docs/design.md, "Instance kills").
func SendBatchTimeout(senderTimeout time.Duration) time.Duration {
	return senderTimeout + 2*delivery.RunMargin
}

// SendBatchWorker works SendBatchArgs.
type SendBatchWorker struct {
	river.WorkerDefaults[SendBatchArgs]
	Engine *delivery.Engine
}

// Timeout of a batch job run.
func (w *SendBatchWorker) Timeout(*river.Job[SendBatchArgs]) time.Duration {
	return SendBatchTimeout(w.Engine.SenderTimeout())
}

// Work sends the batch.
func (w *SendBatchWorker) Work(ctx context.Context, job *river.Job[SendBatchArgs]) error {
	a := job.Args
	return snoozeOrDone(w.Engine.SendBatch(ctx, delivery.Batch{MailingID: a.MailingID, FirstID: a.FirstID, LastID: a.LastID}))
}
