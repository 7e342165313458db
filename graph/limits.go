package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/felixge/httpsnoop"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/notifyhq/notify/internal/campaign"
)

// Limits bound what one request may make the server do (README, "Security").
// The zero value of a field takes its default.
type Limits struct {
	// MaxBodyBytes bounds a request body to /query (GRAPHQL_MAX_BODY,
	// 1 MiB): larger ones are answered 413 before they are read.
	MaxBodyBytes int64
	// MaxTokens bounds the tokens the parser reads from one query (10,000;
	// the standard introspection query has about 300).
	MaxTokens int
	// MaxDepth is the deepest selection an operation may make (10);
	// introspection fields do not count, their nesting has a limit of its
	// own in gqlparser's validation.
	MaxDepth int
	// MaxComplexity is the complexity budget of an operation (20,000):
	// every field costs 1 and a connection multiplies its selection by its
	// page size.
	MaxComplexity int
	// MaxSubscriptionsPerSocket bounds the live subscriptions of one
	// WebSocket (100).
	MaxSubscriptionsPerSocket int
	// MaxSSEStreams bounds the SSE streams open at once on this instance
	// (1,000).
	MaxSSEStreams int
	// MaxFieldsPerSelection bounds the fields one selection set collects,
	// fragments included (250): validation compares them pairwise.
	MaxFieldsPerSelection int
}

// withDefaults returns l with every unset field at its default.
func (l Limits) withDefaults() Limits {
	orDefault(&l.MaxBodyBytes, 1<<20)
	orDefault(&l.MaxTokens, 10000)
	orDefault(&l.MaxDepth, 10)
	orDefault(&l.MaxComplexity, 20000)
	orDefault(&l.MaxSubscriptionsPerSocket, 100)
	orDefault(&l.MaxSSEStreams, 1000)
	orDefault(&l.MaxFieldsPerSelection, 250)
	return l
}

// orDefault sets *v to d unless it is positive (a count, a size or a
// time.Duration).
func orDefault[T ~int | ~int64](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Error codes of the limits, in extensions.code.
const (
	CodeDepthLimit       = "DEPTH_LIMIT_EXCEEDED"
	CodeComplexityLimit  = "COMPLEXITY_LIMIT_EXCEEDED"
	CodeRequestTooLarge  = "REQUEST_TOO_LARGE"
	maxSelectionsWalked  = 100000
	errWorkLimitExceeded = "operation is too large to check"
)

// operationCost refuses operations nested deeper than maxDepth or more
// complex than maxComplexity. It computes both in one walk in which each
// fragment is visited once and its result remembered: a document whose
// fragments each spread the next one twice describes 2^n fields in n lines,
// and walking every spread (as gqlgen's complexity calculator does) takes
// time of that order. The walk also stops after maxSelectionsWalked
// selections, a bound on its work whatever the document.
//
// The complexity is gqlgen's (complexity.Calculate, with the schema's
// complexity functions), the depth counts fields, not fragments.
type operationCost struct {
	maxDepth, maxComplexity int
	es                      graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*operationCost)(nil)

func (*operationCost) ExtensionName() string { return "OperationCost" }

func (c *operationCost) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *operationCost) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil {
		return nil
	}
	w := costWalker{ctx: ctx, es: c.es, schema: c.es.Schema(), vars: op.Variables, fragments: map[*ast.FragmentDefinition]*cost{}}
	total := w.selections(op.Operation.SelectionSet)
	switch {
	case w.walked > maxSelectionsWalked:
		return codedError(CodeComplexityLimit, errWorkLimitExceeded)
	case total.depth > c.maxDepth:
		return codedError(CodeDepthLimit, fmt.Sprintf("operation is %d levels deep, more than the limit of %d", total.depth, c.maxDepth))
	case total.complexity > c.maxComplexity:
		return codedError(CodeComplexityLimit, fmt.Sprintf("operation has complexity %d, which exceeds the limit of %d", total.complexity, c.maxComplexity))
	}
	return nil
}

