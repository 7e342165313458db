// Package metrics is the service's Prometheus instrumentation (README, "Operating notes"),
// on a private registry served at /metrics: the sending API client's
// requests and circuit breaker (a sender.Observer), message status writes
// (a campaign.Publisher decorator), HTTP and GraphQL durations, and gauges
// read at scrape time — messages by status and River's queue depth from the
// database, live subscriptions from the event bus.
//
// Every metric is documented in docs/operations.md.
package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/sender"
	"github.com/notifyhq/notify/internal/status"
)

// namespace prefixes every metric of the service.
const namespace = "notify"

// scrapeTimeout bounds the database queries of one scrape.
const scrapeTimeout = 3 * time.Second

// Config holds the sources of the scrape-time gauges; nil ones are left out.
type Config struct {
	// MessageCounts counts all messages by status (one aggregate query).
	MessageCounts func(ctx context.Context) (map[status.Message]int, error)
	// DB is the database holding River's river_job table, for queue depth.
	DB *sql.DB
	// Subscriptions counts the live GraphQL subscriptions by kind
	// ("message_status", "mailing_progress").
	Subscriptions func() map[string]int
	// Logger receives scrape errors.
	Logger *slog.Logger
}

// Metrics is the registry and the instruments fed by the service.
type Metrics struct {
	registry *prometheus.Registry
	logger   *slog.Logger

	senderDuration *prometheus.HistogramVec
	senderRequests *prometheus.CounterVec
	circuitState   prometheus.Gauge
	circuitChanges *prometheus.CounterVec
	statusWrites   *prometheus.CounterVec
	retries        prometheus.Counter
	httpDuration   *prometheus.HistogramVec
	gqlDuration    *prometheus.HistogramVec
}

// New returns the service's metrics on a fresh registry with the Go runtime
// and process collectors.
func New(cfg Config) *Metrics {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		logger:   logger,
		senderDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "sender", Name: "request_duration_seconds",
			Help: "Duration of requests to the sending API, by outcome (sent, transient, permanent).",
			// From a loopback fake (sub-millisecond) to SENDER_TIMEOUT's default of 10 s.
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
		senderRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "sender", Name: "requests_total",
			Help: "Requests made to the sending API, by outcome and HTTP status code (0: no answer).",
		}, []string{"outcome", "code"}),
		circuitState: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "sender", Name: "circuit_state",
			Help: "State of the sending API circuit breaker: 0 closed, 1 open, 2 half-open.",
		}),
		circuitChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "sender", Name: "circuit_transitions_total",
			Help: "Circuit breaker transitions, by the state entered.",
		}, []string{"state"}),
		statusWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "message_status_changes_total",
			Help: "Message status writes made by this instance, by the status written.",
		}, []string{"status"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "message_retries_total",
			Help: "Retries scheduled by this instance: failed attempts after which the message is retrying.",
		}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Duration of HTTP requests, by route pattern, method and status code (subscription streams excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "operation_duration_seconds",
			Help:    "Duration of GraphQL queries and mutations, by operation type, root field and result (ok, error).",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation", "field", "result"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.senderDuration, m.senderRequests, m.circuitState, m.circuitChanges,
		m.statusWrites, m.retries, m.httpDuration, m.gqlDuration,
	)
	// Every status and state appears from the first scrape, zeros included.
	for _, s := range status.Messages {
		m.statusWrites.WithLabelValues(string(s))
	}
	for _, o := range []sender.Outcome{sender.Sent, sender.Transient, sender.Permanent} {
		m.senderDuration.WithLabelValues(o.String())
	}
	if cfg.MessageCounts != nil {
		m.registry.MustRegister(&messagesCollector{count: cfg.MessageCounts, logger: logger})
	}
	if cfg.DB != nil {
		m.registry.MustRegister(&queueCollector{db: cfg.DB, logger: logger})
	}
	if cfg.Subscriptions != nil {
		m.registry.MustRegister(&subscriptionsCollector{count: cfg.Subscriptions})
	}
	return m
}

// Registry returns the registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus exposition format. A
// failing collector is logged and left out; the rest is still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Sender observer (sender.Observer).

var _ sender.Observer = (*Metrics)(nil)

// ObserveSend records one request to the sending API.
func (m *Metrics) ObserveSend(outcome sender.Outcome, code int, d time.Duration) {
	o := outcome.String()
	m.senderDuration.WithLabelValues(o).Observe(d.Seconds())
	m.senderRequests.WithLabelValues(o, strconv.Itoa(code)).Inc()
}

// ObserveBreaker records a circuit breaker transition.
func (m *Metrics) ObserveBreaker(s sender.BreakerState) {
	var v float64
	switch s {
	case sender.Open:
		v = 1
	case sender.HalfOpen:
		v = 2
	}
	m.circuitState.Set(v)
	m.circuitChanges.WithLabelValues(s.String()).Inc()
}

// Publisher returns next (the live event feed) decorated to count message
// status writes and retries as they are published after commit.
func (m *Metrics) Publisher(next campaign.Publisher) campaign.Publisher {
	return &countingPublisher{next: next, m: m}
}

