// Command notify is the notification service: GraphQL (and a REST compat
// layer) over a directory of clients and SMS mailings, sent in the background
// by River jobs through an external sending API.
//
// Usage:
//
//	notify [serve]        run the service (the default)
//	notify migrate        apply the database migrations and exit
//	notify fakesender …   run the bundled fake of the sending API
//
// Configuration is read from the environment; see README.md.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // time zones of clients and of REPORT_CRON, whatever the host has

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	"github.com/riverqueue/river"
	"github.com/rs/cors"
	"riverqueue.com/riverui"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/graph"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/config"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/live"
	"github.com/notifyhq/notify/internal/logwriter"
	"github.com/notifyhq/notify/internal/metrics"
	"github.com/notifyhq/notify/internal/quota"
	"github.com/notifyhq/notify/internal/report"
	"github.com/notifyhq/notify/internal/requestlog"
	"github.com/notifyhq/notify/internal/rest"
	"github.com/notifyhq/notify/internal/sender"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/webhook"
	"github.com/notifyhq/notify/internal/webui"
	"github.com/notifyhq/notify/jobs"
	"github.com/notifyhq/notify/web"
)

func main() {
	// Half as many collections as Go's default unless GOGC says otherwise:
	// sending allocates mostly short-lived request state, and the collector
	// took about a sixth of the service's CPU (docs/design.md, "Garbage
	// collection").
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "notify:", err)
		os.Exit(1)
	}
}

// run is the whole program, testable: it returns when ctx is cancelled (after
// a graceful shutdown) or on a start-up error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "fakesender" {
		return fakesender.Main(ctx, args, stdout, stderr)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	defer func() {
		// Whatever a library put in an error, no password or token
		// leaves the process in it.
		if err != nil {
			if msg := config.Redact(err.Error(), cfg.Secrets()); msg != err.Error() {
				err = errors.New(msg)
			}
		}
	}()
	// Logs are buffered (a line per message attempt would otherwise be a
	// system call each) and flushed every 100 ms and on the way out.
	if getenv("LOG_FORMAT") == "" && isTerminal(stderr) {
		// A person is watching: lines for people (JSON otherwise, for collectors).
		cfg.LogFormat = "text"
	}
	logOut := logwriter.New(stderr, 100*time.Millisecond)
	defer logOut.Close()
	logger := newLogger(cfg, logOut)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, logger, stdout)
	case "migrate":
		db, err := database.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer db.Close()
		return db.Migrate(ctx, logger)
	default:
		return fmt.Errorf("unknown command %q (want serve, migrate or fakesender)", cmd)
	}
}

// isTerminal reports whether w is a terminal: a character device other than /dev/null.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		// Optional ids (client_id) are *int: print the number, not the pointer.
		opts.ReplaceAttr = func(_ []string, a slog.Attr) slog.Attr {
			if p, ok := a.Value.Any().(*int); ok {
				if p == nil {
					return slog.Any(a.Key, nil)
				}
				return slog.Int(a.Key, *p)
			}
			return a
		}
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// serve runs the service until ctx is done.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer) error {
	a, err := newApp(ctx, cfg, logger, stdout, appOptions{})
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.river.Start(ctx); err != nil {
		return fmt.Errorf("error starting River: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	httpServer := newHTTPServer(a.handler)
	// Shutdown does not wait for hijacked WebSockets and would wait for SSE
	// streams: end the subscriptions first (their streams complete, the
	// WebSockets close with 1001).
	httpServer.RegisterOnShutdown(a.endSubscriptions)
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()
	url := listenURL(ln.Addr())
	logger.Info("listening", "url", url, "database", a.db.Dialect)
	greet(stdout, url)

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("error serving HTTP: %w", err)
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		logger.Warn("http shutdown incomplete", "error", err)
	}
	a.stopWork(shutdownCtx)
	return nil
}