// codedError is an error carrying code in extensions.code.
func codedError(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// cost is what a selection set costs: its depth in fields and its
// complexity.
type cost struct{ depth, complexity int }

type costWalker struct {
	ctx       context.Context
	es        graphql.ExecutableSchema
	schema    *ast.Schema
	vars      map[string]any
	fragments map[*ast.FragmentDefinition]*cost // nil value: being walked
	walked    int
}

func (w *costWalker) selections(set ast.SelectionSet) cost {
	var c cost
	for _, s := range set {
		if w.walked++; w.walked > maxSelectionsWalked {
			return c
		}
		var sc cost
		switch s := s.(type) {
		case *ast.Field:
			sc = w.field(s)
		case *ast.InlineFragment:
			sc = w.selections(s.SelectionSet)
		case *ast.FragmentSpread:
			sc = w.fragment(s.Definition)
		}
		c.depth = max(c.depth, sc.depth)
		c.complexity = saturatingAdd(c.complexity, sc.complexity)
	}
	return c
}

func (w *costWalker) fragment(def *ast.FragmentDefinition) cost {
	if def == nil {
		return cost{}
	}
	if c, seen := w.fragments[def]; seen {
		if c == nil { // a cycle; validation refuses those before this runs
			return cost{}
		}
		return *c
	}
	w.fragments[def] = nil
	c := w.selections(def.SelectionSet)
	w.fragments[def] = &c
	return c
}

// field costs as in gqlgen's complexity.Calculate: __schema costs nothing,
// a field's own complexity function when it has one, else 1 plus its
// selection.
func (w *costWalker) field(f *ast.Field) cost {
	if f.Definition == nil || f.ObjectDefinition == nil {
		return cost{depth: 1, complexity: 1}
	}
	typ := w.schema.Types[f.Definition.Type.Name()]
	var child cost
	if typ != nil && (typ.Kind == ast.Object || typ.Kind == ast.Interface || typ.Kind == ast.Union) {
		child = w.selections(f.SelectionSet)
	}
	depth := child.depth + 1
	if strings.HasPrefix(f.Name, "__") {
		depth = 0
	}
	if typ != nil && typ.Name == "__Schema" {
		return cost{depth: depth}
	}
	args := f.ArgumentMap(w.vars)
	var complexity int
	if f.ObjectDefinition.Kind == ast.Interface {
		for _, impl := range w.schema.GetPossibleTypes(f.ObjectDefinition) {
			complexity = max(complexity, w.fieldComplexity(impl.Name, f.Name, child.complexity, args))
		}
	} else {
		complexity = w.fieldComplexity(f.ObjectDefinition.Name, f.Name, child.complexity, args)
	}
	return cost{depth: depth, complexity: complexity}
}

func (w *costWalker) fieldComplexity(typeName, field string, child int, args map[string]any) int {
	if c, ok := w.es.Complexity(w.ctx, typeName, field, child, args); ok && c >= 1 {
		return c
	}
	return saturatingAdd(1, child)
}

// saturatingAdd adds non-negative a and b, stopping at the largest int.
func saturatingAdd(a, b int) int {
	a, b = max(a, 0), max(b, 0)
	if c := a + b; c >= a {
		return c
	}
	return int(^uint(0) >> 1)
}

// MaxUploadBytes bounds a multipart request to /query (an upload, the
// GraphQL multipart request spec): a CSV import of campaign.MaxImportBytes
// and room for its operations and map parts. MAX_BODY_BYTES does not apply
// to it.
const MaxUploadBytes = campaign.MaxImportBytes + 1<<20

// isMultipart reports whether r's body is multipart/form-data (an upload).
func isMultipart(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "multipart/form-data"
}

// LimitBody answers 413, with a GraphQL error body, a request whose body
// is larger than limit, without reading it; a body of unknown length is
// read up to limit+1 bytes first. A multipart request (an upload) is left
// to the multipart transport, which streams its files to disk and stops at
// MaxUploadBytes.
func LimitBody(limit int64, h http.Handler) http.Handler {
	limit = Limits{MaxBodyBytes: limit}.withDefaults().MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Body == nil || r.Body == http.NoBody, isMultipart(r):
		case r.ContentLength > limit:
			tooLarge(w, limit)
			return
		case r.ContentLength >= 0:
			// The server stops the body at its Content-Length.
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		default:
			body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			if int64(len(body)) > limit {
				tooLarge(w, limit)
				return
			}
			if err != nil {
				writeError(w, http.StatusBadRequest, codedError(CodeBadRequest, "the request body could not be read: "+err.Error()))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
		}
		h.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, codedError(CodeRequestTooLarge, fmt.Sprintf("request body is larger than the limit of %d bytes", limit)))
}

// writeError answers status with a GraphQL response holding err.
func writeError(w http.ResponseWriter, status int, err *gqlerror.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(graphql.Response{Errors: gqlerror.List{err}})
}

