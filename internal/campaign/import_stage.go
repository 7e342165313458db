package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/notifyhq/notify/internal/database"
)

// Loading an import's valid rows: straight into clients (insert mode's
// first pass), or into the staging table, a temporary table of the
// import's transaction from which one set-based statement finds the
// conflicting lines and one inserts the clients. On Postgres rows go
// through COPY (lib/pq), on SQLite through batched multi-row INSERTs.

const stagingDDL = `CREATE TEMP TABLE import_rows (line integer NOT NULL, phone text NOT NULL, operator_code text NOT NULL, tag text NOT NULL, timezone text NOT NULL)`

// loader loads valid rows into a table.
type loader interface {
	add(r importRow) error
	// flush sends what is buffered; the table is complete after it.
	flush() error
	// abort ends a load that failed, so that the transaction can go on
	// (rolled back to a savepoint).
	abort()
}

// Columns of the two targets.
var (
	stagingColumns = []string{"line", "phone", "operator_code", "tag", "timezone"}
	clientColumns  = []string{"phone", "operator_code", "tag", "timezone", "created_at", "updated_at"}
)

// newStager creates the staging table and returns its loader.
func newStager(ctx context.Context, tx *database.Tx, dialectName string) (loader, error) {
	ddl := stagingDDL + " ON COMMIT DROP"
	if dialectName != dialect.Postgres {
		if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS temp.import_rows"); err != nil {
			return nil, fmt.Errorf("error dropping a staging table: %w", err)
		}
		ddl = stagingDDL
	}
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return nil, fmt.Errorf("error creating the staging table: %w", err)
	}
	return newLoader(ctx, tx, dialectName, "import_rows", stagingColumns, func(r importRow, args []any) []any {
		return append(args, r.line, r.phone, r.operatorCode, r.tag, r.timezone)
	})
}

// dropStaging removes the staging table before commit on SQLite (Postgres
// drops it at the end of the transaction by itself).
func dropStaging(ctx context.Context, tx *database.Tx, dialectName string) error {
	if dialectName == dialect.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE temp.import_rows"); err != nil {
		return fmt.Errorf("error dropping the staging table: %w", err)
	}
	return nil
}

// newClientLoader returns the loader of rows straight into clients, created
// and updated at at. COPY takes the time as text, formatted once rather
// than by lib/pq for every row.
func newClientLoader(ctx context.Context, tx *database.Tx, dialectName string, at time.Time) (loader, error) {
	var t any = at
	if dialectName == dialect.Postgres {
		t = at.UTC().Format(time.RFC3339Nano)
	}
	return newLoader(ctx, tx, dialectName, "clients", clientColumns, func(r importRow, args []any) []any {
		return append(args, r.phone, r.operatorCode, r.tag, r.timezone, t, t)
	})
}

// newLoader returns the loader of table: COPY on Postgres, batches on SQLite.
func newLoader(ctx context.Context, tx *database.Tx, dialectName, table string, columns []string, values func(importRow, []any) []any) (loader, error) {
	if dialectName == dialect.Postgres {
		stmt, err := tx.PrepareContext(ctx, "COPY "+table+" ("+strings.Join(columns, ", ")+") FROM STDIN")
		if err != nil {
			return nil, fmt.Errorf("error starting COPY into %s: %w", table, err)
		}
		return &copyLoader{ctx: ctx, stmt: stmt, table: table, values: values}, nil
	}
	return &batchLoader{ctx: ctx, tx: tx, table: table, columns: columns, values: values}, nil
}

// copyLoader streams rows through one COPY statement.
type copyLoader struct {
	ctx    context.Context
	stmt   *sql.Stmt
	table  string
	values func(importRow, []any) []any
	args   []any
	done   bool
}

func (c *copyLoader) add(r importRow) error {
	c.args = c.values(r, c.args[:0])
	if _, err := c.stmt.ExecContext(c.ctx, c.args...); err != nil {
		return fmt.Errorf("error copying into %s: %w", c.table, err)
	}
	return nil
}

