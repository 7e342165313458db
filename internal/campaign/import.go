package campaign

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/sqlgraph"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/clientimport"
	"github.com/notifyhq/notify/internal/database"
)

// CSV import of clients (README, "Importing and exporting clients";
// docs/design.md, "CSV import and export"). The file is spooled to a
// temporary file first. One of at most SyncImportLines lines is imported
// before the call returns; a larger one is queued for a River job
// (ImportScheduler), the import's row and the job inserted in one
// transaction. Either way the clients go in in one transaction (runImport:
// COPY on Postgres, batched inserts on SQLite; a staging table and
// set-based statements for upserts and taken phones), all or nothing unless
// SkipInvalid, and the import ends in finishImport.

// Limits of a CSV import.
const (
	// MaxImportLines is the most data lines (clients) one import takes.
	MaxImportLines = 1_000_000
	// MaxImportLineBytes bounds one line of an import file: a valid line
	// is under 400 bytes.
	MaxImportLineBytes = 4 << 10
	// MaxImportBytes bounds an import file: a million lines of well over
	// the usual 30 bytes each.
	MaxImportBytes = 256 << 20
	// SyncImportLines is the most lines imported within the request; a
	// larger file is imported by a job.
	SyncImportLines = 10_000
	// MaxImportErrors is how many invalid lines an import keeps (all are
	// counted).
	MaxImportErrors = 1000
)

// Audit log entry of an import: one per import, not one per client.
const (
	ActionClientImport = "client.import"
	TargetImport       = "import"
)

// ImportMode says what an import does with a phone that already exists.
type ImportMode string

// Import modes.
const (
	// ImportInsert makes an existing phone an error on its line.
	ImportInsert ImportMode = "insert"
	// ImportUpsert updates the client with that phone: the columns the
	// header names take the line's values, the others stay.
	ImportUpsert ImportMode = "upsert"
)

// ImportOptions are the choices of an import.
type ImportOptions struct {
	// Mode is ImportInsert when empty.
	Mode ImportMode
	// SkipInvalid imports the valid lines of a file that has invalid ones.
	SkipInvalid bool
	// MaxLines lowers MaxImportLines (tests); 0 keeps it.
	MaxLines int
}

// check refuses a mode other than insert, upsert or empty.
func (o ImportOptions) check() error {
	if o.Mode != "" && o.Mode != ImportInsert && o.Mode != ImportUpsert {
		return invalid("mode", "must be insert or upsert")
	}
	return nil
}

func (o ImportOptions) withDefaults() ImportOptions {
	o.Mode = cmp.Or(o.Mode, ImportInsert)
	if o.MaxLines <= 0 || o.MaxLines > MaxImportLines {
		o.MaxLines = MaxImportLines
	}
	return o
}

// ImportScheduler queues the job of a large import, in the transaction that
// inserts its row. jobs.Scheduler implements it; the Scheduler of a Service
// must, for files above SyncImportLines.
type ImportScheduler interface {
	ScheduleImport(ctx context.Context, tx *database.Tx, importID int, spool string, opts ImportOptions) error
}

// ErrImportTooLarge is a file over MaxImportBytes.
var ErrImportTooLarge = fmt.Errorf("an import file is at most %d MiB", MaxImportBytes>>20)

// ErrImportUnreadable is a file whose upload broke off or could not be
// read (a malformed chunked body, a client gone mid-way).
var ErrImportUnreadable = errors.New("the import file could not be read")

// ImportClients imports the CSV file read from body: SpoolImport, then
// ImportSpooled. It returns the import's row: finished or failed for a file
// of at most SyncImportLines lines, queued for a larger one. An error is
// returned only when the file could not be taken at all: ErrImportTooLarge,
// ErrImportUnreadable, an error writing the spool file or a database error.
func (s *Service) ImportClients(ctx context.Context, body io.Reader, opts ImportOptions) (*ent.ClientImport, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	f, err := spoolImport(body, nil)
	if err != nil {
		return nil, err
	}
	return s.ImportSpooled(ctx, f, opts)
}

// ImportFile is an import file spooled to a temporary file by SpoolImport,
// its lines counted and its content hashed.
type ImportFile struct {
	path  string
	lines int
	// SHA256 is the SHA-256 of the file's content (what an idempotency
	// key's request hash covers).
	SHA256 []byte
	// taken is set once ImportSpooled owns the file.
	taken bool
}

