package campaign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/auditentry"
	"github.com/notifyhq/notify/ent/clientimport"
	"github.com/notifyhq/notify/ent/customer"
	"github.com/notifyhq/notify/internal/sendwindow"
	"github.com/notifyhq/notify/internal/testdb"
)

// onBothDatabases runs fn with a migrated service on SQLite and on Postgres.
func onBothDatabases(t *testing.T, fn func(t *testing.T, s *Service)) {
	for _, kind := range testdb.Kinds {
		t.Run(kind.Name, func(t *testing.T) {
			fn(t, New(Config{DB: testdb.Migrated(t, kind.URL(t)), Logger: slog.New(slog.DiscardHandler)}))
		})
	}
}

func importCSV(t *testing.T, s *Service, csv string, opts ImportOptions) *ent.ClientImport {
	t.Helper()
	imp, err := s.ImportClients(context.Background(), strings.NewReader(csv), opts)
	require.NoError(t, err)
	return imp
}

func clientCount(t *testing.T, s *Service) int {
	t.Helper()
	n, err := s.db.Ent.Customer.Query().Count(context.Background())
	require.NoError(t, err)
	return n
}

// requireRefused checks that imp failed with exactly want as its errors and
// that no client was written.
func requireRefused(t *testing.T, s *Service, imp *ent.ClientImport, want ...ImportLineError) {
	t.Helper()
	require.Equal(t, clientimport.StateFailed, imp.State)
	require.Equal(t, want, ImportErrors(imp))
	require.Equal(t, len(want), imp.ErrorCount)
	require.Zero(t, imp.Imported)
	require.Zero(t, clientCount(t, s), "nothing is half-imported")
}

func TestImportAcceptsBOMCRLFAndQuotedFields(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		csv := "\xEF\xBB\xBFtimezone,Phone,tag\r\n" +
			"Europe/Moscow,79000000001,\"vip, gold\"\r\n" +
			",79000000002,\"two\r\nlines \"\"quoted\"\"\"\r\n" +
			"Asia/Tokyo,79000000003,\r\n"
		imp := importCSV(t, s, csv, ImportOptions{})
		require.Equal(t, clientimport.StateFinished, imp.State, "%s", imp.Errors)
		require.Equal(t, 3, imp.Imported)
		require.Equal(t, 3, imp.Lines)
		got, err := s.db.Ent.Customer.Query().Order(ent.Asc(customer.FieldID)).All(context.Background())
		require.NoError(t, err)
		require.Len(t, got, 3)
		require.Equal(t, []string{"79000000001", "vip, gold", "Europe/Moscow", "900"}, []string{got[0].Phone, got[0].Tag, got[0].Timezone, got[0].OperatorCode})
		// encoding/csv reads a quoted field's CRLF as LF.
		require.Equal(t, []string{"79000000002", "two\nlines \"quoted\"", "UTC"}, []string{got[1].Phone, got[1].Tag, got[1].Timezone})
		require.Equal(t, []string{"79000000003", "", "Asia/Tokyo"}, []string{got[2].Phone, got[2].Tag, got[2].Timezone})
	})
}

func TestImportMissingPhoneColumn(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		imp := importCSV(t, s, "tag,timezone\nvip,UTC\n", ImportOptions{SkipInvalid: true})
		requireRefused(t, s, imp, ImportLineError{Line: 1, Field: FieldHeader, Message: `missing column "phone": the header must name phone and may name tag, timezone, operator_code`})
	})
}

func TestImportUnknownColumn(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		imp := importCSV(t, s, "phone,name\n79000000001,Ann\n", ImportOptions{SkipInvalid: true})
		requireRefused(t, s, imp, ImportLineError{Line: 1, Field: FieldHeader, Message: `unknown column "name": the columns are phone, tag, timezone, operator_code (phone required)`})
	})
}

func TestImportEmptyFile(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		imp := importCSV(t, s, "", ImportOptions{})
		requireRefused(t, s, imp, ImportLineError{Line: 1, Field: FieldHeader, Message: "the file is empty: the first line must be a header naming the columns phone,tag,timezone,operator_code"})
	})
}

// hugeLine is a reader of a file whose third line is n bytes long, made as
// it is read.
func hugeLine(n int) io.Reader {
	return io.MultiReader(strings.NewReader("phone,tag\n79000000001,a\n79000000002,"), io.LimitReader(repeatByte('x'), int64(n)), strings.NewReader("\n"))
}

type repeatByte byte

func (b repeatByte) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestImportRefusesTenMegabyteLine(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		imp, err := s.ImportClients(context.Background(), hugeLine(10<<20), ImportOptions{SkipInvalid: true})
		require.NoError(t, err)
		requireRefused(t, s, imp, ImportLineError{Line: 3, Field: FieldFile, Message: fmt.Sprintf("line 3 is longer than %d bytes", MaxImportLineBytes)})
	})
}

