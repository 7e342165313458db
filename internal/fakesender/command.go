package fakesender

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Server timeouts. Reads are short (the body is small); there is no write
// timeout, since latencies and hangs are the point.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// Main runs the fake sender as a command: it parses args (without the program or
// subcommand name), listens, prints one line with its URL to stdout, logs to
// stderr, and shuts down gracefully when ctx is cancelled. Returns nil after -h.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, addr, err := parseFlags(args, time.Now(), stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("error listening on %s: %w", addr, err)
	}
	fake := New(cfg)
	srv := newHTTPServer(fake, cfg.Logger)
	if _, err := fmt.Fprintf(stdout, "fake sender listening on http://%s\n", ln.Addr()); err != nil {
		_ = ln.Close() // The write error is the one worth reporting.
		return fmt.Errorf("error printing the listening address: %w", err)
	}
	cfg.Logger.Info("fake sender started", slog.String("addr", ln.Addr().String()),
		slog.Int64("seed", fake.Seed()), slog.Bool("token_required", cfg.Token != ""))

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("error serving the fake sender: %w", err)
	case <-ctx.Done():
	}
	cfg.Logger.Info("fake sender shutting down")
	if err := shutdown(srv, fake); err != nil {
		return err
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("error serving the fake sender: %w", err)
	}
	return nil
}

// Start runs a Fake configured by cfg on a loopback port, for in-process use (the
// demo sender of a bare `make run`, tests that need a real listener). It returns
// the Fake, its base URL ("http://127.0.0.1:PORT") and a stop function that
// shuts the server down and waits for it; stop is idempotent. Returns an error if
// cfg is invalid or the port cannot be opened.
func Start(cfg Config) (*Fake, string, func(), error) {
	if err := cfg.Validate(); err != nil {
		return nil, "", nil, fmt.Errorf("error validating the fake sender config: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("error listening on a loopback port: %w", err)
	}
	fake := New(cfg)
	srv := newHTTPServer(fake, fake.logger)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fake.logger.Error("fake sender stopped serving", slog.Any("error", err))
		}
	}()
	stop := sync.OnceFunc(func() {
		if err := shutdown(srv, fake); err != nil {
			fake.logger.Error("fake sender shutdown", slog.Any("error", err))
		}
		<-done
	})
	return fake, "http://" + ln.Addr().String(), stop, nil
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// shutdown releases held requests, then shuts srv down gracefully, closing it
// outright if that takes longer than shutdownTimeout.
func shutdown(srv *http.Server, fake *Fake) error {
	fake.Close()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		closeErr := srv.Close()
		return fmt.Errorf("error shutting down the fake sender: %w", errors.Join(err, closeErr))
	}
	return nil
}

// parseFlags reads the command line into a Config and a listen address; relative
// outage windows are relative to start.
func parseFlags(args []string, start time.Time, stderr io.Writer) (Config, string, error) {
	var cfg Config
	fs := flag.NewFlagSet("fakesender", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fakesender [flags]\n\nA fake of the external sending API (POST /v1/send/{msgId}) with admin endpoints under /admin/.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:9090", "listen `address`")
	fs.StringVar(&cfg.Token, "token", "", "required bearer `token` (empty: any bearer token)")
	fs.DurationVar(&cfg.LatencyMin, "latency-min", 0, "minimum latency (uniform between -latency-min and -latency-max; fixed if max <= min)")
	fs.DurationVar(&cfg.LatencyMax, "latency-max", 0, "maximum latency")
	fs.DurationVar(&cfg.LatencyMean, "latency-mean", 0, "mean of a normal latency (replaces the uniform one when > 0)")
	fs.DurationVar(&cfg.LatencyStddev, "latency-stddev", 0, "standard deviation of the normal latency")
	fs.Float64Var(&cfg.ErrorRate, "error-rate", 0, "`rate` of 5xx answers (500, 502, 503)")
	fs.Float64Var(&cfg.HangRate, "hang-rate", 0, "`rate` of requests held without an answer until the client gives up")
	fs.DurationVar(&cfg.MaxHang, "max-hang", DefaultMaxHang, "longest hang before the connection is dropped")
	fs.Float64Var(&cfg.MalformedRate, "malformed-rate", 0, "`rate` of 200 answers with a garbage body or a non-zero code")
	fs.Float64Var(&cfg.TooManyRate, "429-rate", 0, "`rate` of 429 answers with Retry-After")
	fs.DurationVar(&cfg.RetryAfter, "retry-after", DefaultRetryAfter, "Retry-After of 429 answers, rounded up to seconds (negative: no header)")
	fs.Float64Var(&cfg.RejectRate, "reject-rate", 0, "`rate` of permanent 400 rejections")
	fs.Func("outage", "outage `window` FROM/TO, each RFC 3339 or +DURATION from start, either may be empty (repeatable)", func(s string) error {
		o, err := parseOutage(s, start)
		if err != nil {
			return err
		}
		cfg.Outages = append(cfg.Outages, o)
		return nil
	})
	fs.BoolVar(&cfg.OutageDrop, "outage-drop", false, "during outages drop connections instead of answering 503")
	fs.Int64Var(&cfg.Seed, "seed", 0, "random `seed` (0: random)")

	if err := fs.Parse(args); err != nil {
		return Config{}, "", err
	}
	if fs.NArg() > 0 {
		return Config{}, "", fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, "", fmt.Errorf("error in flags: %w", err)
	}
	return cfg, *addr, nil
}

// parseOutage parses FROM/TO, each an RFC 3339 time, +DURATION relative to start,
// or empty for an open end.
func parseOutage(s string, start time.Time) (Outage, error) {
	fromStr, toStr, ok := strings.Cut(s, "/")
	if !ok {
		return Outage{}, fmt.Errorf("outage %q: want FROM/TO", s)
	}
	from, err := parseOutageTime(fromStr, start)
	if err != nil {
		return Outage{}, fmt.Errorf("outage %q: from: %w", s, err)
	}
	to, err := parseOutageTime(toStr, start)
	if err != nil {
		return Outage{}, fmt.Errorf("outage %q: to: %w", s, err)
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return Outage{}, fmt.Errorf("outage %q: to must be after from", s)
	}
	return Outage{From: from, To: to}, nil
}

func parseOutageTime(s string, start time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case strings.HasPrefix(s, "+"):
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("error parsing relative time %q: %w", s, err)
		}
		return start.Add(d), nil
	default:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("error parsing time %q: want RFC 3339 or +DURATION: %w", s, err)
		}
		return t, nil
	}
}
