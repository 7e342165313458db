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

// AuditEntry is one write recorded in the audit log (README, "Security",
// "Audit log"; docs/design.md, "Audit log"): who did what to which target,
// when, and in which request. It is written in the transaction of the write
// it records. It has no edge to its target: deleting a client or a mailing
// keeps its entries.
type AuditEntry struct {
	ent.Schema
}

// Annotations of the AuditEntry: a Relay connection for the auditLog query,
// which graph/audit.graphqls declares (admins only) with a where input of
// its own.
func (AuditEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("audit_entries"),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipOrderField),
	}
}

// Fields of the AuditEntry.
func (AuditEntry) Fields() []ent.Field {
	return []ent.Field{
		// at is when the write was made, by the service's clock.
		field.Time("at").Immutable().Default(time.Now),
		// actor is the caller's name: an API token's name, an OIDC JWT's
		// "sub (name)", "anonymous" in open mode; never a credential.
		field.String("actor").Immutable().Default(""),
		// action is what was done: client.create, mailing.pause, …
		field.String("action").Immutable(),
		// target_type and target_id name what it was done to ("client", 42).
		field.String("target_type").Immutable(),
		field.Int("target_id").Immutable(),
		// changes holds the changed fields only, as a JSON object
		// {"field": [before, after]} (null for a side that does not exist).
		field.Text("changes").Immutable().Default("{}"),
		// request_id is the X-Request-Id of the request that made the write
		// ("" for work that no request made).
		field.String("request_id").Immutable().Default(""),
	}
}

// Indexes of the AuditEntry: listed newest first, by target, and pruned by
// age (AUDIT_RETENTION).
func (AuditEntry) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("at"),
		index.Fields("target_type", "target_id"),
	}
}
