package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/delivery"
)

// StartMailingArgs starts a mailing at its start_at: recipients are selected
// and its batch jobs inserted.
type StartMailingArgs struct {
	MailingID int `json:"mailing_id"`
	// StartAt is the start_at this job was scheduled for; after a reschedule
	// the job for the old time finds it changed and does nothing.
	StartAt time.Time `json:"start_at"`
}

// Kind is the job kind.
func (StartMailingArgs) Kind() string { return "start_mailing" }

// InsertOpts: on the control queue, one job per (mailing, start time).
func (StartMailingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// StartMailingWorker works StartMailingArgs.
type StartMailingWorker struct {
	river.WorkerDefaults[StartMailingArgs]
	Engine *delivery.Engine
}

// Work starts the mailing.
func (w *StartMailingWorker) Work(ctx context.Context, job *river.Job[StartMailingArgs]) error {
	return snoozeOrDone(w.Engine.Start(ctx, job.Args.MailingID, job.Args.StartAt))
}
