package live

import (
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/stretchr/testify/require"

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
