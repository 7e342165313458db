package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"

	"github.com/notifyhq/notify/internal/database"
)

// The staging table of an import: a temporary table of the import's
// transaction holding its valid lines, from which one set-based statement
// finds the conflicting lines and one inserts the clients. On Postgres it is
// filled through COPY (lib/pq), on SQLite by batched multi-row INSERTs.

const stagingDDL = `CREATE TEMP TABLE import_rows (line integer NOT NULL, phone text NOT NULL, operator_code text NOT NULL, tag text NOT NULL, timezone text NOT NULL)`

// stager loads valid rows into the staging table.
type stager interface {
	add(r importRow) error
	// flush sends what is buffered; the table is complete after it.
	flush() error
	// drop removes the table (before commit on SQLite; Postgres drops it
	// at the end of the transaction by itself).
	drop() error
}

func newStager(ctx context.Context, tx *database.Tx, dialectName string) (stager, error) {
	if dialectName == dialect.Postgres {
		if _, err := tx.ExecContext(ctx, stagingDDL+" ON COMMIT DROP"); err != nil {
			return nil, fmt.Errorf("error creating the staging table: %w", err)
		}
		stmt, err := tx.PrepareContext(ctx, "COPY import_rows (line, phone, operator_code, tag, timezone) FROM STDIN")
		if err != nil {
			return nil, fmt.Errorf("error starting COPY into the staging table: %w", err)
		}
		return &copyStager{ctx: ctx, stmt: stmt}, nil
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS temp.import_rows"); err != nil {
		return nil, fmt.Errorf("error dropping a staging table: %w", err)
	}
	if _, err := tx.ExecContext(ctx, stagingDDL); err != nil {
		return nil, fmt.Errorf("error creating the staging table: %w", err)
	}
	return &batchStager{ctx: ctx, tx: tx}, nil
}

// copyStager streams rows through one COPY statement.
type copyStager struct {
	ctx  context.Context
	stmt *sql.Stmt
	done bool
}

func (c *copyStager) add(r importRow) error {
	if _, err := c.stmt.ExecContext(c.ctx, r.line, r.phone, r.operatorCode, r.tag, r.timezone); err != nil {
		return fmt.Errorf("error copying into the staging table: %w", err)
	}
	return nil
}

func (c *copyStager) flush() error {
	if c.done {
		return nil
	}
	c.done = true
	if _, err := c.stmt.ExecContext(c.ctx); err != nil {
		c.stmt.Close()
		return fmt.Errorf("error ending COPY into the staging table: %w", err)
	}
	if err := c.stmt.Close(); err != nil {
		return fmt.Errorf("error ending COPY into the staging table: %w", err)
	}
	return nil
}

func (c *copyStager) drop() error { return nil }

// batchRows is how many rows one INSERT of the SQLite stager carries (5
// parameters each, well under SQLite's 32,766).
const batchRows = 500

// batchStager inserts rows batchRows at a time.
type batchStager struct {
	ctx  context.Context
	tx   *database.Tx
	args []any
	stmt *sql.Stmt
}

func (b *batchStager) add(r importRow) error {
	b.args = append(b.args, r.line, r.phone, r.operatorCode, r.tag, r.timezone)
	if len(b.args) < batchRows*5 {
		return nil
	}
	if b.stmt == nil {
		var err error
		if b.stmt, err = b.tx.PrepareContext(b.ctx, batchInsert(batchRows)); err != nil {
			return fmt.Errorf("error preparing the staging insert: %w", err)
		}
	}
	if _, err := b.stmt.ExecContext(b.ctx, b.args...); err != nil {
		return fmt.Errorf("error inserting into the staging table: %w", err)
	}
	b.args = b.args[:0]
	return nil
}

func (b *batchStager) flush() error {
	if b.stmt != nil {
		defer b.stmt.Close()
	}
	if len(b.args) == 0 {
		return nil
	}
	if _, err := b.tx.ExecContext(b.ctx, batchInsert(len(b.args)/5), b.args...); err != nil {
		return fmt.Errorf("error inserting into the staging table: %w", err)
	}
	b.args = b.args[:0]
	return nil
}

