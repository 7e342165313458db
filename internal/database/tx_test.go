package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/testdb"
)

// TestInTx: ent and plain SQL in one transaction commit together, roll
// back together on an error and on a panic (which goes on up).
func TestInTx(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		db := testdb.Migrated(t, dbURL)
		ctx := context.Background()
		count := func() int {
			n, err := db.Ent.Customer.Query().Count(ctx)
			require.NoError(t, err)
			return n
		}
		create := func(tx *database.Tx, phone string) {
			require.NoError(t, tx.Ent.Customer.Create().SetPhone(phone).SetOperatorCode("900").SetTimezone("UTC").Exec(ctx))
			_, err := tx.ExecContext(ctx, `UPDATE clients SET tag = 'sql' WHERE phone = `+map[string]string{"postgres": "$1", "sqlite3": "?"}[db.Dialect], phone)
			require.NoError(t, err)
		}

		require.NoError(t, db.InTx(ctx, func(tx *database.Tx) error { create(tx, "79000000001"); return nil }))
		c, err := db.Ent.Customer.Query().Only(ctx)
		require.NoError(t, err)
		require.Equal(t, "sql", c.Tag, "the SQL of the transaction saw ent's row")

		boom := errors.New("boom")
		require.ErrorIs(t, db.InTx(ctx, func(tx *database.Tx) error { create(tx, "79000000002"); return boom }), boom)
		require.Equal(t, 1, count())

		require.PanicsWithValue(t, "panic", func() {
			_ = db.InTx(ctx, func(tx *database.Tx) error { create(tx, "79000000003"); panic("panic") })
		})
		require.Equal(t, 1, count())
	})
}

// TestInTxRunsAgainAfterDeadlock: a transaction Postgres aborts as a
// deadlock victim or a serialization failure runs again (up to three
// times); InTxOnce and other errors do not.
func TestInTxRunsAgainAfterDeadlock(t *testing.T) {
	t.Parallel()
	db := testdb.Migrated(t, testdb.SQLite(t))
	ctx := context.Background()
	for _, code := range []pqerror.Code{"40P01", "40001"} {
		runs := 0
		err := db.InTx(ctx, func(*database.Tx) error { runs++; return &pq.Error{Code: code} })
		require.True(t, database.Retryable(err))
		require.Equal(t, 3, runs, "code %s", code)
		runs = 0
		_ = db.InTxOnce(ctx, func(*database.Tx) error { runs++; return &pq.Error{Code: code} })
		require.Equal(t, 1, runs)
	}
	runs := 0
	err := db.InTx(ctx, func(*database.Tx) error { runs++; return &pq.Error{Code: "23505"} })
	require.False(t, database.Retryable(err))
	require.Equal(t, 1, runs)
}