// greet tells the person who started the service where everything is. Its first line
// is the one scripts wait for ("notify listening on URL").
func greet(w io.Writer, url string) {
	fmt.Fprintf(w, "notify listening on %s\n"+
		"  web UI       %s/ui/\n"+
		"  GraphiQL     %s/graphiql/\n"+
		"  Swagger UI   %s/docs/\n"+
		"  River's UI   %s/riverui/ (admins)\n", url, url, url, url, url)
}

// newHTTPServer returns the service's HTTP server for h, with its timeouts:
// a whole request, body included, within a minute, so that a slow client
// cannot hold a connection by trickling a body; an idle keep-alive
// connection for two minutes. WebSockets are not cut by them (the read
// deadline is cleared when they take the connection over), nor are SSE
// streams (there is no WriteTimeout).
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
}

// listenURL is where a user reaches addr: localhost when it listens on every
// interface.
func listenURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// stopWork stops taking work: batches stop starting requests and yield,
// requests in flight finish and are recorded, then River stops (its jobs
// are picked up again on restart or by another instance).
func (a *app) stopWork(ctx context.Context) {
	a.engine.Drain()
	if err := a.river.Stop(ctx); err != nil {
		a.logger.Warn("river stop incomplete", "error", err)
	}
	// Outcomes kept through a database outage (docs/design.md, "Database
	// outages"): written while ctx lasts, else logged one by one.
	if n := a.engine.Flush(ctx); n > 0 {
		a.logger.Error("outcomes of requests not written before shutdown (each is logged)", "count", n)
	}
}

// endSubscriptions ends every live subscription (SSE streams complete) and
// closes every GraphQL WebSocket with 1001 (going away); new ones are
// refused. Graceful shutdown calls it as the HTTP server starts shutting down.
func (a *app) endSubscriptions() {
	a.events.EndSubscriptions()
	a.shutdown()
}

// app is the assembled service: what serve runs and what the end-to-end
// tests drive.
type app struct {
	db      *database.DB
	service *campaign.Service // the API's: its pool has the statement timeout
	work    *campaign.Service // the engine's and the jobs': no statement timeout
	engine  *delivery.Engine
	events  *event.Bus
	shared  *live.Hub // identical status subscriptions, run once
	reports *report.Service
	sender  *sender.Client
	river   *river.Client[*sql.Tx]
	handler http.Handler
	logger  *slog.Logger
	metrics *metrics.Metrics
	// routes are what handler mounts (ops_test walks them).
	routes []route

	// stopping is cancelled by endSubscriptions (shutdown).
	stopping  context.Context
	shutdown  context.CancelFunc
	closers   []func()
	closeOnce sync.Once
}

// appOptions are knobs for tests; production uses the zero value.
type appOptions struct {
	now     func() time.Time // the domain clock; time.Now when nil
	engine  delivery.Config
	breaker sender.BreakerConfig
	// eventBuffer is each status subscriber's buffer; event.DefaultBuffer when 0.
	eventBuffer int
	// reportTick is when River asks for the daily report job (REPORT_CRON
	// when nil); the date due still follows REPORT_CRON and now.
	reportTick river.PeriodicSchedule
	// reportRetry is the wait after a failed report email;
	// jobs.DailyReportRetryDelay when nil.
	reportRetry func(attempt int) time.Duration
	// webhooks tunes webhook deliveries (attempt timeout, backoff); DB,
	// Signer and Logger are filled in.
	webhooks webhook.Config
}

