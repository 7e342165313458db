// Package testdb gives each test a database of its own, built from the
// project's migrations the way production builds it: a SQLite file in the
// test's temporary directory, or a fresh schema on the test Postgres.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/lib/pq" // registers "postgres"

	"github.com/notifyhq/notify/internal/database"
)

// DefaultPostgresURL is the Postgres used when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL returns the DSN of the test Postgres server.
func PostgresURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return DefaultPostgresURL
}

// SQLite returns a DATABASE_URL for a new SQLite file owned by t.
func SQLite(t testing.TB) string {
	t.Helper()
	return "sqlite:" + t.TempDir() + "/notify.db"
}

// Postgres returns a DATABASE_URL for a new, empty schema on the test
// Postgres, dropped when t ends. Without a reachable Postgres the test is
// skipped — or fails when CI=true, where the Postgres suite must run.
func Postgres(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	admin, err := sql.Open("postgres", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Postgres is required with CI=true but unreachable at TEST_DATABASE_URL: %v", err)
		}
		t.Skipf("skipping: no Postgres at TEST_DATABASE_URL (%v)", err)
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	schema := "test_" + hex.EncodeToString(buf)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parsing TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Kinds are the databases every test runs on, by name: URL gives a test a
// new one (SQLite or Postgres).
var Kinds = []struct {
	Name string
	URL  func(testing.TB) string
}{{"sqlite", SQLite}, {"postgres", Postgres}}

// Each runs fn as a parallel subtest on each of Kinds.
func Each(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(kind.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, kind.URL(t))
		})
	}
}

// Open opens the database at databaseURL for t, closed when t ends.
func Open(t testing.TB, databaseURL string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatalf("opening the test database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Migrated opens the database at databaseURL for t, as Open does, and
// migrates it.
func Migrated(t testing.TB, databaseURL string) *database.DB {
	t.Helper()
	db := Open(t, databaseURL)
	if err := db.Migrate(context.Background(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("migrating the test database: %v", err)
	}
	return db
}
