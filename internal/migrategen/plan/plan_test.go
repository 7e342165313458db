package plan

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestNoDrift replays the committed migrations of each dialect into an empty
// database and asserts the ent schema needs no further change: the SQL in
// migrations/ is exactly what the schema says.
func TestNoDrift(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"sqlite3", "postgres"} {
		// Not parallel: Atlas keeps package-level state that the race
		// detector flags when two dialects plan at once.
		t.Run(dialect, func(t *testing.T) {
			if dialect == "postgres" {
				requirePostgres(t)
			}
			src := filepath.Join("..", "..", "..", "migrations", dialect)
			require.NoError(t, Validate(src), "atlas.sum matches the files (none was edited by hand)")

			// Diff writes a migration when there is a difference: give it a copy.
			dir := t.TempDir()
			entries, err := os.ReadDir(src)
			require.NoError(t, err)
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(src, e.Name()))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
			}
			err = Diff(context.Background(), dialect, dir, "drift")
			if !errors.Is(err, ErrNoChange) {
				written, _ := os.ReadDir(dir)
				t.Fatalf("the migrations of %s drift from the ent schema (run make generate): %v; files now %v", dialect, err, written)
			}
		})
	}
}

func requirePostgres(t *testing.T) {
	t.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		url = DefaultPostgresURL
	}
	db, err := sql.Open("postgres", url)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Postgres is required with CI=true: %v", err)
		}
		t.Skipf("skipping: no Postgres at TEST_DATABASE_URL (%v)", err)
	}
}
