package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// ClientImport is one CSV import of clients (README, "Importing and
// exporting clients"; docs/design.md, "CSV import"): its state, its counts
// and the first invalid lines. A small file is imported within its request
// and its row is written finished; a large one is queued for a River job,
// which keeps the row's counts current while it runs.
type ClientImport struct {
	ent.Schema
}

// Annotations of the ClientImport: graph/import.graphqls declares its
// GraphQL type by hand (states and modes spelled as GraphQL enums).
func (ClientImport) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("client_imports"),
		entgql.Skip(),
	}
}

// Fields of the ClientImport.
func (ClientImport) Fields() []ent.Field {
	return []ent.Field{
		// state: queued (waiting for its job), running, finished (its rows
		// are in), failed (nothing was imported: see errors).
		field.Enum("state").Values("queued", "running", "finished", "failed").Default("queued"),
		// mode: insert (a phone that exists is an error on its line) or
		// upsert (it updates that client).
		field.Enum("mode").Values("insert", "upsert").Default("insert").Immutable(),
		// skip_invalid imports the valid lines of a file that has invalid
		// ones; without it one invalid line imports nothing.
		field.Bool("skip_invalid").Default(false).Immutable(),
		// lines is the data lines read so far (the header not counted).
		field.Int("lines").Default(0),
		// imported is the clients created or updated; skipped the invalid
		// lines left out (skip_invalid only).
		field.Int("imported").Default(0),
		field.Int("skipped").Default(0),
		// error_count counts every invalid line; errors holds the first
		// 1,000 as a JSON array of {line, field, message}.
		field.Int("error_count").Default(0),
		field.Text("errors").Default("[]"),
		// actor and request_id: who asked for it, in which request.
		field.String("actor").Default("").Immutable(),
		field.String("request_id").Default("").Immutable(),
		field.Time("created_at").Default(time.Now).Immutable(),
		field.Time("started_at").Optional().Nillable(),
		field.Time("finished_at").Optional().Nillable(),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now),
	}
}
