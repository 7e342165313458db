package jobs

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/notifyhq/notify/internal/report"
)

// DailyReportArgs emails the daily report of one date (docs/product.md, "Statistics and the daily report").
//
// One email per date, across instances and restarts: only River's leader
// runs the periodic job, and the job is unique by its date in every state,
// finished ones included, so a second insert for a date (another leader, a
// restart with RunOnStart, a second cron time the same day) is skipped as a
// duplicate. River keeps finished jobs for longer than a date stays due
// (report.DueWindow; see RiverConfig), so the row that proves a date was
// sent outlives every moment the date could be inserted again.
type DailyReportArgs struct {
	// Date is the calendar date reported on, in the report zone: YYYY-MM-DD.
	Date string `json:"date"`
}

// Kind is the job kind.
func (DailyReportArgs) Kind() string { return "daily_report" }

// InsertOpts: on the control queue, unique by date in every job state, with
// enough attempts to ride out an SMTP outage of days (DailyReportRetryDelay).
func (DailyReportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueControl,
		MaxAttempts: DailyReportMaxAttempts,
		UniqueOpts: river.UniqueOpts{
			ByArgs:  true,
			ByState: rivertype.JobStates(),
		},
	}
}

// DailyReportMaxAttempts is how many times the report of a date is tried:
// with DailyReportRetryDelay, about four days of an unreachable SMTP server.
// After the last failure the job is discarded and an error is logged.
const DailyReportMaxAttempts = 200

// DailyReportRetryDelay is the wait before the next attempt after attempt n
// failed: 30 s doubling up to 30 min, ±10% jitter so that instances do not
// retry in step.
func DailyReportRetryDelay(attempt int) time.Duration {
	const base, ceiling = 30 * time.Second, 30 * time.Minute
	d := ceiling
	if attempt < 16 {
		d = min(base<<max(attempt-1, 0), ceiling)
	}
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// DailyReportWorker works DailyReportArgs.
type DailyReportWorker struct {
	river.WorkerDefaults[DailyReportArgs]
	Reports *report.Service
	// RetryDelayFunc is the wait after a failed attempt;
	// DailyReportRetryDelay when nil.
	RetryDelayFunc func(attempt int) time.Duration
	Logger         *slog.Logger
}

// Work builds and sends the report of the job's date. An SMTP failure
// returns the error, so River retries with backoff (NextRetry); each failure
// is logged, the last one at error level.
func (w *DailyReportWorker) Work(ctx context.Context, job *river.Job[DailyReportArgs]) error {
	logger := cmp.Or(w.Logger, slog.Default())
	date, err := time.Parse(time.DateOnly, job.Args.Date)
	if err != nil {
		return river.JobCancel(fmt.Errorf("daily report job %d has a bad date %q: %w", job.ID, job.Args.Date, err))
	}
	if !w.Reports.EmailEnabled() {
		// Left from a run with SMTP configured, or picked by an instance
		// configured without it: wait for one that can send.
		logger.WarnContext(ctx, "daily report job waiting: SMTP_URL is not set on this instance",
			"report_date", job.Args.Date, "job_id", job.ID)
		return river.JobSnooze(time.Hour)
	}
	if _, err := w.Reports.SendScheduled(ctx, date); err != nil {
		level, msg := slog.LevelWarn, "daily report not sent; will retry"
		if job.Attempt >= job.MaxAttempts {
			level, msg = slog.LevelError, "daily report not sent; giving up after the last attempt"
		}
		logger.Log(ctx, level, msg, "report_date", job.Args.Date, "job_id", job.ID,
			"attempt", job.Attempt, "max_attempts", job.MaxAttempts, "error", err)
		return err
	}
	return nil
}

// NextRetry schedules the next attempt after a failure.
func (w *DailyReportWorker) NextRetry(job *river.Job[DailyReportArgs]) time.Time {
	delay := w.RetryDelayFunc
	if delay == nil {
		delay = DailyReportRetryDelay
	}
	return time.Now().Add(delay(job.Attempt))
}

// DailyReportPeriodicJob is the periodic job that inserts the report of the
// date due (report.Service.DueDate) at each REPORT_CRON time, and at start
// (RunOnStart) so that a date missed while every instance was down goes out
// when one is back. tick is when River's leader asks for the job: nil is
// REPORT_CRON itself; tests pass a faster schedule, the date due still
// follows REPORT_CRON and the domain clock.
func DailyReportPeriodicJob(reports *report.Service, tick river.PeriodicSchedule, logger *slog.Logger) *river.PeriodicJob {
	if tick == nil {
		tick = reports.Schedule()
	}
	logger = cmp.Or(logger, slog.Default())
	return river.NewPeriodicJob(tick, func() (river.JobArgs, *river.InsertOpts) {
		date, ok := reports.DueDate(reports.Now())
		if !ok {
			return nil, nil
		}
		logger.Debug("daily report due", "report_date", date.Format(time.DateOnly))
		return DailyReportArgs{Date: date.Format(time.DateOnly)}, nil
	}, &river.PeriodicJobOpts{ID: DailyReportArgs{}.Kind(), RunOnStart: true})
}