func TestImportInvalidUTF8(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		csv := "phone,tag\n79000000001,ok\n79000000002,bad\xff\xfe\n"
		imp := importCSV(t, s, csv, ImportOptions{})
		requireRefused(t, s, imp, ImportLineError{Line: 3, Field: ColumnTag, Message: "is not valid UTF-8 text"})
		imp = importCSV(t, s, csv, ImportOptions{SkipInvalid: true})
		require.Equal(t, clientimport.StateFinished, imp.State)
		require.Equal(t, 1, imp.Imported)
		require.Equal(t, 1, imp.Skipped)
	})
}

func TestImportTooManyLines(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		var b strings.Builder
		b.WriteString("phone\n")
		for i := range 6 {
			fmt.Fprintf(&b, "7900000000%d\n", i)
		}
		imp := importCSV(t, s, b.String(), ImportOptions{MaxLines: 5, SkipInvalid: true})
		requireRefused(t, s, imp, ImportLineError{Line: 7, Field: FieldFile, Message: "more than 5 lines: the limit of one import is 5 clients"})
	})
}

// TestCSVParserRealLineCap reads 1,000,001 data lines with the real cap:
// the last one is refused, naming its line.
func TestCSVParserRealLineCap(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("phone\n")
	for i := range MaxImportLines + 1 {
		fmt.Fprintf(&b, "7%010d\n", i)
	}
	p, err := newCSVParser(&b, MaxImportLines)
	require.NoError(t, err)
	n := 0
	for {
		_, lineErr, err := p.next()
		if err != nil {
			var fe *fileError
			require.True(t, errors.As(err, &fe), "%v", err)
			require.Equal(t, ImportLineError{Line: MaxImportLines + 2, Field: FieldFile, Message: "more than 1000000 lines: the limit of one import is 1000000 clients"}, fe.ImportLineError)
			break
		}
		require.Nil(t, lineErr)
		n++
	}
	require.Equal(t, MaxImportLines, n)
}

func TestImportAllOrNothing(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		csv := "phone,timezone,operator_code\n79000000001,UTC,\n123,Mars/Base,12\n79000000003\n79000000001,,\n"
		imp := importCSV(t, s, csv, ImportOptions{})
		requireRefused(t, s, imp,
			ImportLineError{Line: 3, Field: ColumnPhone, Message: "must be 7 followed by 10 digits, e.g. 79001234567"},
			ImportLineError{Line: 3, Field: ColumnOperatorCode, Message: "must be exactly 3 digits"},
			ImportLineError{Line: 3, Field: ColumnTimezone, Message: "must be an IANA time zone name such as Europe/Moscow or UTC"},
			ImportLineError{Line: 4, Field: FieldFile, Message: "has 1 fields, the header has 3"},
			ImportLineError{Line: 5, Field: ColumnPhone, Message: "is the same phone as line 2"},
		)
		require.Equal(t, 4, imp.Lines)

		imp = importCSV(t, s, csv, ImportOptions{SkipInvalid: true})
		require.Equal(t, clientimport.StateFinished, imp.State)
		require.Equal(t, 1, imp.Imported)
		require.Equal(t, 3, imp.Skipped)
		require.Equal(t, 5, imp.ErrorCount)
		require.Equal(t, 1, clientCount(t, s))
	})
}

func TestImportInsertModeRefusesExistingPhone(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		_, err := s.CreateClient(ctx, ClientInput{Phone: "79000000002", Tag: new("old")})
		require.NoError(t, err)
		imp := importCSV(t, s, "phone,tag\n79000000001,new\n79000000002,new\n", ImportOptions{})
		require.Equal(t, clientimport.StateFailed, imp.State)
		require.Equal(t, []ImportLineError{{Line: 3, Field: ColumnPhone, Message: "a client with this phone already exists"}}, ImportErrors(imp))
		require.Equal(t, 1, clientCount(t, s))
	})
}

func TestImportUpsertUpdatesNamedColumns(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		old, err := s.CreateClient(ctx, ClientInput{Phone: "79000000002", Tag: new("old"), Timezone: new("Europe/Moscow")})
		require.NoError(t, err)
		imp := importCSV(t, s, "phone,tag\n79000000001,new\n79000000002,new\n", ImportOptions{Mode: ImportUpsert})
		require.Equal(t, clientimport.StateFinished, imp.State, "%s", imp.Errors)
		require.Equal(t, 2, imp.Imported)
		c, err := s.Client(ctx, old.ID)
		require.NoError(t, err)
		require.Equal(t, "new", c.Tag)
		require.Equal(t, "Europe/Moscow", c.Timezone, "a column the header leaves out stays")
		require.Equal(t, 2, clientCount(t, s))
	})
}