// SpoolImport copies body, up to MaxImportBytes, into a temporary file,
// counting its lines and hashing it on the way, in constant memory: the
// file is read once, whether or not its hash is needed first (an
// idempotency key). Returns ErrImportTooLarge, ErrImportUnreadable (the
// upload broke off), or an error writing the file (an internal error).
// The caller passes the file to ImportSpooled or removes it (Remove).
func SpoolImport(body io.Reader) (*ImportFile, error) {
	return spoolImport(body, sha256.New())
}

// Remove removes the spooled file, unless ImportSpooled took it.
func (f *ImportFile) Remove() {
	if !f.taken {
		os.Remove(f.path)
	}
}

// ImportSpooled imports a file spooled by SpoolImport and takes it over:
// the file is removed when the import ends, or left to the job of a large
// import. It returns what ImportClients returns.
func (s *Service) ImportSpooled(ctx context.Context, f *ImportFile, opts ImportOptions) (*ent.ClientImport, error) {
	f.taken = true
	spool := f.path
	if err := opts.check(); err != nil {
		os.Remove(spool)
		return nil, err
	}
	opts = opts.withDefaults()
	name, requestID := s.actorOf(ctx)
	create := func(c *ent.Client) *ent.ClientImportCreate {
		return c.ClientImport.Create().
			SetMode(clientimport.Mode(opts.Mode)).
			SetSkipInvalid(opts.SkipInvalid).
			SetActor(name).
			SetRequestID(requestID).
			SetCreatedAt(s.now()).
			SetUpdatedAt(s.now())
	}
	if f.lines > SyncImportLines+1 { // the header is not a client
		sched, ok := s.scheduler.(ImportScheduler)
		if !ok {
			os.Remove(spool)
			return nil, errors.New("imports above 10,000 lines need the job scheduler")
		}
		var imp *ent.ClientImport
		err := s.db.InTx(ctx, func(tx *database.Tx) error {
			var err error
			if imp, err = create(tx.Ent).Save(ctx); err != nil {
				return fmt.Errorf("error creating the import: %w", err)
			}
			return sched.ScheduleImport(ctx, tx, imp.ID, spool, opts)
		})
		if err != nil {
			os.Remove(spool)
			return nil, err
		}
		s.logger.InfoContext(ctx, "client import queued", "import_id", imp.ID, "lines", f.lines-1)
		return imp, nil
	}
	defer os.Remove(spool)
	imp, err := create(s.db.Ent).SetState(clientimport.StateRunning).SetStartedAt(s.now()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("error creating the import: %w", err)
	}
	file, err := os.Open(spool)
	if err != nil {
		return nil, s.failImport(ctx, imp.ID, err)
	}
	defer file.Close()
	return s.runImport(ctx, imp, file, opts)
}

// RunImport runs the queued import id from its spooled file (the job of a
// large import) and removes the file once the import has ended. An import
// that has ended already is left as it is.
func (s *Service) RunImport(ctx context.Context, id int, spool string, opts ImportOptions) (*ent.ClientImport, error) {
	opts = opts.withDefaults()
	imp, err := s.db.Ent.ClientImport.Get(ctx, id)
	if ent.IsNotFound(err) {
		os.Remove(spool)
		return nil, notFound("import", id)
	}
	if err != nil {
		return nil, fmt.Errorf("error loading import %d: %w", id, err)
	}
	if imp.State == clientimport.StateFinished || imp.State == clientimport.StateFailed {
		os.Remove(spool)
		return imp, nil
	}
	f, err := os.Open(spool)
	if err != nil {
		// The file lives on the instance that took the upload.
		_, ferr := s.finishImport(ctx, nil, id, importOutcome{state: clientimport.StateFailed, errs: importErrors{list: []ImportLineError{{Line: 0, Field: FieldFile, Message: "the uploaded file is gone (the instance that took it restarted?): upload it again"}}, count: 1}})
		return nil, cmp.Or(ferr, err)
	}
	defer func() {
		f.Close()
		os.Remove(spool)
	}()
	imp, err = s.db.Ent.ClientImport.UpdateOneID(id).SetState(clientimport.StateRunning).SetStartedAt(s.now()).SetUpdatedAt(s.now()).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("error starting import %d: %w", id, err)
	}
	return s.runImport(ctx, imp, f, opts)
}

