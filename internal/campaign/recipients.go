package campaign

import (
	"encoding/json"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"
)

// Who a mailing goes to, in one place: the sending engine selects the
// recipients with these conditions (internal/delivery) and the audience
// preview counts them with the same ones (preview.go), so the preview's
// count is what a mailing created at that moment gets. The conditions are
// on the clients table aliased c; $1 (?1) is the filter's operator codes
// and $2 (?2) its tags, as RecipientArgs encodes them: empty is no
// constraint.
const (
	// MatchPostgres and MatchSQLite are the mailing's filter.
	MatchPostgres = `(cardinality($1::text[]) = 0 OR c.operator_code = ANY($1::text[]))
  AND (cardinality($2::text[]) = 0 OR c.tag = ANY($2::text[]))`
	MatchSQLite = `(json_array_length(?1) = 0 OR c.operator_code IN (SELECT value FROM json_each(?1)))
  AND (json_array_length(?2) = 0 OR c.tag IN (SELECT value FROM json_each(?2)))`

	// OptedOut holds for a client whose phone is opted out (either dialect).
	OptedOut = `EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = c.phone)`

	// RecipientsPostgres and RecipientsSQLite are the recipients: the
	// clients matching the filter whose phone is not opted out.
	RecipientsPostgres = MatchPostgres + `
  AND NOT ` + OptedOut
	RecipientsSQLite = MatchSQLite + `
  AND NOT ` + OptedOut
)

// RecipientArgs returns the arguments $1 and $2 of the recipient conditions
// for f in dialectName's encoding: arrays on Postgres, JSON arrays on SQLite.
func RecipientArgs(dialectName string, f Filter) []any {
	if dialectName == dialect.Postgres {
		return []any{pq.Array(nonNil(f.OperatorCodes)), pq.Array(nonNil(f.Tags))}
	}
	codes, _ := json.Marshal(nonNil(f.OperatorCodes))
	tags, _ := json.Marshal(nonNil(f.Tags))
	return []any{string(codes), string(tags)}
}
