package jobs

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/campaign"
)

// IdempotencyRetentionArgs prunes the idempotency keys older than
// campaign.IdempotencyTTL (README, "Idempotency keys"). A claim of a key
// past it claims it afresh anyway: pruning only bounds the table.
type IdempotencyRetentionArgs struct{}

// Kind is the job kind.
func (IdempotencyRetentionArgs) Kind() string { return "idempotency_retention" }

// InsertOpts: on the control queue; a failed run is simply tried again.
func (IdempotencyRetentionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueControl, MaxAttempts: 5}
}

// IdempotencyRetentionWorker works IdempotencyRetentionArgs with the domain
// clock.
type IdempotencyRetentionWorker struct {
	river.WorkerDefaults[IdempotencyRetentionArgs]
	Campaign *campaign.Service
	Logger   *slog.Logger
}

// Work deletes the keys older than campaign.IdempotencyTTL.
func (w *IdempotencyRetentionWorker) Work(ctx context.Context, _ *river.Job[IdempotencyRetentionArgs]) error {
	n, err := w.Campaign.PruneIdempotencyKeys(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		cmp.Or(w.Logger, slog.Default()).InfoContext(ctx, "idempotency keys pruned", "keys", n)
	}
	return nil
}

// IdempotencyRetentionInterval is how often the keys are pruned.
const IdempotencyRetentionInterval = time.Hour

// IdempotencyRetentionPeriodicJob is the periodic job that prunes the keys
// every tick (IdempotencyRetentionInterval when nil) and at start.
func IdempotencyRetentionPeriodicJob(tick river.PeriodicSchedule) *river.PeriodicJob {
	if tick == nil {
		tick = river.PeriodicInterval(IdempotencyRetentionInterval)
	}
	return river.NewPeriodicJob(tick, func() (river.JobArgs, *river.InsertOpts) {
		return IdempotencyRetentionArgs{}, nil
	}, &river.PeriodicJobOpts{ID: IdempotencyRetentionArgs{}.Kind(), RunOnStart: true})
}