// ClientImport returns the import with id, or ErrNotFound; on SQLite, a
// running import as its progress stands in memory. An import not
// heard from in StaleImportAge (queued or running on an instance that
// stopped) is ended as failed first.
func (s *Service) ClientImport(ctx context.Context, id int) (*ent.ClientImport, error) {
	if v, ok := s.running.Load(id); ok {
		return v.(*ent.ClientImport), nil // running on SQLite (progressFunc)
	}
	imp, err := s.db.Ent.ClientImport.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, notFound("import", id)
	}
	if err != nil {
		return nil, fmt.Errorf("error loading import %d: %w", id, err)
	}
	if !ImportEnded(imp) && s.now().Sub(imp.UpdatedAt) > StaleImportAge {
		out := importOutcome{state: clientimport.StateFailed, lines: imp.Lines}
		out.errs.add(ImportLineError{Field: FieldFile, Message: "the import stopped with the instance that ran it; nothing was imported: upload the file again"})
		return s.finishImport(ctx, nil, id, out)
	}
	return imp, nil
}

// StaleImportAge is how long a queued or running import may go without a
// change of its row before it counts as stopped: well above a run's bound
// (the job's timeout) and a wait behind a few other imports of its
// instance. A running import on Postgres writes its row every 50,000 lines.
const StaleImportAge = 15 * time.Minute

// ImportErrors decodes the kept line errors of an import.
func ImportErrors(imp *ent.ClientImport) []ImportLineError {
	out := []ImportLineError{}
	_ = json.Unmarshal([]byte(imp.Errors), &out) // written by finishImport
	return out
}

// ImportEnded reports whether an import is finished or failed.
func ImportEnded(imp *ent.ClientImport) bool {
	return imp.State == clientimport.StateFinished || imp.State == clientimport.StateFailed
}

// spoolPattern names the spooled files of imports in the temporary
// directory.
const spoolPattern = "notify-import-*.csv"

// staleSpoolAge is the age past which a spooled file is an orphan: its
// import ended long ago (a run is bounded well below it) and a process
// that died left it behind.
const staleSpoolAge = time.Hour

var removeStaleSpools sync.Once