func TestImportWritesOneAuditEntry(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		imp := importCSV(t, s, "phone\n79000000001\n79000000002\n79000000003\n", ImportOptions{})
		require.Equal(t, clientimport.StateFinished, imp.State)
		entries, err := s.db.Ent.AuditEntry.Query().All(ctx)
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, ActionClientImport, entries[0].Action)
		require.Equal(t, imp.ID, entries[0].TargetID)
		require.JSONEq(t, `{"mode":[null,"insert"],"lines":[null,3],"imported":[null,3],"skipped":[null,0]}`, entries[0].Changes)
		// A refused import writes nothing, and no entry.
		importCSV(t, s, "phone\n79000000001\n", ImportOptions{})
		n, err := s.db.Ent.AuditEntry.Query().Where(auditentry.Action(ActionClientImport)).Count(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

func TestImportKeepsFirstThousandErrors(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		var b strings.Builder
		b.WriteString("phone\n")
		for range 1500 {
			b.WriteString("bad\n")
		}
		imp := importCSV(t, s, b.String(), ImportOptions{})
		require.Equal(t, clientimport.StateFailed, imp.State)
		require.Equal(t, 1500, imp.ErrorCount)
		errs := ImportErrors(imp)
		require.Len(t, errs, MaxImportErrors)
		require.Equal(t, 2, errs[0].Line)
		require.Equal(t, MaxImportErrors+1, errs[len(errs)-1].Line)
	})
}

// FuzzImportCSV: whatever the file, reading it never panics, every line it
// accepts is a valid client, and every error names a line and a known
// column (or the header, or the file).
func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("phone,tag,timezone,operator_code\n79001234567,vip,Europe/Moscow,900\n"))
	f.Add([]byte("\xEF\xBB\xBFtag,phone\r\n\"a,\"\"b\"\"\nc\",79001234567\r\n"))
	f.Add([]byte("phone\n123\n\"unterminated\n"))
	f.Add([]byte("phone,phone\n"))
	f.Add([]byte("phone,tag\n79001234567,\xff\xfe\n79001234567\n"))
	f.Add([]byte(""))
	known := map[string]bool{ColumnPhone: true, ColumnTag: true, ColumnTimezone: true, ColumnOperatorCode: true, FieldFile: true, FieldHeader: true}
	f.Fuzz(func(t *testing.T, file []byte) {
		p, err := newCSVParser(bytes.NewReader(file), 50)
		var fe *fileError
		if err != nil {
			require.True(t, errors.As(err, &fe), "%v", err)
			require.GreaterOrEqual(t, fe.Line, 1)
			require.True(t, known[fe.Field], fe.Field)
			return
		}
		last := 1
		for {
			row, lineErr, err := p.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				require.True(t, errors.As(err, &fe), "%v", err)
				require.GreaterOrEqual(t, fe.Line, last)
				require.True(t, known[fe.Field], fe.Field)
				return
			}
			if lineErr != nil {
				require.Greater(t, lineErr.Line, last-1)
				continue
			}
			require.Greater(t, row.line, 1)
			require.GreaterOrEqual(t, row.line, last)
			last = row.line
			r, errs := p.validate(row)
			for _, e := range errs {
				require.Equal(t, row.line, e.Line)
				require.True(t, known[e.Field], e.Field)
				require.NotEmpty(t, e.Message)
			}
			if len(errs) == 0 {
				require.True(t, ValidPhone(r.phone), r.phone)
				require.True(t, ValidOperatorCode(r.operatorCode), r.operatorCode)
				require.True(t, ValidFilterText(r.tag) && utf8.RuneCountInString(r.tag) <= MaxTagLength, r.tag)
				_, err := sendwindow.LoadZone(r.timezone)
				require.NoError(t, err)
			}
		}
	})
}

// TestRunImportWithoutItsFile: a queued import whose spooled file is gone
// (the instance that took it restarted) ends failed, saying so.
func TestRunImportWithoutItsFile(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		imp, err := s.db.Ent.ClientImport.Create().Save(ctx)
		require.NoError(t, err)
		_, err = s.RunImport(ctx, imp.ID, t.TempDir()+"/gone.csv", ImportOptions{})
		require.Error(t, err)
		imp, err = s.ClientImport(ctx, imp.ID)
		require.NoError(t, err)
		require.Equal(t, clientimport.StateFailed, imp.State)
		require.Equal(t, []ImportLineError{{Field: FieldFile, Message: "the uploaded file is gone (the instance that took it restarted?): upload it again"}}, ImportErrors(imp))
		// An import that has ended is left as it is.
		again, err := s.RunImport(ctx, imp.ID, t.TempDir()+"/gone.csv", ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, imp.FinishedAt, again.FinishedAt)
	})
}

