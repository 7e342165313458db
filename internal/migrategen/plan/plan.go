// Package plan computes the migration that brings a migration directory to the
// ent schema, for both dialects. migrategen writes it; the drift test asserts
// it is empty.
package plan

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"text/template"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"  // registers "postgres"
	_ "modernc.org/sqlite" // registers "sqlite"

	entmigrate "github.com/notifyhq/notify/ent/migrate"
)

// DefaultPostgresURL is the local Postgres used when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ErrNoChange is returned by Diff when the directory already matches the schema.
var ErrNoChange = migrate.ErrNoPlan

// Write writes the next migration of dialectName ("sqlite3" or "postgres")
// into dir, or nothing when dir already matches the ent schema. It first
// brings atlas.sum up to date, so hand-written migrations (triggers, which
// ent does not model) take part in the replay.
func Write(ctx context.Context, dialectName, dir, name string) error {
	if err := writeSum(dir); err != nil {
		return err
	}
	err := Diff(ctx, dialectName, dir, name)
	if errors.Is(err, ErrNoChange) {
		return nil
	}
	return err
}

// writeSum rewrites dir's atlas.sum from its files.
func writeSum(dir string) error {
	d, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("error opening %s: %w", dir, err)
	}
	sum, err := d.Checksum()
	if err != nil {
		return fmt.Errorf("error summing %s: %w", dir, err)
	}
	return migrate.WriteSumFile(d, sum)
}

// Diff replays dir into a clean dev database and writes the difference to
// the ent schema as a new migration file. It returns ErrNoChange when there is
// none (and writes nothing).
func Diff(ctx context.Context, dialectName, dir, name string) error {
	dev, cleanup, err := devDB(ctx, dialectName)
	if err != nil {
		return err
	}
	defer cleanup()

	d, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("error opening %s: %w", dir, err)
	}
	entDialect := dialect.Postgres
	if dialectName == "sqlite3" {
		entDialect = dialect.SQLite
	}
	m, err := schema.NewMigrate(entsql.OpenDB(entDialect, dev),
		schema.WithDir(d),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(entDialect),
		schema.WithFormatter(gooseFormatter),
		schema.WithErrNoPlan(true),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		return fmt.Errorf("error planning %s migrations: %w", dialectName, err)
	}
	if err := m.NamedDiff(ctx, name, entmigrate.Tables...); err != nil {
		return err
	}
	return nil
}

// Validate checks dir's atlas.sum, which catches hand-edited migration files.
func Validate(dir string) error {
	d, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return err
	}
	return migrate.Validate(d)
}

// devDB opens an empty database to replay migrations into: an in-memory
// SQLite, or a fresh database on Postgres dropped afterwards.
func devDB(ctx context.Context, dialectName string) (*sql.DB, func(), error) {
	if dialectName == "sqlite3" {
		db, err := sql.Open("sqlite", "file:dev?mode=memory&_pragma=foreign_keys(1)")
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(1)
		return db, func() { db.Close() }, nil
	}
	base := DefaultPostgresURL
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		base = v
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	// A whole database, not a schema: Atlas inspects the realm and calls a
	// database with a foreign schema in it "not clean".
	dbName := "migrategen_" + hex.EncodeToString(buf)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+dbName); err != nil {
		admin.Close()
		return nil, nil, fmt.Errorf("error creating dev database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		admin.Close()
		return nil, nil, err
	}
	u.Path = "/" + dbName
	db, err := sql.Open("postgres", u.String())
	if err != nil {
		admin.Close()
		return nil, nil, err
	}
	db.SetMaxOpenConns(1)
	return db, func() {
		db.Close()
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE "+dbName+" WITH (FORCE)")
		admin.Close()
	}, nil
}

// gooseFormatter is Atlas's goose template with one change: a file whose
// statements toggle PRAGMA foreign_keys (SQLite table rebuilds) runs outside
// a transaction, since SQLite ignores that pragma inside one.
var gooseFormatter = func() migrate.Formatter {
	funcs := template.FuncMap{
		"now": func() string { return time.Now().UTC().Format("20060102150405") },
		"notx": func(changes []*migrate.Change) bool {
			for _, c := range changes {
				if strings.Contains(strings.ToUpper(c.Cmd), "PRAGMA FOREIGN_KEYS") {
					return true
				}
			}
			return false
		},
		"rev": func(changes []*migrate.Change) []*migrate.Change {
			out := make([]*migrate.Change, len(changes))
			for i, c := range changes {
				out[len(changes)-1-i] = c
			}
			return out
		},
	}
	name := template.Must(template.New("").Funcs(funcs).Parse("{{ now }}{{ with .Name }}_{{ . }}{{ end }}.sql"))
	body := template.Must(template.New("").Funcs(funcs).Parse(`{{ if notx .Changes }}-- +goose NO TRANSACTION
{{ end }}-- +goose Up
{{ range .Changes }}{{ with .Comment }}-- {{ println . }}{{ end }}{{ printf "%s;\n" .Cmd }}{{ end }}
-- +goose Down
{{ range $c := rev .Changes }}{{ with $stmts := .ReverseStmts }}{{ with $c.Comment }}-- reverse: {{ println . }}{{ end }}{{ range $stmts }}{{ printf "%s;\n" . }}{{ end }}{{ end }}{{ end }}`))
	f, err := migrate.NewTemplateFormatter(name, body)
	if err != nil {
		panic(err)
	}
	return f
}()
