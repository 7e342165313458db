package campaign

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
)

// CSV exports (README, "Importing and exporting clients"), streamed: rows
// are read a page at a time by id (keyset pagination: every page is one
// short query, so the API's statement timeout never cuts an export, and
// memory stays one page), written as each page is read, and flushed after
// each page.

// exportPage is how many rows one query of an export reads.
const exportPage = 5000

// Flusher is what an export flushes after each page (http.Flusher).
type Flusher interface{ Flush() }

// ClientExportFilter selects the clients of an export as GET /clients/
// filters its list: nil fields do not constrain.
type ClientExportFilter struct {
	Tag, OperatorCode *string
}

// ClientExportHeader is the header of a clients export: the import's
// columns, so that an export imports back as it is.
var ClientExportHeader = []string{ColumnPhone, ColumnTag, ColumnTimezone, ColumnOperatorCode}

// ExportClients writes the clients f selects as CSV to w, by id, and
// flushes fl (when not nil) after each page.
func (s *Service) ExportClients(ctx context.Context, w io.Writer, fl Flusher, f ClientExportFilter) (int, error) {
	where, args := []string{"id > $1"}, []any{0}
	if f.Tag != nil {
		args = append(args, *f.Tag)
		where = append(where, "tag = $"+strconv.Itoa(len(args)))
	}
	if f.OperatorCode != nil {
		args = append(args, *f.OperatorCode)
		where = append(where, "operator_code = $"+strconv.Itoa(len(args)))
	}
	q := "SELECT id, phone, tag, timezone, operator_code FROM clients WHERE " + strings.Join(where, " AND ") + " ORDER BY id LIMIT " + strconv.Itoa(exportPage)
	record := make([]string, 4)
	var id int
	return s.exportPages(ctx, w, fl, ClientExportHeader, q, args, func(rows *sql.Rows, cw *csv.Writer) error {
		if err := rows.Scan(&id, &record[0], &record[1], &record[2], &record[3]); err != nil {
			return err
		}
		args[0] = id
		return cw.Write(record)
	})
}

// MessageExportHeader is the header of a mailing's messages export.
var MessageExportHeader = []string{"id", "client_id", "phone", "status", "attempts", "last_error", "created_at", "sent_at", "updated_at"}

// ExportMessages writes the messages of mailing id as CSV to w, by id, and
// flushes fl after each page. Returns ErrNotFound when there is no such
// mailing. Times are RFC 3339 in UTC; a missing client id, error or send
// time is an empty field.
func (s *Service) ExportMessages(ctx context.Context, w io.Writer, fl Flusher, mailingID int) (int, error) {
	if _, err := s.Mailing(ctx, mailingID); err != nil {
		return 0, err
	}
	q := "SELECT id, customer_id, phone, status, attempts, last_error, created_at, sent_at, updated_at FROM messages WHERE id > $1 AND mailing_id = $2 ORDER BY id LIMIT " + strconv.Itoa(exportPage)
	args := []any{0, mailingID}
	record := make([]string, len(MessageExportHeader))
	var (
		id, attempts     int
		clientID         sql.NullInt64
		phone, st        string
		lastError        sql.NullString
		created, updated time.Time
		sent             sql.NullTime
	)
	return s.exportPages(ctx, w, fl, MessageExportHeader, q, args, func(rows *sql.Rows, cw *csv.Writer) error {
		if err := rows.Scan(&id, &clientID, &phone, &st, &attempts, &lastError, &created, &sent, &updated); err != nil {
			return err
		}
		args[0] = id
		record[0] = strconv.Itoa(id)
		record[1] = ""
		if clientID.Valid {
			record[1] = strconv.FormatInt(clientID.Int64, 10)
		}
		record[2], record[3], record[4], record[5] = phone, st, strconv.Itoa(attempts), lastError.String
		record[6] = exportTime(created)
		record[7] = ""
		if sent.Valid {
			record[7] = exportTime(sent.Time)
		}
		record[8] = exportTime(updated)
		return cw.Write(record)
	})
}

func exportTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// exportPages writes header, then runs q page after page (args[0] is the
// last id, which each row's write moves on) until a page comes back short.
// It returns the rows written.
func (s *Service) exportPages(ctx context.Context, w io.Writer, fl Flusher, header []string, q string, args []any, write func(*sql.Rows, *csv.Writer) error) (int, error) {
	if s.db.Dialect != dialect.Postgres {
		q = strings.ReplaceAll(q, "$", "?")
	}
	// A page is written into buf while its rows are read, and buf to w
	// once they are closed: a slow reader never holds a connection (on
	// SQLite, the only one).
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	total := 0
	for {
		rows, err := s.db.SQL.QueryContext(ctx, q, args...)
		if err != nil {
			return total, fmt.Errorf("error reading the export: %w", err)
		}
		n := 0
		for rows.Next() {
			if err := write(rows, cw); err != nil {
				rows.Close()
				return total, fmt.Errorf("error writing the export: %w", err)
			}
			n++
		}
		if err := rows.Close(); err != nil {
			return total, fmt.Errorf("error reading the export: %w", err)
		}
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("error reading the export: %w", err)
		}
		total += n
		cw.Flush()
		if err := cw.Error(); err != nil {
			return total, fmt.Errorf("error writing the export: %w", err)
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return total, fmt.Errorf("error writing the export: %w", err)
		}
		buf.Reset()
		if fl != nil {
			fl.Flush()
		}
		if n < exportPage {
			return total, nil
		}
	}
}