// spoolImport copies body into a temporary file, counts its lines and,
// when h is not nil, hashes it into h (SpoolImport). The first call of a
// process removes the orphaned spool files of processes before it.
func spoolImport(body io.Reader, h hash.Hash) (_ *ImportFile, err error) {
	removeStaleSpools.Do(func() {
		old, _ := filepath.Glob(filepath.Join(os.TempDir(), spoolPattern))
		for _, name := range old {
			if fi, err := os.Stat(name); err == nil && time.Since(fi.ModTime()) > staleSpoolAge {
				os.Remove(name)
			}
		}
	})
	f, err := os.CreateTemp("", spoolPattern)
	if err != nil {
		return nil, fmt.Errorf("error creating the import's spool file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("error writing the import's spool file: %w", cerr)
		}
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	c := &lineCounter{w: f, h: h}
	src := &readErr{r: io.LimitReader(body, MaxImportBytes+1)}
	n, err := io.Copy(c, src)
	switch {
	case src.err != nil:
		return nil, fmt.Errorf("%w: %v", ErrImportUnreadable, src.err)
	case err != nil:
		return nil, fmt.Errorf("error writing the import's spool file: %w", err)
	}
	if n > MaxImportBytes {
		return nil, ErrImportTooLarge
	}
	if c.last != '\n' && n > 0 {
		c.lines++
	}
	out := &ImportFile{path: f.Name(), lines: c.lines}
	if h != nil {
		out.SHA256 = h.Sum(nil)
	}
	return out, nil
}

// readErr keeps the error of its reader (io.EOF aside), to tell a broken
// upload from a broken spool file.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// lineCounter counts the newlines written through it, and hashes what it
// writes into h when h is not nil.
type lineCounter struct {
	w     io.Writer
	h     hash.Hash
	lines int
	last  byte
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	if len(p) > 0 {
		c.last = p[len(p)-1]
	}
	if c.h != nil {
		c.h.Write(p) // never fails
	}
	return c.w.Write(p)
}

// importErrors keeps the first MaxImportErrors line errors and counts all.
type importErrors struct {
	list  []ImportLineError
	count int
}

func (e *importErrors) add(errs ...ImportLineError) {
	for _, le := range errs {
		e.count++
		if len(e.list) < MaxImportErrors {
			e.list = append(e.list, le)
		}
	}
}

// sorted returns the kept errors by line (an empty list, not nil, when
// there are none).
func (e *importErrors) sorted() []ImportLineError {
	if e.list == nil {
		return []ImportLineError{}
	}
	slices.SortStableFunc(e.list, func(a, b ImportLineError) int { return cmp.Compare(a.Line, b.Line) })
	if len(e.list) > MaxImportErrors {
		e.list = e.list[:MaxImportErrors]
	}
	return e.list
}

// importOutcome is how an import ended.
type importOutcome struct {
	state             clientimport.State
	lines             int
	imported, skipped int
	errs              importErrors
}

// errImportRefused rolls an import's transaction back: it had invalid
// lines and SkipInvalid was not asked for, or the file as a whole is
// refused.
var errImportRefused = errors.New("import refused")

// runImport imports the file of imp from src in one transaction, and ends
// the import (finishImport): finished with its counts, or failed with its
// errors and nothing written.
//
// An insert-mode import loads its valid lines straight into clients (COPY
// on Postgres) under a savepoint: the usual file, whose phones are new and
// distinct, takes that one pass. When a phone turns out to be taken (by a
// client, or by an earlier line) the pass is undone and the file read
// again through the staging table, where set-based queries name the
// conflicting lines. An upsert always goes through the staging table.
func (s *Service) runImport(ctx context.Context, imp *ent.ClientImport, src io.ReadSeeker, opts ImportOptions) (*ent.ClientImport, error) {
	var out importOutcome
	var ended *ent.ClientImport
	if s.db.Dialect != dialect.Postgres {
		s.running.Store(imp.ID, imp)
		defer s.running.Delete(imp.ID)
	}
	progress := s.progressFunc(ctx, imp.ID)
	err := s.db.InTxOnce(ctx, func(tx *database.Tx) error {
		direct := false
		if opts.Mode == ImportInsert {
			var err error
			if direct, err = s.importDirect(ctx, tx, src, opts, &out, progress); err != nil {
				return err
			}
		}
		if !direct {
			if _, err := src.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("error rereading the import file: %w", err)
			}
			out = importOutcome{}
			if err := s.importStaged(ctx, tx, src, opts, &out, progress); err != nil {
				return err
			}
		}
		out.state = clientimport.StateFinished
		if err := s.recordImport(ctx, tx, imp, out); err != nil {
			return err
		}
		var err error
		ended, err = s.finishImport(ctx, tx, imp.ID, out)
		return err
	})
	switch {
	case errors.Is(err, errImportRefused):
		out.state = clientimport.StateFailed
		out.imported, out.skipped = 0, 0
		return s.finishImport(ctx, nil, imp.ID, out)
	case err != nil:
		return nil, s.failImport(ctx, imp.ID, err)
	}
	return ended, nil
}

// readFile parses src, validates each line and hands the valid ones to
// load, counting the lines and keeping the invalid ones in out. It returns
// the parser (which knows the header) and how many lines were invalid. A
// problem with the file as a whole is errImportRefused.
func (s *Service) readFile(src io.Reader, opts ImportOptions, out *importOutcome, progress func(int), load func(importRow) error) (*csvParser, int, error) {
	p, err := newCSVParser(src, opts.MaxLines)
	if err != nil {
		return nil, 0, s.refuse(out, err)
	}
	invalid := 0
	for {
		row, lineErr, err := p.next()
		if errors.Is(err, io.EOF) {
			return p, invalid, nil
		}
		if err != nil {
			return nil, 0, s.refuse(out, err)
		}
		out.lines++
		if out.lines%progressEvery == 0 {
			progress(out.lines)
		}
		if lineErr != nil {
			out.errs.add(*lineErr)
			invalid++
			continue
		}
		r, errs := p.validate(row)
		if len(errs) > 0 {
			out.errs.add(errs...)
			invalid++
			continue
		}
		if err := load(r); err != nil {
			return nil, 0, err
		}
	}
}

