package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
)

// ImportClientsArgs runs a CSV import of clients too large to run within
// its request (campaign.SyncImportLines; README, "Importing and exporting
// clients"). The file was spooled to a temporary file on the instance that
// took the upload, so the job goes to that instance's own queue
// (ImportQueue), which no other instance works.
type ImportClientsArgs struct {
	ImportID    int    `json:"import_id"`
	Spool       string `json:"spool"`
	Mode        string `json:"mode"`
	SkipInvalid bool   `json:"skip_invalid"`
	MaxLines    int    `json:"max_lines,omitempty"`
}

// Kind is the job kind.
func (ImportClientsArgs) Kind() string { return "import_clients" }

// InsertOpts: on this instance's import queue, one attempt (a failed
// import is recorded as failed; the caller uploads it again).
func (ImportClientsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: ImportQueue, MaxAttempts: 1}
}

// ImportQueue is the queue of this process's imports: "import_" and a
// random suffix, new at each start.
var ImportQueue = func() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "import_" + hex.EncodeToString(b)
}()

// importTimeout bounds one import's run: a million lines take seconds on
// Postgres; it stays under RescueStuckJobsAfter so River never runs an
// import twice at once.
const importTimeout = 150 * time.Second

// ScheduleImport inserts the job of a queued import in the transaction that
// inserts its row (campaign.ImportScheduler).
func (s *Scheduler) ScheduleImport(ctx context.Context, tx *database.Tx, importID int, spool string, opts campaign.ImportOptions) error {
	args := ImportClientsArgs{ImportID: importID, Spool: spool, Mode: string(opts.Mode), SkipInvalid: opts.SkipInvalid, MaxLines: opts.MaxLines}
	if _, err := s.client.InsertTx(ctx, tx.Tx, args, nil); err != nil {
		return fmt.Errorf("error queueing import %d: %w", importID, err)
	}
	return nil
}

// ImportClientsWorker works ImportClientsArgs.
type ImportClientsWorker struct {
	river.WorkerDefaults[ImportClientsArgs]
	Campaign *campaign.Service
}

// Timeout is importTimeout rather than the default JobTimeout.
func (*ImportClientsWorker) Timeout(*river.Job[ImportClientsArgs]) time.Duration {
	return importTimeout
}

// Work runs the import; its outcome (finished or failed) is on its row.
func (w *ImportClientsWorker) Work(ctx context.Context, job *river.Job[ImportClientsArgs]) error {
	a := job.Args
	_, err := w.Campaign.RunImport(ctx, a.ImportID, a.Spool, campaign.ImportOptions{Mode: campaign.ImportMode(a.Mode), SkipInvalid: a.SkipInvalid, MaxLines: a.MaxLines})
	return err
}
