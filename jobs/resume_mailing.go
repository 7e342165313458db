package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/delivery"
)

// ResumeMailingArgs gives the batches of a resumed mailing that have unsent
// messages their jobs back. Batches of a paused mailing keep theirs,
// snoozing, so it mostly finds them queued already; it covers those whose
// job ended (discarded after failures, or rescued) while the mailing was
// paused.
type ResumeMailingArgs struct {
	MailingID int `json:"mailing_id"`
	// ResumedAt tells two resumes of one mailing apart.
	ResumedAt time.Time `json:"resumed_at"`
}

// Kind is the job kind.
func (ResumeMailingArgs) Kind() string { return "resume_mailing" }

// InsertOpts: on the control queue, one job per resume.
func (ResumeMailingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// ResumeMailingWorker works ResumeMailingArgs.
type ResumeMailingWorker struct {
	river.WorkerDefaults[ResumeMailingArgs]
	Engine *delivery.Engine
}

// Work queues the batches.
func (w *ResumeMailingWorker) Work(ctx context.Context, job *river.Job[ResumeMailingArgs]) error {
	return w.Engine.Resume(ctx, job.Args.MailingID)
}