// importDirect loads the valid lines of src straight into clients, under a
// savepoint. It returns false, the savepoint undone, when a phone was
// taken.
func (s *Service) importDirect(ctx context.Context, tx *database.Tx, src io.Reader, opts ImportOptions, out *importOutcome, progress func(int)) (bool, error) {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT import_direct"); err != nil {
		return false, fmt.Errorf("error starting the import: %w", err)
	}
	ld, err := newClientLoader(ctx, tx, s.db.Dialect, dbTime(s.now()))
	if err != nil {
		return false, err
	}
	_, invalid, err := s.readFile(src, opts, out, progress, ld.add)
	if err == nil {
		err = ld.flush()
	}
	if err != nil {
		ld.abort()
		if !sqlgraph.IsUniqueConstraintError(err) {
			return false, err
		}
		if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT import_direct"); err != nil {
			return false, fmt.Errorf("error undoing the import's first pass: %w", err)
		}
		return false, nil
	}
	if out.errs.count > 0 && !opts.SkipInvalid {
		return false, errImportRefused
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT import_direct"); err != nil {
		return false, fmt.Errorf("error ending the import's first pass: %w", err)
	}
	out.imported, out.skipped = out.lines-invalid, invalid
	return true, nil
}

// importStaged loads the valid lines of src into the staging table, adds
// the lines whose phone is taken to the errors, and inserts (or in upsert
// mode, updates) the clients of the others, set-based.
func (s *Service) importStaged(ctx context.Context, tx *database.Tx, src io.Reader, opts ImportOptions, out *importOutcome, progress func(int)) error {
	st, err := newStager(ctx, tx, s.db.Dialect)
	if err != nil {
		return err
	}
	p, invalid, err := s.readFile(src, opts, out, progress, st.add)
	if err != nil {
		st.abort()
		return err
	}
	if err := st.flush(); err != nil {
		return err
	}
	// Lines whose phone comes earlier in the file (and in insert mode,
	// phones that exist): found by the database, set-based.
	dup, err := s.conflictLines(ctx, tx, opts.Mode, &out.errs)
	if err != nil {
		return err
	}
	if out.errs.count > 0 && !opts.SkipInvalid {
		return errImportRefused
	}
	out.skipped = invalid + dup
	if out.imported, err = s.insertStaged(ctx, tx, opts.Mode, p); err != nil {
		return err
	}
	return dropStaging(ctx, tx, s.db.Dialect)
}

// refuse records a file-level error (a *fileError) as the import's error
// and rolls back; any other error is returned as it is.
func (s *Service) refuse(out *importOutcome, err error) error {
	var fe *fileError
	if !errors.As(err, &fe) {
		return err
	}
	out.errs.add(fe.ImportLineError)
	return errImportRefused
}

// failImport ends an import that broke on something other than its file (a
// database error): failed, nothing written. It returns err.
func (s *Service) failImport(ctx context.Context, id int, err error) error {
	s.logger.ErrorContext(ctx, "client import failed", "import_id", id, "error", err)
	out := importOutcome{state: clientimport.StateFailed}
	out.errs.add(ImportLineError{Field: FieldFile, Message: "the import failed; nothing was imported: try again"})
	if _, ferr := s.finishImport(context.WithoutCancel(ctx), nil, id, out); ferr != nil {
		s.logger.ErrorContext(ctx, "error recording the end of a client import", "import_id", id, "error", ferr)
	}
	return err
}

