package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

// TestStatementTimeoutForTheAPI: the API's pool cuts a statement at its
// timeout in Postgres itself; the engine's pool does not.
func TestStatementTimeoutForTheAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.Open(t, testdb.Postgres(t))
	api, err := db.WithStatementTimeout(ctx, 100*time.Millisecond)
	require.NoError(t, err)
	t.Cleanup(func() { api.Close() })
	require.NotSame(t, db, api)

	_, err = api.SQL.ExecContext(ctx, "SELECT pg_sleep(1)")
	require.ErrorContains(t, err, "statement timeout")
	var setting string
	require.NoError(t, api.SQL.QueryRowContext(ctx, "SHOW statement_timeout").Scan(&setting))
	require.Equal(t, "100ms", setting)

	_, err = db.SQL.ExecContext(ctx, "SELECT pg_sleep(0.3)")
	require.NoError(t, err, "the engine's statements are not cut")
	require.Equal(t, db.Schema, api.Schema, "the same schema")
}

// TestStatementTimeoutOnSQLite: SQLite keeps its one connection; the
// operations' deadline is what interrupts a statement there.
func TestStatementTimeoutOnSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.Open(t, testdb.SQLite(t))
	api, err := db.WithStatementTimeout(ctx, time.Second)
	require.NoError(t, err)
	require.Same(t, db, api)
}
