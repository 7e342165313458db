package database_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/testdb"
)

// TestCounterTriggersFromAnySearchPath: the triggers that keep
// client_counts and message_counts find their tables whatever the
// search_path of the session that writes (a script writing schema-qualified
// names from the default search_path failed before).
func TestCounterTriggersFromAnySearchPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.Migrated(t, testdb.Postgres(t))

	outside, err := sql.Open("postgres", testdb.PostgresURL())
	require.NoError(t, err)
	t.Cleanup(func() { outside.Close() })
	s := db.Schema
	_, err = outside.ExecContext(ctx, `INSERT INTO `+s+`.clients (phone, operator_code, tag, timezone, created_at, updated_at)
		VALUES ('79001234567', '900', 'vip', 'UTC', now(), now()), ('79001234568', '900', 'vip', 'UTC', now(), now())`)
	require.NoError(t, err)
	_, err = outside.ExecContext(ctx, `DELETE FROM `+s+`.clients WHERE phone = '79001234568'`)
	require.NoError(t, err)

	var n int
	require.NoError(t, db.SQL.QueryRowContext(ctx, `SELECT count FROM client_counts WHERE operator_code = '900' AND tag = 'vip'`).Scan(&n))
	require.Equal(t, 1, n)
}
