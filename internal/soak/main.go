// Command soak runs the real service for a while under everything at once
// and fails when it does not hold steady (make soak; README, "Soak"):
// mailings back to back through the fake sending API, mixed GraphQL and
// REST traffic at a fixed rate (vegeta), and subscribers connecting and
// leaving. Every 10 s it samples the service's RSS, goroutines, open files
// and database connections; at the end it prints them, their slope, and the
// API's p50/p99 per minute, and exits 1 when one of them grows steadily or
// a minute's p99 passes 100 ms.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq"

	"github.com/notifyhq/notify/internal/procstack"
)

func main() {
	duration := flag.Duration("duration", envDuration("SOAK_DURATION", 10*time.Minute), "how long to run (SOAK_DURATION)")
	rate := flag.Int("rate", 50, "API requests per second (GraphQL and REST, mixed)")
	subscribers := flag.Int("subscribers", 200, "subscribers connecting and leaving")
	recipients := flag.Int("recipients", 5000, "recipients of each mailing")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config{duration: *duration, rate: *rate, subscribers: *subscribers, recipients: *recipients}); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// config is what one soak does.
type config struct {
	duration    time.Duration
	rate        int
	subscribers int
	recipients  int
}

// soakToken is the admin token the load uses.
const soakToken = "soak-admin-token-4e1d9b27"

func run(ctx context.Context, cfg config) error {
	adminURL := cmpOr(os.Getenv("TEST_DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	admin, err := sql.Open("postgres", adminURL)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		fmt.Printf("soak: needs Postgres at TEST_DATABASE_URL (%v); nothing measured\n", err)
		return nil
	}
	defer admin.Close()
	bin, err := procstack.Build("")
	if err != nil {
		return err
	}
	dbURL, drop, err := procstack.Schema(admin, adminURL, "soak")
	if err != nil {
		return err
	}
	defer drop()
	// The service's sessions are told apart from everyone else's by name.
	dbURL += "&application_name=notify-soak"

	fake, err := procstack.Start(ctx, bin, []string{"fakesender", "-addr", "127.0.0.1:0", "-token", "soak", "-latency-min", "5ms", "-latency-max", "40ms", "-seed", "1"}, nil, "fake sender listening on ", nil)
	if err != nil {
		return err
	}
	defer fake.Stop()
	// The service's warnings and errors are kept, and counted at the end.
	logFile, err := os.CreateTemp("", "notify-soak-*.log")
	if err != nil {
		return err
	}
	defer logFile.Close()
	svc, err := procstack.Start(ctx, bin, []string{"serve"}, []string{
		"DATABASE_URL=" + dbURL, "LISTEN_ADDR=127.0.0.1:0", "SENDER_URL=" + fake.URL, "SENDER_TOKEN=soak",
		"API_TOKENS=soak:admin:" + soakToken, "LOG_LEVEL=warn",
	}, "notify listening on ", logFile)
	if err != nil {
		return err
	}
	defer svc.Stop()
	if _, err := admin.ExecContext(ctx, `INSERT INTO `+schemaOf(dbURL)+`.clients (phone, operator_code, tag, timezone, created_at, updated_at)
		SELECT '79' || lpad(g::text, 9, '0'), '900', 'soak', 'UTC', now(), now() FROM generate_series(1, $1) g`, cfg.recipients); err != nil {
		return fmt.Errorf("error inserting clients: %w", err)
	}

	fmt.Printf("soak: %s; %d API requests/s; %d subscribers; mailings of %d recipients back to back; service %s (pid %d)\n",
		cfg.duration, cfg.rate, cfg.subscribers, cfg.recipients, svc.URL, svc.Cmd.Process.Pid)
	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	api := newClient(svc.URL, soakToken)
	m := &mailings{api: api}
	done := make(chan struct{}, 3)
	go func() { m.run(ctx); done <- struct{}{} }()
	go func() { runSubscribers(ctx, api, m, cfg.subscribers); done <- struct{}{} }()
	lat := newLatencies()
	go func() { attack(ctx, api, cfg.rate, lat); done <- struct{}{} }()
	samples := sample(ctx, svc.Cmd.Process.Pid, api, admin)
	for range 3 {
		<-done
	}

	fmt.Printf("soak: %d mailings finished, %d subscriptions opened (%d failed), %d API requests (%d failed)\n",
		m.finished.Load(), subscriptionsOpened.Load(), subscriptionsFailed.Load(), lat.total(), lat.failures())
	return report(samples, lat, m, logFile.Name())
}

// schemaOf returns the search_path of a DATABASE_URL.
func schemaOf(dbURL string) string {
	_, q, _ := strings.Cut(dbURL, "search_path=")
	schema, _, _ := strings.Cut(q, "&")
	return schema
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
