// Package migrations holds the schema history of the service's own tables as
// versioned SQL, one directory per dialect, generated from the ent schema by
// internal/migrategen (go generate) and embedded in the binary. River's tables
// are migrated by River's own migrator, next to these.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite3/*.sql
var files embed.FS

// FS returns the migration files of one dialect ("postgres" or "sqlite3").
func FS(dialect string) (fs.FS, error) {
	return fs.Sub(files, dialect)
}
