package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/notifyhq/notify/internal/status"
)

// WebhookDelivery is one event sent, or to be sent, to one webhook receiver
// (README, "Webhooks"; docs/design.md, "Webhooks"): written in the
// transaction of the change it announces, with the River job that delivers
// it, and updated after every attempt. It has no edge to its mailing:
// deleting a mailing keeps its deliveries.
type WebhookDelivery struct {
	ent.Schema
}

// Annotations of the WebhookDelivery: a Relay connection for the
// webhookDeliveries query, which graph/webhook.graphqls declares with a where
// input of its own.
func (WebhookDelivery) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("webhook_deliveries"),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField),
	}
}

// Fields of the WebhookDelivery.
func (WebhookDelivery) Fields() []ent.Field {
	return []ent.Field{
		// webhook_id is the event's id, sent as the webhook-id header and
		// the same on every attempt, so a receiver can drop repeats.
		field.String("webhook_id").Immutable().Unique(),
		// event is what happened: mailing.started, mailing.finished,
		// mailing.cancelled, mailing.expired, import.finished.
		field.String("event").Immutable(),
		// mailing_id is the mailing the event is about; none for an import.
		field.Int("mailing_id").Optional().Nillable().Immutable(),
		// url is where it is sent: the mailing's webhook_url, else WEBHOOK_URL.
		field.Text("url").Immutable(),
		// payload is the JSON body sent, signed, on every attempt.
		field.Text("payload").Immutable(),
		// state: pending (being tried), delivered (a 2xx answer), failed
		// (given up after the last attempt).
		field.Enum("state").GoType(status.Pending).Default(string(status.Pending)).
			Annotations(entgql.Type("WebhookDeliveryState")),
		field.Int("attempts").Default(0),
		// last_status is the HTTP status of the last answer; none when the
		// last attempt got no answer (timeout, connection closed).
		field.Int("last_status").Optional().Nillable(),
		field.Text("last_error").Optional().Nillable(),
		// next_attempt_at is when the next attempt is due; none once
		// delivered or failed.
		field.Time("next_attempt_at").Optional().Nillable(),
		field.Time("delivered_at").Optional().Nillable(),
		field.Time("created_at").Immutable().Default(time.Now),
	}
}

// Indexes of the WebhookDelivery: listed newest first, by event and mailing.
func (WebhookDelivery) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("mailing_id"),
		index.Fields("event"),
	}
}