// finishImport is where every import ends, finished or failed: its row takes
// its final state, counts and errors. tx is the import's own transaction
// when it finished (its clients and this row commit together); nil when it
// failed, and the row is then written in a transaction of its own.
func (s *Service) finishImport(ctx context.Context, tx *database.Tx, id int, out importOutcome) (*ent.ClientImport, error) {
	var ended *ent.ClientImport
	write := func(tx *database.Tx) error {
		raw, err := json.Marshal(out.errs.sorted())
		if err != nil {
			return fmt.Errorf("error encoding the errors of import %d: %w", id, err)
		}
		now := s.now()
		ended, err = tx.Ent.ClientImport.UpdateOneID(id).
			SetState(out.state).
			SetLines(out.lines).
			SetImported(out.imported).
			SetSkipped(out.skipped).
			SetErrorCount(out.errs.count).
			SetErrors(string(raw)).
			SetFinishedAt(now).
			SetUpdatedAt(now).
			Save(ctx)
		if err != nil {
			return fmt.Errorf("error ending import %d: %w", id, err)
		}
		return s.announce(ctx, tx, Event{Type: EventImportFinished, Data: map[string]any{
			"import_id": id, "state": string(out.state), "lines": out.lines,
			"imported": out.imported, "skipped": out.skipped, "errors": out.errs.count,
		}})
	}
	var err error
	if tx != nil {
		err = write(tx)
	} else {
		err = s.db.InTx(ctx, write)
	}
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "client import ended", "import_id", id, "state", out.state, "lines", out.lines, "imported", out.imported, "skipped", out.skipped, "errors", out.errs.count)
	return ended, nil
}

// progressEvery is how often (in lines) a running import's row shows its
// progress.
const progressEvery = 50_000

// progressFunc returns what records that an import has read lines lines:
// on Postgres, the row's lines through another connection (the import's
// own transaction shows nothing before it commits); on SQLite, whose one
// connection the import holds until it ends, a copy of the row in memory
// (running), which ClientImport answers from: SQLite means one instance.
func (s *Service) progressFunc(ctx context.Context, id int) func(lines int) {
	if s.db.Dialect != dialect.Postgres {
		return func(lines int) {
			if v, ok := s.running.Load(id); ok {
				imp := *v.(*ent.ClientImport)
				imp.Lines, imp.UpdatedAt = lines, s.now()
				s.running.Store(id, &imp)
			}
		}
	}
	return func(lines int) {
		if _, err := s.db.SQL.ExecContext(ctx, "UPDATE client_imports SET lines = $1, updated_at = $2 WHERE id = $3", lines, s.now(), id); err != nil {
			s.logger.WarnContext(ctx, "error recording an import's progress", "import_id", id, "error", err)
		}
	}
}

// recordImport writes the one audit entry of a finished import.
func (s *Service) recordImport(ctx context.Context, tx *database.Tx, imp *ent.ClientImport, out importOutcome) error {
	changes, err := json.Marshal(map[string]change{
		"mode":     {nil, string(imp.Mode)},
		"lines":    {nil, out.lines},
		"imported": {nil, out.imported},
		"skipped":  {nil, out.skipped},
	})
	if err != nil {
		return err
	}
	if err := tx.Ent.AuditEntry.Create().
		SetAt(dbTime(s.now())).
		SetActor(cmp.Or(imp.Actor, anonymousActor)).
		SetAction(ActionClientImport).
		SetTargetType(TargetImport).
		SetTargetID(imp.ID).
		SetChanges(string(changes)).
		SetRequestID(imp.RequestID).
		Exec(ctx); err != nil {
		return fmt.Errorf("error writing the audit log: %w", err)
	}
	return nil
}

// ImportWait is how often WatchImport looks at an import's row.
const ImportWait = 250 * time.Millisecond

// WatchImport sends the import id at once, then again whenever its row
// changes (looked at every ImportWait), and closes the channel after
// sending it ended, or when ctx ends. Returns ErrNotFound when there is no
// such import. It reads the row, so it follows an import running on any
// instance.
func (s *Service) WatchImport(ctx context.Context, id int) (<-chan *ent.ClientImport, error) {
	imp, err := s.ClientImport(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make(chan *ent.ClientImport, 1)
	go func() {
		defer close(out)
		tick := time.NewTicker(ImportWait)
		defer tick.Stop()
		var last *ent.ClientImport
		for {
			if last == nil || !imp.UpdatedAt.Equal(last.UpdatedAt) || imp.State != last.State || imp.Lines != last.Lines {
				select {
				case out <- imp:
				case <-ctx.Done():
					return
				}
				last = imp
			}
			if ImportEnded(imp) {
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
			next, err := s.ClientImport(ctx, id)
			if err != nil {
				if ctx.Err() == nil {
					s.logger.WarnContext(ctx, "error following an import", "import_id", id, "error", err)
				}
				return
			}
			imp = next
		}
	}()
	return out, nil
}