// JSONByDefault makes the responses of h JSON unless h says otherwise:
// gqlgen writes some of its refusals ("transport not supported", a GET
// query string it cannot parse) without a Content-Type, which would go out
// as text/plain.
func JSONByDefault(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wrote := false
		header := func(code int) { // before the status or the first byte
			if !wrote && w.Header().Get("Content-Type") == "" && code != http.StatusSwitchingProtocols {
				w.Header().Set("Content-Type", "application/json")
			}
			wrote = true
		}
		// httpsnoop keeps the writer's optional interfaces (Flush for SSE,
		// Hijack for WebSocket upgrades) and Unwrap.
		h.ServeHTTP(httpsnoop.Wrap(w, httpsnoop.Hooks{
			WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
				return func(code int) { header(code); next(code) }
			},
			Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
				return func(p []byte) (int, error) { header(http.StatusOK); return next(p) }
			},
			ReadFrom: func(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
				return func(src io.Reader) (int64, error) { header(http.StatusOK); return next(src) }
			},
		}), r)
	})
}

// boundedTransport is a transport whose operations are refused, before
// gqlgen parses and validates them, when one selection set collects more
// than maxFields fields (fragments included). gqlparser's validation
// compares the fields of a selection set pairwise (OverlappingFieldsCanBeMerged):
// { __typename ×9000 }, 45 KB under the token limit, took seconds of CPU
// before any deadline applied. The check parses the query once more and
// walks it with each fragment counted once; queries found fine are
// remembered, so the common case costs a lookup.
type boundedTransport struct {
	graphql.Transport
	maxFields, maxTokens int
	checked              graphql.Cache[struct{}] // queries found within the bounds (small ones)
}

func (t boundedTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.Transport.Do(w, r, boundedExecutor{GraphExecutor: exec, t: t})
}

type boundedExecutor struct {
	graphql.GraphExecutor
	t boundedTransport
}

func (e boundedExecutor) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	if q := params.Query; q != "" {
		if _, ok := e.t.checked.Get(ctx, q); !ok {
			if n := widestSelection(q, e.t.maxTokens); n > e.t.maxFields {
				rc := &graphql.OperationContext{RawQuery: q, Variables: params.Variables, OperationName: params.OperationName,
					Stats: graphql.Stats{Read: params.ReadTime, OperationStart: graphql.Now()}}
				return rc, gqlerror.List{codedError(CodeComplexityLimit,
					fmt.Sprintf("a selection set of %d fields, more than the limit of %d", n, e.t.maxFields))}
			}
			e.t.checked.Add(ctx, q, struct{}{}) // a smallOnly cache
		}
	}
	return e.GraphExecutor.CreateOperationContext(ctx, params)
}

// widestSelection returns the most fields one selection set of query
// collects, fragments included; 0 when it does not parse (gqlgen then
// reports why).
func widestSelection(query string, maxTokens int) int {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxTokens)
	if err != nil {
		return 0
	}
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		frags[f.Name] = f
	}
	counted := map[string]int{} // fields a fragment collects; -1 while counting
	widest := 0
	var collect func(set ast.SelectionSet) int
	collect = func(set ast.SelectionSet) int {
		n := 0
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				n++
				widest = max(widest, collect(s.SelectionSet))
			case *ast.InlineFragment:
				n += collect(s.SelectionSet)
			case *ast.FragmentSpread:
				c, seen := counted[s.Name]
				if !seen {
					counted[s.Name] = -1
					if f := frags[s.Name]; f != nil {
						c = collect(f.SelectionSet)
					}
					counted[s.Name] = c
				}
				n += max(c, 0)
			}
			if n > 1<<20 { // a fragment bomb: anything this wide is refused
				return n
			}
		}
		widest = max(widest, n)
		return n
	}
	for _, op := range doc.Operations {
		collect(op.SelectionSet)
	}
	return widest
}

// smallDocument is the longest query text the caches keep: a valid query
// padded to the body limit would otherwise keep a megabyte (and its
// syntax tree) per entry alive.
const smallDocument = 8 << 10

// smallOnly is a cache that keeps only entries of queries of smallDocument
// bytes or fewer.
type smallOnly[T any] struct{ graphql.Cache[T] }

func (c smallOnly[T]) Add(ctx context.Context, key string, value T) {
	if len(key) <= smallDocument {
		c.Cache.Add(ctx, key, value)
	}
}