// newApp opens and migrates the database, connects the sender (or starts
// the bundled fake) and builds the domain, the sending engine, River and the
// HTTP handler. River is not started.
func newApp(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer, opts appOptions) (_ *app, err error) {
	// Lines logged with a request's context carry its request_id.
	logger = slog.New(requestlog.NewHandler(logger.Handler()))
	a := &app{logger: logger}
	a.stopping, a.shutdown = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			a.close() // a, not the nil the error returns
		}
	}()
	if a.db, err = database.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { a.db.Close() })
	if cfg.MigrateOnStart {
		if err := a.db.Migrate(ctx, logger); err != nil {
			return nil, err
		}
	}
	if len(cfg.APITokens) == 0 && cfg.OIDCIssuer == "" {
		logger.Warn("API_TOKENS is not set: the API is open to anyone who can reach it (AUTH_REQUIRED=true refuses to start so)")
	}
	if cfg.SenderURL != "" && cfg.SenderToken == "" {
		logger.Warn("SENDER_URL is set without SENDER_TOKEN: requests to the sending API carry no credentials")
	}
	// The API's queries run on a pool of their own with a statement
	// timeout; the engine's work is not cut by it.
	apiDB, err := a.db.WithStatementTimeout(ctx, cfg.OperationTimeout)
	if err != nil {
		return nil, err
	}
	if apiDB != a.db {
		a.closers = append(a.closers, func() { apiDB.Close() })
	}
	// Scrape-time sources are read through a, filled in below.
	a.metrics = metrics.New(metrics.Config{
		MessageCounts: func(ctx context.Context) (map[status.Message]int, error) {
			st, err := a.service.GeneralStatistics(ctx)
			if err != nil {
				return nil, err
			}
			out := make(map[status.Message]int, len(st.ByStatus))
			for _, c := range st.ByStatus {
				out[c.Status] = c.Count
			}
			return out, nil
		},
		DB: a.db.SQL,
		Subscriptions: func() map[string]int {
			// Subscribers are members of shared executions, each of which
			// is one subscription of the bus.
			return map[string]int{
				"message_status":   a.shared.Stats(live.Events).Subscribers,
				"mailing_progress": a.shared.Stats(live.Latest).Subscribers,
			}
		},
		Logger: logger,
	})

	senderURL, token := cfg.SenderURL, cfg.SenderToken
	if senderURL == "" {
		if token == "" {
			token = rand.Text()
		}
		_, url, stopFake, err := fakesender.Start(fakesender.Config{Token: token, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("error starting the bundled fake sender: %w", err)
		}
		a.closers = append(a.closers, stopFake)
		senderURL = url
		logger.Warn("SENDER_URL is not set: messages go to the bundled fake sender and reach NOBODY", "fake_sender_url", url)
		fmt.Fprintf(stdout, "WARNING: SENDER_URL is not set; messages go to the bundled fake sender at %s and reach nobody\n", url)
	}
	var clusterQuota sender.Quota // SENDER_MAX_RPS_CLUSTER: shared through Postgres
	if cfg.SenderClusterRPS > 0 {
		q := quota.New(a.db, quota.Config{Limit: cfg.SenderClusterRPS, Logger: logger})
		a.closers = append(a.closers, q.Close)
		clusterQuota = q
	}
	a.sender, err = sender.New(sender.Config{
		BaseURL:     senderURL,
		Token:       token,
		Timeout:     cfg.SenderTimeout,
		Concurrency: cfg.SenderConcurrency,
		MaxRPS:      cfg.SenderMaxRPS,
		Quota:       clusterQuota,
		Breaker:     opts.breaker,
		Now:         opts.now,
		Logger:      logger,
		Observer:    a.metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("SENDER_URL: %w", err)
	}
	a.closers = append(a.closers, a.sender.Close)

	driver, err := a.db.RiverDriver(ctx)
	if err != nil {
		return nil, err
	}
	// River's own info lines (maintenance runs) would drown ours.
	riverLogger := slog.New(minLevel{Handler: logger.Handler(), min: slog.LevelWarn})
	// Job calls go one way: the domain and the engine insert jobs through
	// the scheduler (an insert-only River client); River's working client,
	// built last, calls the engine and the domain.
	scheduler, err := jobs.NewScheduler(driver, a.db.Schema, riverLogger)
	if err != nil {
		return nil, err
	}
	// The live status feed: told by the domain and the engine after each
	// commit; its progress snapshots come from the domain's statistics.
	a.events, err = event.New(ctx, event.Config{
		DB: a.db,
		Stats: func(ctx context.Context, id int) (*campaign.MailingStats, error) {
			return a.service.MailingStats(ctx, id)
		},
		Logger: logger,
		Buffer: opts.eventBuffer,
		Now:    opts.now,
	})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.events.Close)
	a.shared = live.NewHub(a.events, logger, opts.eventBuffer)
	// Status writes are counted on their way to the live feed.
	publisher := a.metrics.Publisher(a.events)
	// Webhooks (README, "Webhooks"): lifecycle events recorded with their
	// delivery jobs by the domain, sent signed by the webhook queue's jobs.
	// Off without WEBHOOK_SECRET.
	var announcer campaign.Announcer
	hooks := opts.webhooks
	hooks.DB, hooks.Logger = a.db, logger
	// WEBHOOK_URL is the operator's: trusted. A mailing's webhookUrl reaches
	// only public addresses unless WEBHOOK_ALLOW_PRIVATE (internal/webhook/guard.go).
	hooks.TrustedURL, hooks.AllowPrivate = cfg.WebhookURL, cfg.WebhookPrivate
	if cfg.WebhookSecret != "" {
		if hooks.Signer, err = webhook.NewSigner(cfg.WebhookSecret); err != nil {
			return nil, fmt.Errorf("WEBHOOK_SECRET: %w", err)
		}
		announcer = webhook.NewOutbox(cfg.WebhookURL, scheduler)
	}
	a.service = campaign.New(campaign.Config{DB: apiDB, Scheduler: scheduler, Publisher: publisher, Announcer: announcer, Now: opts.now, Actor: auditActor, Logger: logger})
	a.work = campaign.New(campaign.Config{DB: a.db, Scheduler: scheduler, Publisher: publisher, Announcer: announcer, Now: opts.now, Actor: auditActor, Logger: logger})
	// Sends over time for the dashboard (docs/design.md, "Send history"):
	// the API's service samples the cluster's totals every 10 s until close.
	historyCtx, stopHistory := context.WithCancel(context.WithoutCancel(ctx))
	historyDone := make(chan struct{})
	go func() {
		defer close(historyDone)
		a.service.RecordSendHistory(historyCtx)
	}()
	a.closers = append(a.closers, func() { stopHistory(); <-historyDone })
	a.engine = delivery.New(delivery.Deps{DB: a.db, Campaign: a.work, Sender: a.sender, Batches: scheduler, Publisher: publisher, Logger: logger}, opts.engine)
	// The daily report (docs/product.md, "Statistics and the daily report"): previews always work; the email, and the
	// periodic job that sends it, only with SMTP_URL.
	if a.reports, err = report.New(report.Config{
		Campaign: a.service,
		Cron:     cfg.ReportCron,
		SMTPURL:  cfg.SMTPURL,
		From:     cfg.ReportFrom,
		To:       cfg.ReportTo,
		Logger:   logger,
	}); err != nil {
		return nil, err
	}
	var periodic []*river.PeriodicJob
	if cfg.ReportEnabled() {
		periodic = append(periodic, jobs.DailyReportPeriodicJob(a.reports, opts.reportTick, logger))
	} else {
		logger.Warn("daily report email is off: SMTP_URL is not set (sendDailyReport answers CONFLICT; previews work)")
	}
	periodic = append(periodic, jobs.PrunePeriodicJob(cfg.AuditRetention))
	workers := jobs.Workers(a.work, a.engine, &jobs.DailyReportWorker{Reports: a.reports, RetryDelayFunc: opts.reportRetry, Logger: logger},
		webhook.NewDeliverer(hooks))
	if a.river, err = river.NewClient(driver, jobs.RiverConfig(a.db.Schema, riverLogger, workers, periodic, a.engine.BatchWorkers())); err != nil {
		return nil, fmt.Errorf("error creating River client: %w", err)
	}
	// A killed instance's jobs are taken over by the others within about
	// 15 s (docs/design.md, "Instance kills"); the lock it holds from here
	// on tells them this one lives. Released at close, after River stopped.
	if a.db.Dialect == dialect.Postgres {
		takeover, err := jobs.StartTakeover(ctx, a.db.SQL, a.river.ID(), a.sender.Timeout(), logger)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, takeover.Stop)
	}

	// River's own UI (README, "Security"), behind the API tokens. Its background
	// services live until close.
	riverUI, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(a.river, nil),
		Logger:    riverLogger,
		Prefix:    "/riverui",
	})
	if err != nil {
		return nil, fmt.Errorf("error creating the River UI: %w", err)
	}
	uiCtx, stopUI := context.WithCancel(context.WithoutCancel(ctx))
	a.closers = append(a.closers, stopUI)
	if err := riverUI.Start(uiCtx); err != nil {
		return nil, fmt.Errorf("error starting the River UI: %w", err)
	}

	deps := serverDeps{
		config:   cfg,
		logger:   logger,
		service:  a.service,
		ent:      apiDB.Ent,
		events:   a.events,
		shared:   a.shared,
		reports:  a.reports,
		ready:    readiness(a.db, a.river),
		guard:    newGuard(ctx, cfg, logger),
		metrics:  a.metrics,
		riverUI:  riverUI,
		stopping: a.stopping,
	}
	a.routes = routes(deps)
	a.handler = newServer(deps, a.routes)
	return a, nil
}

