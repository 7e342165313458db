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

// SendBatchTimeout bounds one run of a batch job. The engine yields after its
// slice (30 s) plus the requests in flight (the sender timeout, 10 s by
// default); River rescues a job still running after RescueStuckJobsAfter.
const SendBatchTimeout = 75 * time.Second

// SendBatchWorker works SendBatchArgs.
type SendBatchWorker struct {
	river.WorkerDefaults[SendBatchArgs]
	Engine *delivery.Engine
}

// Timeout of a batch job run.
func (w *SendBatchWorker) Timeout(*river.Job[SendBatchArgs]) time.Duration { return SendBatchTimeout }

// Work sends the batch.
func (w *SendBatchWorker) Work(ctx context.Context, job *river.Job[SendBatchArgs]) error {
	a := job.Args
	return snoozeOrDone(w.Engine.SendBatch(ctx, delivery.Batch{MailingID: a.MailingID, FirstID: a.FirstID, LastID: a.LastID}))
}
