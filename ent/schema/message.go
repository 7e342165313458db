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

	"github.com/notifyhq/notify/internal/status"
)

// Message is one mailing sent to one client: at most one per (mailing, client)
// pair. Its row carries the whole per-recipient sending state (attempts, next
// attempt, last error), so a batch job that re-runs never repeats a message
// that already reached a terminal status.
type Message struct {
	ent.Schema
}

// Annotations of the Message.
func (Message) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("messages"),
		entgql.RelayConnection(),
	}
}

// Fields of the Message. phone and timezone are copied from the client when
// recipients are selected, so statistics keep the phone a message went to
// after the client is deleted; text is frozen at the first attempt.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.Int("mailing_id").
			Immutable().
			Annotations(entgql.Skip()),
		field.Int("customer_id").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.String("phone"),
		field.String("timezone").
			Default("UTC").
			Annotations(entgql.Skip()),
		field.Text("text").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Enum("status").
			GoType(status.Queued).
			Default(string(status.Queued)).
			Annotations(entgql.Type("MessageStatus")),
		field.Int("attempts").
			Default(0),
		field.Time("next_attempt_at").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.String("last_error").
			Optional().
			Nillable(),
		field.Time("sent_at").
			Optional().
			Nillable(),
		field.Time("created_at").
			Immutable().
			Default(time.Now),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.Skip()),
	}
}

// Edges of the Message. Deleting a mailing deletes its messages; deleting a
// client keeps what was sent to it (customer_id becomes NULL).
func (Message) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("mailing", Mailing.Type).
			Ref("messages").
			Field("mailing_id").
			Unique().
			Required().
			Immutable(),
		edge.From("customer", Customer.Type).
			Ref("messages").
			Field("customer_id").
			Unique().
			Annotations(entgql.MapsTo("client")),
	}
}

// Indexes of the Message: one message per (mailing, client); the unsent or
// per-status messages of a mailing by id (a batch's due messages, cancel,
// expiry, a mailing's messages by status, a page at a time). The id in the
// status index matters: without it a batch's query reads every unsent
// message of the mailing, and a new mailing's id has no statistics to warn
// the planner. Statistics read message_counts instead of counting rows, so
// there is no index on status alone: every status write would have to
// update it.
func (Message) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("mailing_id", "customer_id").Unique(),
		index.Fields("mailing_id", "status", "id"),
		// Deleting a client cancels its unsent messages and sets
		// customer_id to NULL on the rest: both find them by customer_id.
		index.Fields("customer_id"),
	}
}
