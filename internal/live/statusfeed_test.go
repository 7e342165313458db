package live

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/notifyhq/notify/graph/generated"
	"github.com/notifyhq/notify/internal/campaign"
)

// parsedOperation parses and validates query against the schema, as the
// transports do. (graph's tests compare the feed with gqlgen's execution.)
func parsedOperation(tb testing.TB, query string, vars map[string]any) *graphql.OperationContext {
	tb.Helper()
	exec := executor.New(generated.NewExecutableSchema(generated.Config{}))
	ctx := graphql.StartOperationTrace(context.Background())
	rc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars, ReadTime: graphql.TraceTiming{Start: time.Now(), End: time.Now()}})
	require.Empty(tb, errs, query)
	return rc
}

// TestStatusPlanRendersNulls: a client unknown and a commit time not said
// (an older instance) are null, as gqlgen writes a nil pointer.
func TestStatusPlanRendersNulls(t *testing.T) {
	plan, ok := planStatus(parsedOperation(t, `subscription { messageStatusChanged { clientID committedAt messageID } }`, nil))
	require.True(t, ok)
	got := plan.render(nil, &campaign.StatusChange{MessageID: 5})
	require.Equal(t, `{"messageStatusChanged":{"clientID":null,"committedAt":null,"messageID":"5"}}`, string(got))
}

// TestStatusFeedFieldsAreTheSchemas: the feed renders every scalar (and
// enum) field of MessageStatusEvent in graph's schema, and nothing the
// schema does not declare so. A field added to the schema without a
// renderer, or renamed or retyped, fails here (until then, an operation
// selecting it simply runs in gqlgen).
func TestStatusFeedFieldsAreTheSchemas(t *testing.T) {
	schema := generated.NewExecutableSchema(generated.Config{}).Schema()
	def := schema.Types["MessageStatusEvent"]
	require.NotNil(t, def, "MessageStatusEvent in the schema")
	want := []string{"__typename"}
	for _, f := range def.Fields {
		if kind := schema.Types[f.Type.Name()].Kind; kind == ast.Scalar || kind == ast.Enum {
			want = append(want, f.Name)
		}
	}
	got := slices.Collect(maps.Keys(eventFields()))
	require.ElementsMatch(t, want, got, "the schema's scalar fields of MessageStatusEvent and the feed's")
	require.Len(t, renderers, len(want)-1, "a renderer of a field the schema does not have")
}

// TestFieldsOfFollowsTheSchema: a field the schema does not declare, or
// declares with another type, is not rendered by the feed.
func TestFieldsOfFollowsTheSchema(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		scalar Time
		enum MessageStatus { SENT }
		type MessageStatusEvent { messageID: ID! attempts: String at: Time! status: MessageStatus! extra: Int! }
		type Query { x: Int }`})
	got := slices.Sorted(maps.Keys(fieldsOf(schema)))
	require.Equal(t, []string{"__typename", "at", "messageID", "status"}, got)
}
