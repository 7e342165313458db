package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/campaign"
)

// PruneArgs deletes the rows kept only for a while, each kind past its own
// retention (campaign.Service.Prune): audit entries past AUDIT_RETENTION
// (README, "Audit log") and idempotency keys past campaign.IdempotencyTTL
// (README, "Idempotency keys").
type PruneArgs struct {
	// AuditRetention is how long audit entries are kept, in seconds; 0
	// keeps them all.
	AuditRetention int64 `json:"audit_retention_s"`
}

// Kind is the job kind.
func (PruneArgs) Kind() string { return "prune" }

// InsertOpts: on the control queue; a failed run is simply tried again.
func (PruneArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, MaxAttempts: 5}
}

// PruneWorker works PruneArgs with the domain clock.
type PruneWorker struct {
	river.WorkerDefaults[PruneArgs]
	Campaign *campaign.Service
}

// Work deletes the expired rows.
func (w *PruneWorker) Work(ctx context.Context, job *river.Job[PruneArgs]) error {
	_, err := w.Campaign.Prune(ctx, time.Duration(job.Args.AuditRetention)*time.Second)
	return err
}

// PrunePeriodicJob is the periodic job that prunes the expired rows hourly
// and at start; audit entries only with auditRetention (AUDIT_RETENTION)
// set.
func PrunePeriodicJob(auditRetention time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
		return PruneArgs{AuditRetention: int64(auditRetention / time.Second)}, nil
	}, &river.PeriodicJobOpts{ID: PruneArgs{}.Kind(), RunOnStart: true})
}