type countingPublisher struct {
	next campaign.Publisher
	m    *Metrics
}

func (p *countingPublisher) MessagesChanged(ctx context.Context, changes []campaign.StatusChange) {
	for _, c := range changes {
		p.m.statusWrites.WithLabelValues(string(c.Status)).Inc()
		if c.Status == status.Retrying {
			p.m.retries.Inc()
		}
	}
	if p.next != nil {
		p.next.MessagesChanged(ctx, changes)
	}
}

func (p *countingPublisher) MailingChanged(ctx context.Context, mailingID int) {
	if p.next != nil {
		p.next.MailingChanged(ctx, mailingID)
	}
}

// Scrape-time collectors.

// cached holds the last result of a scrape-time query for a few seconds, so
// that several Prometheus servers (or a fast scrape interval) cost the
// database one query per period.
type cached[T any] struct {
	mu    sync.Mutex
	at    time.Time
	value T
}

// cacheFor is how long a scrape-time query result is reused.
const cacheFor = 5 * time.Second

func (c *cached[T]) get(load func(context.Context) (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < cacheFor {
		return c.value, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	c.value, c.at = v, time.Now()
	return v, nil
}

var messagesDesc = prometheus.NewDesc(namespace+"_messages",
	"Messages in the database by status (all instances see the same figure: aggregate with max, not sum).",
	[]string{"status"}, nil)

// messagesCollector reads the messages by status from the database at
// scrape time: the figure is the database's truth, shared by every instance
// and right after a restart, which per-instance counters are not.
type messagesCollector struct {
	count  func(context.Context) (map[status.Message]int, error)
	logger *slog.Logger
	cache  cached[map[status.Message]int]
}

func (c *messagesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- messagesDesc }

func (c *messagesCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.cache.get(c.count)
	if err != nil {
		c.logger.Warn("metrics: error counting messages by status", "error", err)
		return
	}
	for _, s := range status.Messages {
		ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}

var queueDesc = prometheus.NewDesc(namespace+"_river_jobs",
	"River jobs waiting or running, by queue and state (available, scheduled, retryable, running); shared by all instances.",
	[]string{"queue", "state"}, nil)

// queueStates are the states reported as queue depth; the others are
// finished jobs kept for a while.
var queueStates = []string{"available", "scheduled", "retryable", "running"}

// queueDepthSQL counts River's unfinished jobs; it reads River's
// (state, queue, …) fetch index. Same text for Postgres and SQLite; the
// connection's search_path picks the schema.
const queueDepthSQL = `SELECT queue, state, count(*) FROM river_job
WHERE state IN ('available', 'scheduled', 'retryable', 'running')
GROUP BY queue, state`

// queueNamesSQL lists the queues River knows (each running client
// registers its queues), so that an empty queue reports zeros.
const queueNamesSQL = `SELECT name FROM river_queue`

type queueKey struct{ queue, state string }

type queueCollector struct {
	db     *sql.DB
	logger *slog.Logger
	cache  cached[map[queueKey]int]
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	depth, err := c.cache.get(c.load)
	if err != nil {
		c.logger.Warn("metrics: error reading River's queue depth", "error", err)
		return
	}
	queues := map[string]bool{}
	for k := range depth {
		queues[k.queue] = true
	}
	for q := range queues {
		for _, s := range queueStates {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(depth[queueKey{q, s}]), q, s)
		}
	}
}

func (c *queueCollector) load(ctx context.Context) (map[queueKey]int, error) {
	rows, err := c.db.QueryContext(ctx, queueDepthSQL)
	if err != nil {
		return nil, fmt.Errorf("error counting River jobs: %w", err)
	}
	defer rows.Close()
	out := map[queueKey]int{}
	for rows.Next() {
		var (
			k queueKey
			n int
		)
		if err := rows.Scan(&k.queue, &k.state, &n); err != nil {
			return nil, fmt.Errorf("error counting River jobs: %w", err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("error counting River jobs: %w", err)
	}
	names, err := c.db.QueryContext(ctx, queueNamesSQL)
	if err != nil {
		return nil, fmt.Errorf("error listing River queues: %w", err)
	}
	defer names.Close()
	for names.Next() {
		var q string
		if err := names.Scan(&q); err != nil {
			return nil, fmt.Errorf("error listing River queues: %w", err)
		}
		out[queueKey{q, queueStates[0]}] += 0 // an empty queue reports zeros
	}
	return out, names.Err()
}

var subscriptionsDesc = prometheus.NewDesc(namespace+"_graphql_subscriptions",
	"Live GraphQL subscriptions on this instance, by kind (message_status, mailing_progress).",
	[]string{"kind"}, nil)

type subscriptionsCollector struct{ count func() map[string]int }

func (c *subscriptionsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- subscriptionsDesc }

func (c *subscriptionsCollector) Collect(ch chan<- prometheus.Metric) {
	for kind, n := range c.count() {
		ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(n), kind)
	}
}
