package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ClientCount is how many clients have one (operator code, tag). Database
// triggers keep it in step with every write to clients (see the
// *_client_count_triggers.sql migrations), so the audience preview counts a
// filter's clients from a handful of rows instead of a million
// (docs/design.md, "Audience preview").
type ClientCount struct {
	ent.Schema
}

// Annotations of the ClientCount: internal, not part of the GraphQL schema.
func (ClientCount) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("client_counts"),
		entgql.Skip(entgql.SkipAll),
	}
}

// Fields of the ClientCount.
func (ClientCount) Fields() []ent.Field {
	return []ent.Field{
		field.String("operator_code").Immutable(),
		field.String("tag").Immutable(),
		field.Int64("count").Default(0),
	}
}

// Indexes of the ClientCount: one row per (operator code, tag).
func (ClientCount) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("operator_code", "tag").Unique(),
	}
}
