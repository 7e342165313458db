package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/notifyhq/notify/internal/status"
)

// MessageCount is how many messages of a mailing have a status. Database
// triggers keep it in step with every write to messages (see the
// *_message_count_triggers.sql migrations), so statistics read a handful of
// rows instead of counting millions of messages.
type MessageCount struct {
	ent.Schema
}

// Annotations of the MessageCount: internal, not part of the GraphQL schema.
func (MessageCount) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("message_counts"),
		entgql.Skip(),
	}
}

// Fields of the MessageCount.
func (MessageCount) Fields() []ent.Field {
	return []ent.Field{
		field.Int("mailing_id").Immutable(),
		field.Enum("status").GoType(status.Queued).Immutable(),
		field.Int64("count").Default(0),
	}
}

// Edges of the MessageCount: counts go with their mailing.
func (MessageCount) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("mailing", Mailing.Type).
			Ref("message_counts").
			Field("mailing_id").
			Unique().
			Required().
			Immutable(),
	}
}

// Indexes of the MessageCount: one row per (mailing, status).
func (MessageCount) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("mailing_id", "status").Unique(),
	}
}
