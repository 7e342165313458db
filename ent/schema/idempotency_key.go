package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// IdempotencyKey is a key a caller sent with a create (an Idempotency-Key
// header on a REST POST, idempotencyKey on a GraphQL create mutation):
// inserting the row claims the key, so of several requests with one key
// exactly one runs (README, "Idempotency keys"; docs/design.md). Rows older
// than 24 hours are pruned by a periodic job.
type IdempotencyKey struct {
	ent.Schema
}

// Annotations of the IdempotencyKey: not part of the GraphQL schema.
func (IdempotencyKey) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("idempotency_keys"),
		entgql.Skip(entgql.SkipAll),
	}
}

// Fields of the IdempotencyKey.
func (IdempotencyKey) Fields() []ent.Field {
	return []ent.Field{
		// principal is the caller's name (as in the audit log): two callers
		// may use the same key without meeting.
		field.String("principal").
			Immutable(),
		field.String("key").
			Immutable().
			MaxLen(255),
		// request_hash is the SHA-256 of what the request asks (the
		// operation or route and its body), hex: the same key with another
		// request is refused.
		field.String("request_hash").
			Immutable(),
		// state is in_progress while the first request runs, done once its
		// response is stored.
		field.Enum("state").
			Values("in_progress", "done").
			Default("in_progress"),
		// response_status and response_body are the first response, replayed
		// to a repeat: an HTTP status and body for REST, the result's JSON
		// for GraphQL (status 200).
		field.Int("response_status").
			Default(0),
		field.Bytes("response_body").
			Optional().
			Nillable(),
		field.Time("created_at").
			Immutable().
			Default(time.Now),
	}
}

// Indexes of the IdempotencyKey: the unique (principal, key) is the claim;
// created_at serves the pruning.
func (IdempotencyKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("principal", "key").Unique(),
		index.Fields("created_at"),
	}
}
