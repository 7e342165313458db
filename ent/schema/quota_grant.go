package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// QuotaGrant is one second of the cluster's request quota to the sending API
// (SENDER_MAX_RPS_CLUSTER): how many requests of that second the instances
// have claimed. internal/quota claims tokens with one atomic upsert and
// deletes old rows; see docs/design.md, "One quota for the cluster".
type QuotaGrant struct {
	ent.Schema
}

// Annotations of the QuotaGrant: internal, not part of the GraphQL schema.
func (QuotaGrant) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Table("quota_grants"),
		entgql.Skip(),
	}
}

// Fields of the QuotaGrant.
func (QuotaGrant) Fields() []ent.Field {
	return []ent.Field{
		// second is the Unix second, by the database's clock, the row counts.
		field.Int64("second").Immutable(),
		// used is how many requests of the second were granted in all.
		field.Int("used").Default(0),
		// last_grant is what the latest claim got, returned to its claimer.
		field.Int("last_grant").Default(0),
	}
}

// Indexes of the QuotaGrant: one row per second, the upsert's conflict target.
func (QuotaGrant) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("second").Unique(),
	}
}
