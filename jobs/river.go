package jobs

import (
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/report"
	"github.com/notifyhq/notify/internal/webhook"
)

// Workers registers every worker of the service. The daily report's worker
// is registered even with email off, so a report job left in the database
// waits (snoozes) instead of failing as an unknown kind.
func Workers(svc *campaign.Service, engine *delivery.Engine, dailyReport *DailyReportWorker, webhooks *webhook.Deliverer) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, &StartMailingWorker{Engine: engine})
	river.AddWorker(w, &SendBatchWorker{Engine: engine})
	river.AddWorker(w, &ResumeMailingWorker{Engine: engine})
	river.AddWorker(w, &CloseMailingWorker{Campaign: svc})
	river.AddWorker(w, &DeliverWebhookWorker{Deliverer: webhooks})
	river.AddWorker(w, dailyReport)
	river.AddWorker(w, &PruneWorker{Campaign: svc})
	river.AddWorker(w, &ImportClientsWorker{Campaign: svc})
	return w
}

// RiverConfig is the River configuration of the service; periodic are its
// periodic jobs (the daily report's when email is on).
func RiverConfig(schema string, logger *slog.Logger, workers *river.Workers, periodic []*river.PeriodicJob, batchWorkers int) *river.Config {
	return &river.Config{
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 2},
			QueueControl:       {MaxWorkers: 10},
			// Batch jobs at once (delivery.Engine.BatchWorkers).
			QueueSend: {MaxWorkers: batchWorkers},
			// Webhook deliveries: a receiver that hangs holds one of
			// these for its attempt's timeout, never a sending worker.
			QueueWebhook: {MaxWorkers: 10},
			// CSV imports spooled on this instance (ImportClientsArgs).
			ImportQueue: {MaxWorkers: 1},
		},
		Workers:      workers,
		PeriodicJobs: periodic,
		Schema:       schema,
		Logger:       logger,
		// A finished daily report job is the proof that its date was sent
		// (DailyReportArgs): keep finished jobs longer than a date stays due,
		// with an hour's margin for clocks that disagree. Discarded jobs are
		// kept 7 days by default.
		CompletedJobRetentionPeriod: report.DueWindow + time.Hour,
		CancelledJobRetentionPeriod: report.DueWindow + time.Hour,
		// A killed instance's running jobs are taken over by the others
		// within about 15 s (Takeover, docs/design.md "Instance kills"),
		// not by River's rescuer, which only looks at a job's age every
		// 30 s. Its rescue stays as the backstop (a Takeover that cannot
		// reach Postgres, the daily report): no honest run comes near it,
		// a batch run being bounded by SendBatchTimeout (20 s by default)
		// and every other job by JobTimeout.
		ID:                   ClientID(),
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: 3 * time.Minute,
		MaxAttempts:          MaxAttempts,
	}
}

// MaxAttempts is how many times River tries a job that fails (snoozes do
// not count), for the jobs of both River clients.
const MaxAttempts = 25
