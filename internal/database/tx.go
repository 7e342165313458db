package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/notifyhq/notify/ent"
)

// Tx is one database transaction seen two ways: as the *sql.Tx River's
// InsertTx takes, and as an ent client bound to it. ent keeps the *sql.Tx of
// its own transactions private, so the transaction is begun here and ent is
// handed it (docs/design.md, "One database, two dialects, one code path").
type Tx struct {
	*sql.Tx
	// Ent is an ent client whose every query runs in the transaction.
	Ent *ent.Client
}

// InTx runs fn in a transaction, committing when it returns nil and rolling
// back otherwise (also when it panics). A transaction that Postgres aborts
// as a deadlock victim or serialization failure is run again (fn must not
// have effects outside the transaction), up to three times.
func (db *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for range 3 {
		if err = db.inTx(ctx, fn); !Retryable(err) {
			return err
		}
	}
	return err
}

// InTxOnce is InTx without the retry, for a transaction that has effects
// outside the database (the sending engine's admission starts requests).
func (db *DB) InTxOnce(ctx context.Context, fn func(tx *Tx) error) error {
	return db.inTx(ctx, fn)
}

// Retryable reports whether err is a Postgres deadlock or serialization
// failure, after which the whole transaction may simply be run again.
func Retryable(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "40P01" || pqErr.Code == "40001"
	}
	return false
}

func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("error beginning transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	tx := &Tx{Tx: sqlTx, Ent: ent.NewClient(ent.Driver(txDriver{entsql.NewDriver(db.Dialect, entsql.Conn{ExecQuerier: sqlTx})}))}
	if err := fn(tx); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("error committing transaction: %w", err)
	}
	return nil
}

// txDriver is an ent driver over a *sql.Tx whose Tx method nests harmlessly:
// entsql.Driver.Tx would type-assert a *sql.DB and panic.
type txDriver struct{ *entsql.Driver }

func (d txDriver) Tx(context.Context) (dialect.Tx, error) { return dialect.NopTx(d), nil }
func (d txDriver) Close() error                           { return nil }
