package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/graph/generated"
	"github.com/notifyhq/notify/graph/model"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/coalesce"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/multiplex"
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
	// Shared runs identical status subscriptions once
	// (NewSharedSubscriptions); nil runs each on its own.
	Shared *multiplex.Hub
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
	add(share(sseTransport{
		SSE:  transport.SSE{KeepAlivePingInterval: 10 * time.Second},
		open: new(atomic.Int64),
		max:  int64(limits.MaxSSEStreams),
	}))
	var ws transport.WebsocketImplementation = coderWebsocket{
		AcceptOptions:    websocket.AcceptOptions{OriginPatterns: cfg.OriginPatterns},
		MaxSubscriptions: limits.MaxSubscriptionsPerSocket,
	}
	ws = coalesced{ws}
	initFunc := cfg.InitFunc
	if cfg.Stopping != nil {
		ws, initFunc = goingAway{ws, cfg.Stopping.Done()}, endOnStop(cfg.Stopping, initFunc)
	}
	add(share(directWebsocket{transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		PingPongInterval:      10 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              initFunc,
		Implementation:        ws,
	}}))
	add(transport.Options{})
	add(transport.GET{})
	add(transport.POST{})
	add(transport.MultipartForm{MaxUploadSize: limits.MaxBodyBytes, MaxMemory: min(limits.MaxBodyBytes, 1<<20)})

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
	if timeout <= 0 {
		timeout = DefaultOperationTimeout
	}
	e.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation != ast.Subscription {
			// The deadline of a query or mutation: database calls made with
			// ctx end with it. Responses are written once next returns.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			responses := next(withStreamErrors(withLoaders(ctx, cfg.Service)))
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
		}
		return next(withStreamErrors(withLoaders(ctx, cfg.Service)))
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
	err := &gqlerror.Error{Message: "the operation took longer than its deadline"}
	setCode(err, CodeTimeout)
	return err
}

// DefaultOperationTimeout is the deadline of a query or mutation when
// HandlerConfig.OperationTimeout is 0.
const DefaultOperationTimeout = 30 * time.Second

var _ http.Handler = (*handler.Server)(nil)

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
		n := campaign.DefaultRecentMailings
		if limit != nil {
			n = *limit
		}
		return 1 + child*max(min(n, maxPageSize), 1)
	}
	c.Mutation.CreateClients = func(child int, input []*model.CreateClientInput, _ *string) int {
		return child * max(len(input), 1)
	}
}

func pageCost(child int, first, last *int) int {
	n := defaultPageSize
	if first != nil {
		n = *first
	} else if last != nil {
		n = *last
	}
	return 1 + child*max(min(n, maxPageSize), 1)
}

// closeGoingAway is the WebSocket close code of a server going away
// (RFC 6455 §7.4.1): clients reconnect, to another instance or later.
const closeGoingAway = 1001

// endOnStop makes each WebSocket's context end when stopping is cancelled:
// gqlgen then closes the socket, which goingAway turns into 1001. A
// connection initialised after that is refused with 1001 at once. next may
// be nil.
func endOnStop(stopping context.Context, next transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if stopping.Err() != nil {
			ctx = transport.WithWebsocketCloseCode(ctx, closeGoingAway)
			return transport.AppendCloseReason(ctx, "server shutting down"), nil, errors.New("server shutting down")
		}
		var ack *transport.InitPayload
		if next != nil {
			var err error
			if ctx, ack, err = next(ctx, p); err != nil {
				return ctx, ack, err
			}
		}
		// No goroutine per connection waits for either: the connection's
		// context ends with its request (the server cancels it when the
		// handler returns), and then stops watching stopping.
		ctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(stopping, cancel)
		context.AfterFunc(ctx, func() { stop() })
		return ctx, ack, nil
	}
}

// wsWriteDelay is how long a WebSocket connection buffers what it writes:
// a status subscriber's events (thousands a second during a fan-out) go out
// many per write instead of one syscall each, and the client wakes once for
// them. With events back to back, 10 ms took 11 % less CPU per delivered
// event than 2 ms (service and clients, BenchmarkStatusDelivery before it
// was paced; paced, in bursts of 250, the two are within noise), and it is
// not a delay a person watching a progress bar sees.
const wsWriteDelay = 10 * time.Millisecond

// coalesced wraps a WebSocket implementation so that the connections it
// accepts coalesce their writes over wsWriteDelay.
type coalesced struct {
	transport.WebsocketImplementation
}

func (c coalesced) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	return c.WebsocketImplementation.Accept(coalesce.ResponseWriter{ResponseWriter: w, Delay: wsWriteDelay}, r, o)
}

// goingAway wraps a WebSocket implementation so that, once done is closed,
// the normal closure gqlgen sends on a cancelled connection goes out as
// 1001 "server shutting down".
type goingAway struct {
	transport.WebsocketImplementation
	done <-chan struct{}
}

func (g goingAway) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, err := g.WebsocketImplementation.Accept(w, r, o)
	if err != nil {
		return nil, err
	}
	return &goingAwayConn{WebsocketConn: c, done: g.done}, nil
}

type goingAwayConn struct {
	transport.WebsocketConn
	done <-chan struct{}
}

func (c *goingAwayConn) WriteClose(code int, msg string) error {
	select {
	case <-c.done:
		if code == transport.WebsocketCloseNormalClosure {
			code, msg = closeGoingAway, "server shutting down"
		}
	default:
	}
	return c.WebsocketConn.WriteClose(code, msg)
}

// The transport enforces PayloadReadLimit and pong deadlines only through
// these optional interfaces: keep them.

func (c *goingAwayConn) SetReadLimit(n int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(n)
	}
}

func (c *goingAwayConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