// TestSpoolRemovesOrphans: a process's first import removes the spooled
// files that dead processes left over an hour ago, and only those.
func TestSpoolRemovesOrphans(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	removeStaleSpools = sync.Once{}
	orphan, recent, other := dir+"/notify-import-1.csv", dir+"/notify-import-2.csv", dir+"/notes.csv"
	for _, name := range []string{orphan, recent, other} {
		require.NoError(t, os.WriteFile(name, []byte("phone\n"), 0o600))
	}
	old := time.Now().Add(-2 * time.Hour)
	require.NoError(t, os.Chtimes(orphan, old, old))
	require.NoError(t, os.Chtimes(other, old, old))
	f, err := SpoolImport(strings.NewReader("phone\n79000000001\n"))
	require.NoError(t, err)
	require.Equal(t, 2, f.lines)
	require.NoFileExists(t, orphan)
	require.FileExists(t, recent)
	require.FileExists(t, other)
	require.FileExists(t, f.path)
	sum := sha256.Sum256([]byte("phone\n79000000001\n"))
	require.Equal(t, sum[:], f.SHA256, "the spooled content's hash")
	f.Remove()
	require.NoFileExists(t, f.path)
}

// TestStaleImportEnds: an import queued or running on an instance that
// stopped (no change of its row for StaleImportAge) reads as failed, and
// stays so when its job runs after all.
func TestStaleImportEnds(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		fresh, err := s.db.Ent.ClientImport.Create().SetCreatedAt(now).SetUpdatedAt(now.Add(-StaleImportAge)).Save(ctx)
		require.NoError(t, err)
		stale, err := s.db.Ent.ClientImport.Create().SetState(clientimport.StateRunning).SetLines(50000).SetCreatedAt(now).SetUpdatedAt(now.Add(-StaleImportAge - time.Second)).Save(ctx)
		require.NoError(t, err)

		got, err := s.ClientImport(ctx, fresh.ID)
		require.NoError(t, err)
		require.Equal(t, clientimport.StateQueued, got.State)

		got, err = s.ClientImport(ctx, stale.ID)
		require.NoError(t, err)
		require.Equal(t, clientimport.StateFailed, got.State)
		require.Equal(t, 50000, got.Lines)
		require.Equal(t, []ImportLineError{{Field: FieldFile, Message: "the import stopped with the instance that ran it; nothing was imported: upload the file again"}}, ImportErrors(got))

		spool := t.TempDir() + "/late.csv"
		require.NoError(t, os.WriteFile(spool, []byte("phone\n79000000001\n"), 0o600))
		late, err := s.RunImport(ctx, stale.ID, spool, ImportOptions{})
		require.NoError(t, err)
		require.Equal(t, clientimport.StateFailed, late.State)
		require.Zero(t, clientCount(t, s))
		require.NoFileExists(t, spool)
	})
}

// TestImportProgressWhileRunning: a running import's lines read so far
// can be seen before it ends — on Postgres in its row, on SQLite (whose
// one connection the import holds) from memory.
func TestImportProgressWhileRunning(t *testing.T) {
	onBothDatabases(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		const lines = 3 * progressEvery
		var b strings.Builder
		b.WriteString("phone\n")
		for i := range lines {
			fmt.Fprintf(&b, "7%010d\n", i)
		}
		spool := t.TempDir() + "/big.csv"
		require.NoError(t, os.WriteFile(spool, []byte(b.String()), 0o600))
		imp, err := s.db.Ent.ClientImport.Create().SetCreatedAt(s.now()).SetUpdatedAt(s.now()).Save(ctx)
		require.NoError(t, err)

		done := make(chan error, 1)
		go func() {
			_, err := s.RunImport(ctx, imp.ID, spool, ImportOptions{})
			done <- err
		}()
		seen := 0
		for running := true; running; {
			select {
			case err := <-done:
				require.NoError(t, err)
				running = false
			default:
				// A read that reached SQLite's one connection as the
				// import's transaction took it waits for the transaction:
				// polls have a deadline, as the API's operations do.
				pctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				got, err := s.ClientImport(pctx, imp.ID)
				cancel()
				if err == nil && got.State == clientimport.StateRunning && got.Lines > 0 {
					seen = max(seen, got.Lines)
				}
			}
		}
		require.GreaterOrEqual(t, seen, progressEvery, "no progress seen while the import ran")
		got, err := s.ClientImport(ctx, imp.ID)
		require.NoError(t, err)
		require.Equal(t, clientimport.StateFinished, got.State)
		require.Equal(t, lines, got.Lines)
		require.Equal(t, lines, clientCount(t, s))
	})
}
