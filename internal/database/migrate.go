package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/notifyhq/notify/migrations"
)

// migrationLockKey is the Postgres advisory lock that serializes migrations of
// instances starting together (neither goose's provider without a locker nor
// rivermigrate lock on their own). The value is arbitrary but fixed:
// hashtext('notify.migrate').
const migrationLockKey = 0x6e6f7469

// Migrate applies the service's migrations (goose, from migrations/) and
// River's. On Postgres it holds an advisory lock for the duration, so two
// instances starting at once apply each version exactly once.
func (db *DB) Migrate(ctx context.Context, logger *slog.Logger) error {
	unlock, err := db.lockMigrations(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	provider, err := db.gooseProvider()
	if err != nil {
		return err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("error applying migrations: %w", err)
	}
	for _, r := range results {
		logger.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}

	driver, err := db.RiverDriver(ctx)
	if err != nil {
		return err
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: logger, Schema: db.Schema})
	if err != nil {
		return fmt.Errorf("error creating River migrator: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("error applying River migrations: %w", err)
	}
	for _, v := range res.Versions {
		logger.Info("applied River migration", "version", v.Version, "name", v.Name)
	}
	return nil
}

// Pending reports whether any migration (ours or River's) is not applied yet.
func (db *DB) Pending(ctx context.Context) (bool, error) {
	provider, err := db.gooseProvider()
	if err != nil {
		return false, err
	}
	pending, err := provider.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("error checking migrations: %w", err)
	}
	if pending {
		return true, nil
	}
	driver, err := db.RiverDriver(ctx)
	if err != nil {
		return false, err
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: db.Schema})
	if err != nil {
		return false, fmt.Errorf("error creating River migrator: %w", err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("error checking River migrations: %w", err)
	}
	return !res.OK, nil
}

func (db *DB) gooseProvider() (*goose.Provider, error) {
	name, gooseDialect := "postgres", goose.DialectPostgres
	if db.Dialect == dialect.SQLite {
		name, gooseDialect = "sqlite3", goose.DialectSQLite3
	}
	fsys, err := migrations.FS(name)
	if err != nil {
		return nil, fmt.Errorf("error reading embedded migrations: %w", err)
	}
	p, err := goose.NewProvider(gooseDialect, db.SQL, fsys)
	if err != nil {
		return nil, fmt.Errorf("error loading migrations: %w", err)
	}
	return p, nil
}

// lockMigrations takes the migration advisory lock on Postgres; SQLite has a
// single writer and one process per file.
func (db *DB) lockMigrations(ctx context.Context) (func(), error) {
	if db.Dialect != dialect.Postgres {
		return func() {}, nil
	}
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("error taking a connection for the migration lock: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		conn.Close()
		return nil, fmt.Errorf("error taking the migration lock: %w", err)
	}
	return func() {
		// A fresh context: the lock must be released even when ctx is done.
		_, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLockKey)
		if err != nil && !errors.Is(err, sql.ErrConnDone) {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // the pool drops the conn, ending the session and its lock
		}
		conn.Close()
	}, nil
}
