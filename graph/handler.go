package graph

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/graph/generated"
	"github.com/notifyhq/notify/graph/model"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/live"
	"github.com/notifyhq/notify/internal/report"
	"github.com/notifyhq/notify/internal/status"
)

// HandlerConfig holds what the GraphQL handler needs.
type HandlerConfig struct {
	Service       *campaign.Service
	Ent           *ent.Client
	Logger        *slog.Logger
	Introspection bool
	// Events feeds the subscriptions (messageStatusChanged, mailingProgress).
	Events *event.Bus
	// Shared runs identical status subscriptions once (live.NewHub); nil
	// runs each on its own.
	Shared *live.Hub
	// Reports builds and sends the daily report.
	Reports *report.Service
	// OriginPatterns are the origins allowed to open a WebSocket (host
	// patterns, as coder/websocket takes them); same-origin always is.
	OriginPatterns []string
	// InitFunc checks connection_init of a WebSocket (auth); may be nil.
	InitFunc transport.WebsocketInitFunc
	// Extensions are added to the server after the built-in ones (metrics).
	Extensions []graphql.HandlerExtension
	// Stopping, once cancelled, closes every WebSocket with 1001 (going
	// away) and refuses new ones: graceful shutdown. May be nil.
	Stopping context.Context
	// Auth checks the caller of every operation, whatever its transport
	// (auth.Guard.Operations); it runs before every other check. May be
	// nil: open.
	Auth graphql.HandlerExtension
	// Limits bound what a request may ask for; zero fields take defaults.
	Limits Limits
	// OperationTimeout is the deadline of a query or mutation (30 s when
	// 0); subscriptions have none.
	OperationTimeout time.Duration
}

// NewHandler returns the GraphQL endpoint: POST, GET, WebSocket
// (graphql-transport-ws and legacy graphql-ws) and SSE.
func NewHandler(cfg HandlerConfig) *handler.Server {
	srv := handler.New(executableSchema(cfg))
	limits := cfg.Limits.withDefaults()

	// SSE first: POST would also claim a POST asking for text/event-stream.
	share := func(t graphql.Transport) graphql.Transport { return t }
	// Every transport checks a query's width before gqlgen validates it
	// (see boundedTransport).
	checked := smallOnly[struct{}]{lru.New[struct{}](1000)}
	add := func(t graphql.Transport) {
		srv.AddTransport(boundedTransport{Transport: t, maxFields: limits.MaxFieldsPerSelection, maxTokens: limits.MaxTokens, checked: checked})
	}
	if cfg.Shared != nil {
		share = cfg.Shared.Transport
	}
	add(share(live.SSE(limits.MaxSSEStreams)))
	add(share(live.Websocket(live.WebsocketConfig{
		OriginPatterns:   cfg.OriginPatterns,
		MaxSubscriptions: limits.MaxSubscriptionsPerSocket,
		InitFunc:         cfg.InitFunc,
		Stopping:         cfg.Stopping,
		Refused:          refuseHandshake,
	})))
	add(transport.Options{})
	add(transport.GET{})
	add(transport.POST{})
	// Uploads (importClients) have a cap of their own, not MAX_BODY_BYTES;
	// a file part over 1 MiB goes to a temporary file, not to memory.
	add(transport.MultipartForm{MaxUploadSize: MaxUploadBytes, MaxMemory: min(limits.MaxBodyBytes, 1<<20)})

	setUpExecution(srv, cfg)
	return srv
}

// executableSchema is the schema with its resolvers.
func executableSchema(cfg HandlerConfig) graphql.ExecutableSchema {
	c := generated.Config{Resolvers: &Resolver{Service: cfg.Service, Ent: cfg.Ent, Events: cfg.Events, Logger: cfg.Logger, Reports: cfg.Reports}}
	setComplexity(&c.Complexity)
	return generated.NewExecutableSchema(c)
}

// execution is what sets up how operations run: a handler.Server, or the
// executor.Executor inside one.
type execution interface {
	AroundOperations(graphql.OperationMiddleware)
	AroundResponses(graphql.ResponseMiddleware)
	SetQueryCache(graphql.Cache[*ast.QueryDocument])
	Use(graphql.HandlerExtension)
	SetErrorPresenter(graphql.ErrorPresenterFunc)
	SetRecoverFunc(graphql.RecoverFunc)
	SetParserTokenLimit(int)
}