// auditActor names the caller of a write and its request for the audit log
// (docs/design.md, "Audit log"): the Principal's name (a token's name, an
// OIDC JWT's "sub (name)"; "" in open mode, which the log writes as
// "anonymous") and the X-Request-Id.
func auditActor(ctx context.Context) (name, requestID string) {
	if p := auth.PrincipalFrom(ctx); p != nil {
		name = p.Name
	}
	return name, requestlog.ID(ctx)
}

// newGuard returns the guard of the routes: API_TOKENS, and the bearer JWTs
// of OIDC_ISSUER when it is set (README, "Security", "OIDC"); a provider
// that cannot be reached at start is logged and tried again later.
func newGuard(ctx context.Context, cfg config.Config, logger *slog.Logger) *auth.Guard {
	g := auth.New(cfg.APITokens, cfg.MetricsAuth).WithLogger(logger)
	if cfg.OIDCIssuer != "" {
		g.WithOIDC(auth.NewOIDC(ctx, auth.OIDCConfig{
			Issuer: cfg.OIDCIssuer, Audience: cfg.OIDCAudience, RolesClaim: cfg.OIDCRolesClaim, Logger: logger,
		}))
	}
	return g
}

// close releases what newApp opened, in reverse order; once.
func (a *app) close() {
	a.closeOnce.Do(func() {
		for i := len(a.closers) - 1; i >= 0; i-- {
			a.closers[i]()
		}
	})
}

