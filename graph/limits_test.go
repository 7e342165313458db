package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// limitsExecutor is gqlgen's executor set up as the handler sets it up.
func limitsExecutor(t *testing.T) *executor.Executor {
	t.Helper()
	cfg := HandlerConfig{Logger: slog.New(slog.DiscardHandler), Introspection: true}
	exec := executor.New(executableSchema(cfg))
	setUpExecution(exec, cfg)
	return exec
}

// create parses, validates and checks query as every transport does.
func create(exec *executor.Executor, query string, vars map[string]any) (*graphql.OperationContext, gqlerror.List) {
	ctx := graphql.StartOperationTrace(context.Background())
	now := time.Now()
	return exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars, ReadTime: graphql.TraceTiming{Start: now, End: now}})
}

// fragmentBomb is a query of n fragments, each spreading the next one
// twice: 2^n fields in n lines.
func fragmentBomb(n int) string {
	var sb strings.Builder
	sb.WriteString("query { generalStatistics { ...F0 } }\n")
	for i := range n {
		fmt.Fprintf(&sb, "fragment F%d on GeneralStatistics { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&sb, "fragment F%d on GeneralStatistics { mailings }\n", n)
	return sb.String()
}

// TestFragmentBombRefusedAtOnce: each fragment is walked once, so a
// document describing 2^40 fields costs as much to check as its 40 lines.
// (The walk that followed every spread took 0.4 s at 20 levels and about
// four times longer per two more.)
func TestFragmentBombRefusedAtOnce(t *testing.T) {
	t.Parallel()
	exec := limitsExecutor(t)
	start := time.Now()
	_, errs := create(exec, fragmentBomb(40), nil)
	took := time.Since(start)
	require.Len(t, errs, 1)
	require.Equal(t, CodeComplexityLimit, errs[0].Extensions["code"], "%v", errs)
	require.Contains(t, errs[0].Message, "exceeds the limit")
	t.Logf("a 40-level fragment bomb refused in %s", took)
	require.Less(t, took, 2*time.Second, "a bound to catch a walk of every spread, not a benchmark")
}

// TestOperationCostAsGqlgen: the memoised walk computes the complexity
// gqlgen's calculator computes, for the operations the project sends.
func TestOperationCostAsGqlgen(t *testing.T) {
	t.Parallel()
	exec := limitsExecutor(t)
	es := executableSchema(HandlerConfig{})
	for _, q := range []string{
		`{ generalStatistics { mailings messages byStatus { status count } } }`,
		`{ clients(first: 50) { totalCount edges { node { id phone tag } } } }`,
		`{ mailings(first: 20) { edges { node { id status messages(first: 10) { edges { node { id status } } } } } } }`,
		`query Q($n: Int) { mailings(first: $n) { edges { ...M } } } fragment M on MailingEdge { node { id text } }`,
		`{ generalStatistics { perMailing(limit: 5) { mailingID total } } }`,
		fragmentBomb(8),
	} {
		vars := map[string]any{"n": 7}
		rc, errs := create(exec, q, vars)
		require.Empty(t, errs, q)
		w := costWalker{ctx: context.Background(), es: es, schema: es.Schema(), vars: rc.Variables, fragments: map[*ast.FragmentDefinition]*cost{}}
		got := w.selections(rc.Operation.SelectionSet)
		want := complexity.Calculate(context.Background(), es, rc.Operation, rc.Variables)
		require.Equal(t, want, got.complexity, q)
	}
}

// TestIntrospectionQueriesPass: the introspection query of graphql-js (what
// GraphiQL, GraphQL Code Generator, Apollo's tooling and Postman send) is 13
// levels deep; introspection fields do not count against the depth limit.
// Operations nested too deep outside introspection still fail.
func TestIntrospectionQueriesPass(t *testing.T) {
	t.Parallel()
	exec := limitsExecutor(t)
	for _, file := range []string{"testdata/introspection.graphql", "testdata/introspection-all-options.graphql"} {
		q, err := os.ReadFile(file)
		require.NoError(t, err)
		rc, errs := create(exec, string(q), nil)
		require.Empty(t, errs, file)
		resp, ctx := exec.DispatchOperation(context.Background(), rc)
		r := resp(ctx)
		require.Empty(t, r.Errors, file)
		require.Contains(t, string(r.Data), `"name":"createMailing"`, file)
	}
	deep := `{ mailings { edges { node { messages { edges { node { mailing { messages { edges { node { mailing { messages { edges { node { id } } } } } } } } } } } } } } }`
	_, errs := create(exec, deep, nil)
	require.Len(t, errs, 1)
	require.Equal(t, CodeDepthLimit, errs[0].Extensions["code"])
}

// TestParserTokenLimit: the parser stops at the token limit.
func TestParserTokenLimit(t *testing.T) {
	t.Parallel()
	exec := limitsExecutor(t)
	q := "{ " + strings.Repeat("__typename ", 10001) + "}"
	_, errs := create(exec, q, nil)
	require.NotEmpty(t, errs)
	require.Contains(t, errs[0].Message, "token limit")
}

// TestLimitBody: a body over the limit is answered 413 with a GraphQL
// error, whether its length is announced or not; one within it reaches the
// handler whole.
func TestLimitBody(t *testing.T) {
	t.Parallel()
	var got int
	h := LimitBody(1024, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, err := buf.ReadFrom(r.Body)
		require.NoError(t, err)
		got = buf.Len()
	}))
	do := func(body []byte, chunked bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		if chunked {
			r.ContentLength = -1
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	for _, chunked := range []bool{false, true} {
		got = -1
		w := do(bytes.Repeat([]byte("x"), 1025), chunked)
		require.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
		require.Equal(t, -1, got, "the handler never runs")
		var body struct{ Errors gqlerror.List }
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
		require.Equal(t, CodeRequestTooLarge, body.Errors[0].Extensions["code"])

		w = do(bytes.Repeat([]byte("x"), 1024), chunked)
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, 1024, got)
	}
}

// TestWideSelectionRefusedBeforeValidation: a selection set collecting
// more than 250 fields (fragments included) is refused before gqlparser
// compares its fields pairwise; the project's queries and the introspection
// query are far below it.
func TestWideSelectionRefusedBeforeValidation(t *testing.T) {
	t.Parallel()
	wide := "{ " + strings.Repeat("__typename ", 9000) + "}"
	require.Equal(t, 9000, widestSelection(wide, 10000))
	viaFragments := "{ generalStatistics { ...A ...A2 } } fragment A on GeneralStatistics { " + strings.Repeat("mailings ", 200) +
		"} fragment A2 on GeneralStatistics { ...A }"
	require.Equal(t, 400, widestSelection(viaFragments, 10000))
	q, err := os.ReadFile("testdata/introspection.graphql")
	require.NoError(t, err)
	require.Less(t, widestSelection(string(q), 10000), 20)

	srv := httptest.NewServer(NewHandler(HandlerConfig{Logger: slog.New(slog.DiscardHandler), Introspection: true}))
	t.Cleanup(srv.Close)
	start := time.Now()
	body, _ := json.Marshal(map[string]string{"query": wide})
	resp, err := http.Post(srv.URL, "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct{ Errors gqlerror.List }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	t.Logf("refused in %s", time.Since(start))
	require.Len(t, out.Errors, 1)
	require.Equal(t, CodeComplexityLimit, out.Errors[0].Extensions["code"])
	require.Contains(t, out.Errors[0].Message, "9000 fields")
}
