package jobs

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/campaign"
)

// AuditRetentionArgs prunes the audit log: the entries older than Retention
// (AUDIT_RETENTION) are deleted (README, "Security", "Audit log").
type AuditRetentionArgs struct {
	// Retention is how long entries are kept, in seconds.
	Retention int64 `json:"retention_s"`
}

// Kind is the job kind.
func (AuditRetentionArgs) Kind() string { return "audit_retention" }

// InsertOpts: on the control queue; a failed run is simply tried again.
func (AuditRetentionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, MaxAttempts: 5}
}

// AuditRetentionWorker works AuditRetentionArgs with the domain clock.
type AuditRetentionWorker struct {
	river.WorkerDefaults[AuditRetentionArgs]
	Campaign *campaign.Service
	Logger   *slog.Logger
}

// Work deletes the entries older than the retention.
func (w *AuditRetentionWorker) Work(ctx context.Context, job *river.Job[AuditRetentionArgs]) error {
	if job.Args.Retention <= 0 {
		return nil
	}
	before := w.Campaign.Now().Add(-time.Duration(job.Args.Retention) * time.Second)
	n, err := w.Campaign.PruneAudit(ctx, before)
	if err != nil {
		return err
	}
	if n > 0 {
		cmp.Or(w.Logger, slog.Default()).InfoContext(ctx, "audit log pruned", "entries", n, "before", before)
	}
	return nil
}

// AuditRetentionInterval is how often the audit log is pruned.
const AuditRetentionInterval = time.Hour

// AuditRetentionPeriodicJob is the periodic job that prunes the audit log
// every tick (AuditRetentionInterval when nil) and at start; only with
// AUDIT_RETENTION set.
func AuditRetentionPeriodicJob(retention time.Duration, tick river.PeriodicSchedule) *river.PeriodicJob {
	if tick == nil {
		tick = river.PeriodicInterval(AuditRetentionInterval)
	}
	return river.NewPeriodicJob(tick, func() (river.JobArgs, *river.InsertOpts) {
		return AuditRetentionArgs{Retention: int64(retention / time.Second)}, nil
	}, &river.PeriodicJobOpts{ID: AuditRetentionArgs{}.Kind(), RunOnStart: true})
}
