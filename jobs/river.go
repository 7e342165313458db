package jobs

import (
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/delivery"
)

// Workers registers every worker of the service.
func Workers(svc *campaign.Service, engine *delivery.Engine) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &StartMailingWorker{Engine: engine})
	river.AddWorker(w, &SendBatchWorker{Engine: engine})
	river.AddWorker(w, &CloseMailingWorker{Campaign: svc})
	return w
}

// RiverConfig is the River configuration of the service.
func RiverConfig(schema string, logger *slog.Logger, workers *river.Workers) *river.Config {
	return &river.Config{
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 2},
			QueueControl:       {MaxWorkers: 10},
			// Each batch keeps up to the sender's concurrency in flight;
			// several batches at once keep the pipe full while one waits
			// on its database writes.
			QueueSend: {MaxWorkers: 8},
		},
		Workers: workers,
		Schema:  schema,
		Logger:  logger,
		// A killed instance's running jobs are picked up by another within
		// about two minutes (SPEC §7): the longest job run is a batch
		// (SendBatchTimeout), and River rescues jobs stuck past this.
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: SendBatchTimeout + 10*time.Second,
		MaxAttempts:          25,
	}
}