// setUpExecution adds the middleware, limits and extensions every
// operation runs with.
func setUpExecution(e execution, cfg HandlerConfig) {
	limits := cfg.Limits.withDefaults()
	timeout := cfg.OperationTimeout
	orDefault(&timeout, DefaultOperationTimeout)
	e.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		ctx = withStreamErrors(withLoaders(ctx, cfg.Service))
		if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation == ast.Subscription {
			return next(ctx)
		}
		// The deadline of a query or mutation: database calls made with
		// ctx end with it. Responses are written once next returns.
		ctx, cancel := context.WithTimeout(ctx, timeout)
		responses := next(ctx)
		first := true
		return func(ctx context.Context) *graphql.Response {
			r := responses(ctx)
			if r == nil && first && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				// gqlgen answers nothing on a context already ended.
				r = &graphql.Response{Errors: gqlerror.List{timeoutError()}}
			}
			first = false
			if r == nil || r.HasNext == nil || !*r.HasNext {
				cancel() // the last response (@defer sends several)
			}
			return r
		}
	})
	e.AroundResponses(streamErrorResponses)
	e.SetQueryCache(smallOnly[*ast.QueryDocument]{lru.New[*ast.QueryDocument](1000)})
	e.SetParserTokenLimit(limits.MaxTokens)
	if cfg.Auth != nil {
		e.Use(cfg.Auth)
	}
	if cfg.Introspection {
		e.Use(extension.Introspection{})
	}
	e.Use(extension.AutomaticPersistedQuery{Cache: smallOnly[string]{lru.New[string](100)}})
	e.Use(&operationCost{maxDepth: limits.MaxDepth, maxComplexity: limits.MaxComplexity})
	for _, ext := range cfg.Extensions {
		e.Use(ext)
	}
	e.SetErrorPresenter(ErrorPresenter(cfg.Logger))
	e.SetRecoverFunc(recoverFunc(cfg.Logger))
}

// timeoutError is the error of an operation past its deadline.
func timeoutError() *gqlerror.Error {
	return codedError(CodeTimeout, "the operation took longer than its deadline")
}

// DefaultOperationTimeout is the deadline of a query or mutation when
// HandlerConfig.OperationTimeout is 0.
const DefaultOperationTimeout = 30 * time.Second

// setComplexity makes connections cost their page size times their
// selection: gqlgen's default ignores first/last.
func setComplexity(c *generated.ComplexityRoot) {
	c.Query.Clients = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.CustomerOrder, _ *ent.CustomerWhereInput) int {
		return pageCost(child, first, last)
	}
	c.Query.Mailings = func(child int, _ *entgql.Cursor[int], first *int, _ *entgql.Cursor[int], last *int, _ *ent.MailingOrder, _ *ent.MailingWhereInput) int {
		return pageCost(child, first, last)
	}
	c.Mailing.Messages = func(child int, first *int, _ *entgql.Cursor[int], last *int, _ *entgql.Cursor[int], _ *status.Message) int {
		return pageCost(child, first, last)
	}
	c.GeneralStatistics.PerMailing = func(child int, limit *int) int {
		return pageCost(child, limit, new(campaign.DefaultRecentMailings)) // limit, or the default
	}
	c.Mutation.CreateClients = func(child int, input []*model.CreateClientInput, _ *string) int {
		return child * max(len(input), 1)
	}
}

func pageCost(child int, first, last *int) int {
	n := *cmp.Or(first, last, new(defaultPageSize))
	return 1 + child*max(min(n, maxPageSize), 1)
}

// refuseHandshake answers a WebSocket handshake coder/websocket refused
// (reason is its text) as a GraphQL error, like every answer of /query.
func refuseHandshake(w http.ResponseWriter, status int, reason string) {
	code := CodeBadRequest
	if status == http.StatusForbidden {
		code = "FORBIDDEN"
	}
	writeError(w, status, codedError(code, reason))
}