// minLevel drops records below min, whatever the wrapped handler's level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(as), min: h.min}
}
func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// readiness reports whether the service can do its work: database
// reachable, migrations current, River running.
func readiness(db *database.DB, rc *river.Client[*sql.Tx]) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := db.SQL.PingContext(ctx); err != nil {
			return fmt.Errorf("database unreachable: %w", err)
		}
		pending, err := db.Pending(ctx)
		if err != nil {
			return err
		}
		if pending {
			return errors.New("migrations pending")
		}
		select {
		case <-rc.Stopped():
			return errors.New("river stopped")
		default:
		}
		return nil
	}
}

// serverDeps are the dependencies of the HTTP handler.
type serverDeps struct {
	config   config.Config
	logger   *slog.Logger
	service  *campaign.Service
	ent      *ent.Client
	events   *event.Bus
	shared   *live.Hub
	reports  *report.Service
	ready    func(context.Context) error
	guard    *auth.Guard      // API_TOKENS
	metrics  *metrics.Metrics // /metrics and the HTTP and GraphQL timers
	riverUI  http.Handler     // River's UI, started
	stopping context.Context  // cancelled at shutdown: WebSockets close
}

// route is one mount of the service: a ServeMux pattern, who may call it,
// and its handler; cors routes answer browsers on CORS_ORIGINS.
type route struct {
	pattern string
	access  auth.Access
	handler http.Handler
	cors    bool
}

