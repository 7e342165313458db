package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/campaign"
)

// CloseMailingArgs closes a mailing at its end_at: what is unsent expires and
// the mailing finishes.
type CloseMailingArgs struct {
	MailingID int `json:"mailing_id"`
	// EndAt is the end_at this job was scheduled for.
	EndAt time.Time `json:"end_at"`
}

// Kind is the job kind.
func (CloseMailingArgs) Kind() string { return "close_mailing" }

// InsertOpts: on the control queue, one job per (mailing, end time).
func (CloseMailingArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// CloseMailingWorker works CloseMailingArgs.
type CloseMailingWorker struct {
	river.WorkerDefaults[CloseMailingArgs]
	Campaign *campaign.Service
}

// Work closes the mailing if its end_at is still the one the job was for and
// has passed; an end_at moved later has its own job.
func (w *CloseMailingWorker) Work(ctx context.Context, job *river.Job[CloseMailingArgs]) error {
	m, err := w.Campaign.Mailing(ctx, job.Args.MailingID)
	if err != nil {
		return river.JobCancel(err) // deleted: nothing to close
	}
	if !m.EndAt.Equal(job.Args.EndAt) || m.Status.Closed() {
		return nil
	}
	if wait := m.EndAt.Sub(w.Campaign.Now()); wait > 0 {
		return river.JobSnooze(wait)
	}
	_, err = w.Campaign.CloseMailing(ctx, job.Args.MailingID)
	return err
}