func (c *copyLoader) flush() error {
	if c.done {
		return nil
	}
	c.done = true
	if _, err := c.stmt.ExecContext(c.ctx); err != nil {
		c.stmt.Close()
		return fmt.Errorf("error ending COPY into %s: %w", c.table, err)
	}
	if err := c.stmt.Close(); err != nil {
		return fmt.Errorf("error ending COPY into %s: %w", c.table, err)
	}
	return nil
}

// abort ends the COPY: closing the statement ends its protocol exchange.
func (c *copyLoader) abort() {
	if !c.done {
		c.done = true
		_ = c.stmt.Close()
	}
}

// batchRows is how many rows one INSERT of the SQLite loader carries (at
// most 6 parameters each, well under SQLite's 32,766).
const batchRows = 500

// batchLoader inserts rows batchRows at a time.
type batchLoader struct {
	ctx     context.Context
	tx      *database.Tx
	table   string
	columns []string
	values  func(importRow, []any) []any
	args    []any
	stmt    *sql.Stmt
}

func (b *batchLoader) add(r importRow) error {
	b.args = b.values(r, b.args)
	if len(b.args) < batchRows*len(b.columns) {
		return nil
	}
	if b.stmt == nil {
		var err error
		if b.stmt, err = b.tx.PrepareContext(b.ctx, b.insert(batchRows)); err != nil {
			return fmt.Errorf("error preparing the insert into %s: %w", b.table, err)
		}
	}
	if _, err := b.stmt.ExecContext(b.ctx, b.args...); err != nil {
		return fmt.Errorf("error inserting into %s: %w", b.table, err)
	}
	b.args = b.args[:0]
	return nil
}

func (b *batchLoader) flush() error {
	defer b.abort()
	if len(b.args) == 0 {
		return nil
	}
	if _, err := b.tx.ExecContext(b.ctx, b.insert(len(b.args)/len(b.columns)), b.args...); err != nil {
		return fmt.Errorf("error inserting into %s: %w", b.table, err)
	}
	b.args = b.args[:0]
	return nil
}

func (b *batchLoader) abort() {
	if b.stmt != nil {
		b.stmt.Close()
		b.stmt = nil
	}
}

// insert is an INSERT of n rows.
func (b *batchLoader) insert(n int) string {
	row := "(" + strings.Repeat("?,", len(b.columns)-1) + "?)"
	var sb strings.Builder
	sb.WriteString("INSERT INTO " + b.table + " (" + strings.Join(b.columns, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(row)
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

// stagedInsert inserts the staged rows as clients, in the order of the file
// (the staging table's, which is filled in that order: no sort).
const stagedInsert = `INSERT INTO clients (phone, operator_code, tag, timezone, created_at, updated_at) ` +
	`SELECT phone, operator_code, tag, timezone, $1, $1 FROM import_rows WHERE true`

// dialectSQL spells the $n parameters of q as SQLite's ?n there.
func (s *Service) dialectSQL(q string) string {
	if s.db.Dialect != dialect.Postgres {
		return strings.ReplaceAll(q, "$", "?")
	}
	return q
}

// insertStaged inserts the staged rows as clients in one statement; in upsert mode an existing phone's client takes
// the values of the columns the header names. It returns how many clients
// were created or updated.
func (s *Service) insertStaged(ctx context.Context, tx *database.Tx, mode ImportMode, p *csvParser) (int, error) {
	q := stagedInsert
	if mode == ImportUpsert {
		set := []string{"updated_at = excluded.updated_at"}
		for k, c := range importColumns[1:] {
			if p.has(k + 1) {
				set = append(set, c+" = excluded."+c)
			}
		}
		q += ` ON CONFLICT (phone) DO UPDATE SET ` + strings.Join(set, ", ")
	}
	res, err := tx.ExecContext(ctx, s.dialectSQL(q), dbTime(s.now()))
	if err != nil {
		return 0, phoneTaken(err, "error inserting the imported clients")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("error counting the imported clients: %w", err)
	}
	return int(n), nil
}