func (b *batchStager) drop() error {
	if _, err := b.tx.ExecContext(b.ctx, "DROP TABLE temp.import_rows"); err != nil {
		return fmt.Errorf("error dropping the staging table: %w", err)
	}
	return nil
}

// batchInsert is an INSERT of n rows into the staging table.
func batchInsert(n int) string {
	var sb strings.Builder
	sb.WriteString("INSERT INTO import_rows (line, phone, operator_code, tag, timezone) VALUES ")
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?,?)")
	}
	return sb.String()
}

// Set-based checks of the staged rows: a phone already on an earlier line
// of the file, and in insert mode a phone some client has.
const (
	duplicateLines   = `SELECT line, first_line FROM (SELECT line, min(line) OVER (PARTITION BY phone) AS first_line FROM import_rows) d WHERE line <> first_line ORDER BY line`
	existingLines    = `SELECT line FROM import_rows WHERE phone IN (SELECT phone FROM clients) ORDER BY line`
	deleteDuplicates = `DELETE FROM import_rows WHERE line IN (SELECT line FROM (SELECT line, min(line) OVER (PARTITION BY phone) AS first_line FROM import_rows) d WHERE line <> first_line)`
	deleteExisting   = `DELETE FROM import_rows WHERE phone IN (SELECT phone FROM clients)`
)

// conflictLines adds an error for every staged line whose phone is on an
// earlier line, or (insert mode) belongs to a client, and removes those
// lines from the staging table. It returns how many lines it found.
func (s *Service) conflictLines(ctx context.Context, tx *database.Tx, mode ImportMode, errs *importErrors) (int, error) {
	n := 0
	rows, err := tx.QueryContext(ctx, duplicateLines)
	if err != nil {
		return 0, fmt.Errorf("error looking for repeated phones: %w", err)
	}
	for rows.Next() {
		var line, first int
		if err := rows.Scan(&line, &first); err != nil {
			rows.Close()
			return 0, fmt.Errorf("error looking for repeated phones: %w", err)
		}
		errs.add(ImportLineError{Line: line, Field: ColumnPhone, Message: fmt.Sprintf("is the same phone as line %d", first)})
		n++
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("error looking for repeated phones: %w", err)
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, deleteDuplicates); err != nil {
			return 0, fmt.Errorf("error removing repeated phones: %w", err)
		}
	}
	if mode != ImportInsert {
		return n, nil
	}
	rows, err = tx.QueryContext(ctx, existingLines)
	if err != nil {
		return 0, fmt.Errorf("error looking for existing phones: %w", err)
	}
	m := 0
	for rows.Next() {
		var line int
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return 0, fmt.Errorf("error looking for existing phones: %w", err)
		}
		errs.add(ImportLineError{Line: line, Field: ColumnPhone, Message: "a client with this phone already exists"})
		m++
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("error looking for existing phones: %w", err)
	}
	if m > 0 {
		if _, err := tx.ExecContext(ctx, deleteExisting); err != nil {
			return 0, fmt.Errorf("error removing existing phones: %w", err)
		}
	}
	return n + m, nil
}

// insertStaged inserts the staged rows as clients, in the order of the
// file, in one statement; in upsert mode an existing phone's client takes
// the values of the columns the header names. It returns how many clients
// were created or updated.
func (s *Service) insertStaged(ctx context.Context, tx *database.Tx, mode ImportMode, p *csvParser) (int, error) {
	q := `INSERT INTO clients (phone, operator_code, tag, timezone, created_at, updated_at) ` +
		`SELECT phone, operator_code, tag, timezone, $1, $1 FROM import_rows WHERE true ORDER BY line`
	if mode == ImportUpsert {
		set := []string{"updated_at = excluded.updated_at"}
		for k, c := range importColumns[1:] {
			if p.has(k + 1) {
				set = append(set, c+" = excluded."+c)
			}
		}
		q += ` ON CONFLICT (phone) DO UPDATE SET ` + strings.Join(set, ", ")
	}
	if s.db.Dialect != dialect.Postgres {
		q = strings.ReplaceAll(q, "$1", "?1")
	}
	res, err := tx.ExecContext(ctx, q, dbTime(s.now()))
	if err != nil {
		return 0, phoneTaken(err, "error inserting the imported clients")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("error counting the imported clients: %w", err)
	}
	return int(n), nil
}
