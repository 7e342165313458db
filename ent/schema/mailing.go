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

// Mailing is an SMS campaign: a text sent to the clients matching a filter
// between start_at and end_at, optionally only inside a daily window of each
// client's local time.
type Mailing struct {
	ent.Schema
}

// Annotations of the Mailing.
func (Mailing) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("mailings"),
		entgql.RelayConnection(),
		entgql.QueryField("mailings"),
	}
}

// Fields of the Mailing. The filter is two lists (empty = no constraint) and
// the send window two optional "HH:MM" values; GraphQL exposes them as the
// ClientFilter and SendWindow objects, written by hand in graph/mailing.graphqls.
func (Mailing) Fields() []ent.Field {
	return []ent.Field{
		field.Time("start_at").
			Annotations(entgql.OrderField("START_AT")),
		field.Time("end_at").
			Annotations(entgql.OrderField("END_AT")),
		field.Text("text"),
		field.Strings("filter_operator_codes").
			Default([]string{}).
			Annotations(entgql.Skip()),
		field.Strings("filter_tags").
			Default([]string{}).
			Annotations(entgql.Skip()),
		field.String("window_from").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.String("window_to").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Enum("status").
			GoType(status.Scheduled).
			Default(string(status.Scheduled)).
			Annotations(entgql.Type("MailingStatus"), entgql.OrderField("STATUS")),
		// The highest client id when the mailing started: recipients are
		// selected a chunk of clients at a time up to it, so a restarted
		// start resumes the same selection and a client added meanwhile is
		// not a recipient. Unset until the mailing starts.
		field.Int("recipients_through").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		// When the last chunk of recipients was selected: until then the
		// mailing cannot finish, however many of its messages are sent.
		field.Time("recipients_selected_at").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		// Where this mailing's lifecycle events are sent instead of
		// WEBHOOK_URL (graph/webhook.graphqls exposes it as webhookUrl).
		field.Text("webhook_url").
			Optional().
			Nillable().
			Annotations(entgql.Skip()),
		field.Time("created_at").
			Immutable().
			Default(time.Now).
			Annotations(entgql.OrderField("CREATED_AT")),
		field.Time("updated_at").
			Default(time.Now).
			UpdateDefault(time.Now).
			Annotations(entgql.Skip()),
	}
}

// Edges of the Mailing.
func (Mailing) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("messages", Message.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(),
			),
		edge.To("message_counts", MessageCount.Type).
			Annotations(
				entsql.OnDelete(entsql.Cascade),
				entgql.Skip(),
			),
	}
}

// Indexes of the Mailing: the daily report selects mailings active in a period.
func (Mailing) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status"),
		index.Fields("start_at", "end_at"),
	}
}
