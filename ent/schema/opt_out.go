package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// OptOut is a phone that must never receive a message (docs/product.md,
// "Opt-outs"). It is kept by phone, not by client, so deleting and
// re-creating the client does not undo it; it has no edge to a client.
type OptOut struct {
	ent.Schema
}

// Annotations of the OptOut: a Relay connection for the optOuts query,
// which graph/audience.graphqls declares with a where input of its own.
func (OptOut) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("opt_outs"),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput),
	}
}

// Fields of the OptOut. The phone is validated as a client's
// (internal/campaign); the unique index keeps one row per phone.
func (OptOut) Fields() []ent.Field {
	return []ent.Field{
		field.String("phone").
			Unique().
			Immutable().
			MaxLen(11).
			Annotations(entgql.OrderField("PHONE")),
		// reason is the operator's words, copied into the last error of the
		// messages the opt-out cancels.
		field.String("reason").
			Default("").
			MaxLen(500),
		field.Time("created_at").
			Immutable().
			Default(time.Now).
			Annotations(entgql.OrderField("CREATED_AT")),
		// created_by is the caller's name, as in the audit log.
		field.String("created_by").
			Immutable().
			Default(""),
	}
}
