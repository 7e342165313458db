// Command migrategen writes the next versioned SQL migration of each dialect
// (migrations/postgres, migrations/sqlite3) from the difference between the
// ent schema and the replayed migration directory. It writes nothing when they
// already agree, so `go generate ./...` is idempotent. Run from the repository
// root (go generate does).
//
// The Postgres half needs a reachable, empty-able Postgres (TEST_DATABASE_URL
// or the local default); it replays into a throwaway database there.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/notifyhq/notify/internal/migrategen/plan"
)

func main() {
	name := flag.String("name", "schema", "name of the migration to write when the schema changed")
	flag.Parse()
	ctx := context.Background()

	if err := plan.Write(ctx, "sqlite3", "migrations/sqlite3", *name); err != nil {
		log.Fatalf("sqlite3: %v", err)
	}
	pgURL := os.Getenv("TEST_DATABASE_URL")
	if pgURL == "" {
		pgURL = plan.DefaultPostgresURL
	}
	if err := pingPostgres(ctx, pgURL); err != nil {
		if os.Getenv("CI") == "true" {
			log.Fatalf("postgres: %v", err)
		}
		fmt.Fprintf(os.Stderr, "migrategen: skipping postgres, no database at TEST_DATABASE_URL: %v\n", err)
		return
	}
	if err := plan.Write(ctx, "postgres", "migrations/postgres", *name); err != nil {
		log.Fatalf("postgres: %v", err)
	}
}

func pingPostgres(ctx context.Context, url string) error {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.PingContext(ctx)
}
