package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Customer is a client of the directory: someone a mailing can be sent to.
//
// The entity is called Customer only because ent reserves the name Client for
// its generated client; everywhere outside ent (GraphQL, REST, logs) it is a
// "client", and the GraphQL type is named Client.
type Customer struct {
	ent.Schema
}

// Annotations of the Customer. ent/entc.go renames the GraphQL types from
// Customer to Client (entgql.Type("Client") would declare an ent.Client alias,
// which clashes with ent's own Client).
func (Customer) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("clients"),
		entgql.RelayConnection(),
		entgql.QueryField("clients"),
	}
}

// Fields of the Customer. Validation rules live in internal/campaign, which
// names the offending field in its errors; the database keeps the invariants
// that must hold whatever writes (unique phone, lengths).
func (Customer) Fields() []ent.Field {
	return []ent.Field{
		field.String("phone").
			Unique().
			MaxLen(11).
			Annotations(entgql.OrderField("PHONE")),
		field.String("operator_code").
			MaxLen(3),
		field.String("tag").
			Default("").
			Annotations(entgql.OrderField("TAG")),
		field.String("timezone").
			Default("UTC"),
		field.Time("created_at").
			Immutable().
			Default(time.Now).
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now),
	}
}

// Edges of the Customer.
func (Customer) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("messages", Message.Type).
			Annotations(
				entsql.OnDelete(entsql.SetNull),
				entgql.Skip(),
			),
	}
}

// Indexes of the Customer: the client list, the export, the recipient
// selection and the preview's sample filter on operator code, tag or both.
// One (operator_code, tag) index serves all three: a code by its prefix, a
// tag by a scan of the whole index, which deduplication keeps to a few
// thousand entries, one per pair (1–3 ms over 1,000,000 clients). It
// replaced an index on each column: every client written updates one
// low-cardinality index instead of two, the larger part of a CSV import's
// cost in Postgres (docs/benchmarks.md, "CSV import and export"). The
// audience preview counts from client_counts (ClientCount).
func (Customer) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("operator_code", "tag"),
	}
}