// newServer returns the service's HTTP handler serving routes (from
// routes(d)), each behind its access check, with a request id on every
// request and its duration measured by route.
func newServer(d serverDeps, routes []route) http.Handler {
	mux := http.NewServeMux()
	for _, r := range routes {
		h := d.guard.Wrap(r.access, r.handler)
		if r.cors {
			h = corsHandler(d.config.CORSOrigins, h)
		}
		mux.Handle(r.pattern, h)
	}
	return requestlog.Middleware(d.logger, d.metrics.HTTP(mux))
}

// corsHandler lets browsers on origins (CORS_ORIGINS, "*" for any) call h
// over HTTP; WebSockets check the same list in graph.NewHandler. Without
// origins only same-origin pages can. Writes a browser sends from a page of
// another site are refused either way (refuseCrossSite).
func corsHandler(origins []string, h http.Handler) http.Handler {
	if len(origins) == 0 {
		return refuseCrossSite(nil, h)
	}
	c := cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		AllowedHeaders: []string{"*"},
		MaxAge:         600,
	})
	return c.Handler(refuseCrossSite(c.OriginAllowed, h))
}

// refuseCrossSite answers 403 to a write (POST, PUT, PATCH, DELETE) that a
// browser sends from a page of another site (Sec-Fetch-Site says so, or,
// from a browser that does not send it, its Origin is neither this host nor
// X-Forwarded-Host), unless allowed (CORS_ORIGINS; nil: none) lets that
// origin in. A form on any web page can POST to a REST
// route without a preflight; in open mode nothing else would stop it.
func refuseCrossSite(allowed func(*http.Request) bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			h.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		var crossSite bool
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
			// The browser's own word, which pages cannot forge; it holds
			// behind a proxy that rewrites Host too.
			crossSite = site == "cross-site" || site == "same-site"
		} else if origin != "" {
			u, err := url.Parse(origin)
			forwarded := r.Header.Get("X-Forwarded-Host")
			crossSite = err != nil || u.Host == "" || (u.Host != r.Host && (forwarded == "" || u.Host != forwarded))
		}
		if crossSite && (origin == "" || allowed == nil || !allowed(r)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"detail": "Cross-site requests are refused: allow the page's origin with CORS_ORIGINS."}`+"\n")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// routes lists every route of the service, on one screen: the one table
// newServer mounts and ops_test walks.
func routes(d serverDeps) []route {
	gql := graph.NewHandler(graph.HandlerConfig{
		Events:         d.events,
		Shared:         d.shared,
		Reports:        d.reports,
		Service:        d.service,
		Ent:            d.ent,
		Logger:         d.logger,
		Introspection:  d.config.Introspection,
		OriginPatterns: d.config.CORSOrigins,
		InitFunc:       d.guard.WebsocketInit(nil),
		Auth:           d.guard.Operations(),
		Extensions:     []graphql.HandlerExtension{d.metrics.GraphQL()},
		Stopping:       d.stopping,
		Limits:         graph.Limits{MaxBodyBytes: d.config.MaxBodyBytes},
		// The deadline of each query and mutation.
		OperationTimeout: d.config.OperationTimeout,
	})
	// The REST compat layer (docs/product.md, "The API") routes within its prefixes, every
	// path with and without its trailing slash.
	api := withDeadline(d.config.OperationTimeout, rest.New(rest.Config{Service: d.service, Reports: d.reports, Logger: d.logger}))
	return []route{
		{pattern: "/query", access: auth.GraphQL, handler: graph.LimitBody(d.config.MaxBodyBytes, graph.JSONByDefault(gql)), cors: true},
		// A browser opening the service lands on the operator's UI (README, "Web UI").
		{pattern: "GET /{$}", access: auth.Open, handler: webui.Landing()},
		{pattern: "GET /ui/", access: auth.Open, handler: webui.App(web.Dist(), uiConfig(d.config, d.guard))},
		{pattern: "GET /graphiql/{$}", access: auth.Open, handler: http.StripPrefix("/graphiql", webui.GraphiQL("Notify", "/query"))},
		{pattern: "GET /assets/", access: auth.Open, handler: webui.Assets()},
		{pattern: "GET /docs/", access: auth.Open, handler: webui.Docs()},
		{pattern: "GET /docs/openapi.json", access: auth.Open, handler: rest.DocumentHandler(d.logger)},
		{pattern: "/clients", access: auth.API, handler: api, cors: true},
		{pattern: "/clients/", access: auth.API, handler: api, cors: true},
		{pattern: "/mailings", access: auth.API, handler: api, cors: true},
		{pattern: "/mailings/", access: auth.API, handler: api, cors: true},
		{pattern: "/reports/", access: auth.API, handler: api, cors: true},
		// The audit log: a REST route (401 like the others) that only an
		// admin's token passes, whatever the method (README, "Audit log").
		{pattern: "/audit", access: auth.API, handler: d.guard.Wrap(auth.AdminAPI, api), cors: true},
		{pattern: "/audit/", access: auth.API, handler: d.guard.Wrap(auth.AdminAPI, api), cors: true},
		// Webhook deliveries: operators and admins read them, as in
		// GraphQL's webhookDeliveries (README, "Webhooks").
		{pattern: "/webhooks", access: auth.OperatorReadAPI, handler: api, cors: true},
		{pattern: "/webhooks/", access: auth.OperatorReadAPI, handler: api, cors: true},
		// Opt-outs: operators opt a phone out and back in (DELETE), viewers
		// list them; the audience preview is a POST that only reads
		// (README, "Opt-outs", "Audience preview").
		{pattern: "/opt-outs", access: auth.OperatorAPI, handler: api, cors: true},
		{pattern: "/opt-outs/", access: auth.OperatorAPI, handler: api, cors: true},
		{pattern: "POST /mailings/preview", access: auth.ReadAPI, handler: api, cors: true},
		{pattern: "POST /mailings/preview/{$}", access: auth.ReadAPI, handler: api, cors: true},
		{pattern: "/riverui/", access: auth.AdminUI, handler: webui.SecureHeaders(webui.RiverUICSP, textPathsOnly(d.riverUI))},
		{pattern: "GET /metrics", access: auth.Metrics, handler: d.metrics.Handler()},
		{pattern: "GET /healthz", access: auth.Open, handler: http.HandlerFunc(healthz)},
		{pattern: "GET /readyz", access: auth.Open, handler: readyz(d.ready, d.logger)},
	}
}

// uiConfig is what the UI learns before signing anyone in (GET /ui/config.json): whether
// credentials are needed, and the OIDC provider to sign in with when OIDC_ISSUER and
// OIDC_CLIENT_ID are both set.
func uiConfig(cfg config.Config, guard *auth.Guard) webui.AppConfig {
	c := webui.AppConfig{Auth: "open"}
	if guard.Enabled() {
		c.Auth = "token"
	}
	if cfg.OIDCIssuer != "" && cfg.OIDCClientID != "" {
		c.OIDC = &webui.AppOIDC{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID}
	}
	return c
}

// healthz answers that the process is alive.
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// readyz answers 200 when ready (database reachable, migrations current,
// River running), else 503. The probe is open, so the reason goes to the
// log, not to the caller.
func readyz(ready func(context.Context) error, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			logger.WarnContext(r.Context(), "not ready", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
}

// textPathsOnly answers 400 a request whose path is not UTF-8 text without
// NUL bytes: River's UI passes path segments (a queue's name, a workflow's
// id) to the database, which refuses such text with an error (a 500).
func textPathsOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !campaign.ValidFilterText(r.URL.Path) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"detail": "The path must be UTF-8 text without NUL bytes."}`+"\n")
			return
		}
		h.ServeHTTP(w, r)
	})
}

// withDeadline gives each request to h a deadline of d: the REST
// counterpart of the GraphQL operations' deadline.
func withDeadline(d time.Duration, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
