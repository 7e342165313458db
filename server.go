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
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // time zones of clients and of REPORT_CRON, whatever the host has

	"github.com/riverqueue/river"
	"github.com/rs/cors"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/graph"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/config"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/delivery"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/report"
	"github.com/notifyhq/notify/internal/rest"
	"github.com/notifyhq/notify/internal/sender"
	"github.com/notifyhq/notify/internal/webui"
	"github.com/notifyhq/notify/jobs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "notify:", err)
		os.Exit(1)
	}
}

// run is the whole program, testable: it returns when ctx is cancelled (after
// a graceful shutdown) or on a start-up error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
	logger := newLogger(cfg, stderr)
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

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
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
	httpServer := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
	// Shutdown does not wait for hijacked WebSockets and would wait for SSE
	// streams: end the subscriptions first (their streams complete).
	httpServer.RegisterOnShutdown(a.events.EndSubscriptions)
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	logger.Info("listening", "url", url, "database", a.db.Dialect)
	fmt.Fprintf(stdout, "notify listening on %s (GraphQL IDE at %s/)\n", url, url)

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

// stopWork stops taking work: batches stop starting requests and yield,
// requests in flight finish and are recorded, then River stops (its jobs
// are picked up again on restart or by another instance).
func (a *app) stopWork(ctx context.Context) {
	a.engine.Drain()
	if err := a.river.Stop(ctx); err != nil {
		a.logger.Warn("river stop incomplete", "error", err)
	}
}

// app is the assembled service: what serve runs and what the end-to-end
// tests drive.
type app struct {
	db      *database.DB
	service *campaign.Service
	engine  *delivery.Engine
	events  *event.Bus
	reports *report.Service
	sender  *sender.Client
	river   *river.Client[*sql.Tx]
	handler http.Handler
	logger  *slog.Logger

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
}

// newApp opens and migrates the database, connects the sender (or starts
// the bundled fake) and builds the domain, the sending engine, River and the
// HTTP handler. River is not started.
func newApp(ctx context.Context, cfg config.Config, logger *slog.Logger, stdout io.Writer, opts appOptions) (a *app, err error) {
	a = &app{logger: logger}
	defer func() {
		if err != nil {
			a.close()
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
	a.sender, err = sender.New(sender.Config{
		BaseURL:     senderURL,
		Token:       token,
		Timeout:     cfg.SenderTimeout,
		Concurrency: cfg.SenderConcurrency,
		MaxRPS:      cfg.SenderMaxRPS,
		Breaker:     opts.breaker,
		Now:         opts.now,
		Logger:      logger,
	})
	if err != nil {
		return nil, fmt.Errorf("SENDER_URL: %w", err)
	}
	a.closers = append(a.closers, a.sender.Close)

	scheduler := &jobs.Scheduler{}
	// The live status feed: told by the domain and the engine after each
	// commit; its progress snapshots come from the domain's statistics.
	a.events, err = event.New(ctx, event.Config{
		DB: a.db,
		Stats: func(ctx context.Context, id int) (*campaign.MailingStats, error) {
			return a.service.MailingStats(ctx, id)
		},
		Logger: logger,
		Buffer: opts.eventBuffer,
	})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.events.Close)
	a.service = campaign.New(campaign.Config{DB: a.db, Scheduler: scheduler, Publisher: a.events, Now: opts.now, Logger: logger})
	a.engine = delivery.New(delivery.Deps{DB: a.db, Campaign: a.service, Sender: a.sender, Batches: scheduler, Publisher: a.events, Logger: logger}, opts.engine)
	scheduler.Engine = a.engine

	driver, err := a.db.RiverDriver(ctx)
	if err != nil {
		return nil, err
	}
	// River's own info lines (maintenance runs) would drown ours.
	riverLogger := slog.New(minLevel{Handler: logger.Handler(), min: slog.LevelWarn})
	// The daily report (SPEC §4): previews always work; the email, and the
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
	workers := jobs.Workers(a.service, a.engine, &jobs.DailyReportWorker{Reports: a.reports, RetryDelayFunc: opts.reportRetry, Logger: logger})
	if a.river, err = river.NewClient(driver, jobs.RiverConfig(a.db.Schema, riverLogger, workers, periodic)); err != nil {
		return nil, fmt.Errorf("error creating River client: %w", err)
	}
	scheduler.Client = a.river

	a.handler = newServer(serverDeps{
		config:  cfg,
		logger:  logger,
		service: a.service,
		ent:     a.db.Ent,
		events:  a.events,
		reports: a.reports,
		ready:   readiness(a.db, a.river),
	})
	return a, nil
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
	config  config.Config
	logger  *slog.Logger
	service *campaign.Service
	ent     *ent.Client
	events  *event.Bus
	reports *report.Service
	ready   func(context.Context) error
}

// newServer returns the service's HTTP handler.
func newServer(d serverDeps) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return mux
}

// corsHandler lets browsers on origins (CORS_ORIGINS, "*" for any) call h
// over HTTP; WebSockets check the same list in graph.NewHandler. Without
// origins only same-origin pages can.
func corsHandler(origins []string, h http.Handler) http.Handler {
	if len(origins) == 0 {
		return h
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders: []string{"*"},
		MaxAge:         600,
	}).Handler(h)
}

// addRoutes mounts every route of the service, on one screen.
func addRoutes(mux *http.ServeMux, d serverDeps) {
	gql := graph.NewHandler(graph.HandlerConfig{
		Events:         d.events,
		Reports:        d.reports,
		Service:        d.service,
		Ent:            d.ent,
		Logger:         d.logger,
		Introspection:  d.config.Introspection,
		OriginPatterns: d.config.CORSOrigins,
	})
	mux.Handle("/query", corsHandler(d.config.CORSOrigins, gql))
	mux.Handle("GET /{$}", webui.GraphiQL("Notify", "/query"))
	mux.Handle("GET /assets/", webui.Assets())
	mux.Handle("GET /docs/", webui.Docs())
	mux.Handle("GET /docs/openapi.json", rest.DocumentHandler(d.logger))
	// The REST compat layer (SPEC §6) routes within these prefixes, every
	// path with and without its trailing slash.
	api := rest.New(rest.Config{Service: d.service, Reports: d.reports, Logger: d.logger})
	mux.Handle("/clients", api)
	mux.Handle("/clients/", api)
	mux.Handle("/mailings", api)
	mux.Handle("/mailings/", api)
	mux.Handle("/reports/", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		io.WriteString(w, "ready\n")
	})
}
