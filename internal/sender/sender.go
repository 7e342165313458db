// Package sender is the client of the external sending API (docs/design.md,
// "A hostile sender"): POST {BaseURL}/v1/send/{msgId} with a bearer token and
// a small JSON body.
//
// The API is treated as hostile. Every answer is classified as Sent, Transient
// (retry later with the same msgId) or Permanent (give up), a circuit breaker
// backs the whole service off while the API keeps failing, an optional rate
// limiter caps this instance's request rate and an optional Quota the
// cluster's, and a semaphore of Config.Concurrency slots lets the batch
// worker bound the requests in flight. Backoff and NextAttempt compute when a
// message is due again.
//
// The client is built for tens of thousands of requests a second on loopback:
// one shared keep-alive transport sized for the concurrency, bodies encoded by
// appending into a byte slice, response bodies read into pooled buffers and
// drained so that connections are reused.
package sender

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Defaults applied by New to zero Config fields (README, "Configuration").
const (
	// DefaultTimeout is the per-request timeout (SENDER_TIMEOUT).
	DefaultTimeout = 10 * time.Second
	// DefaultConcurrency is the number of requests in flight per instance (SENDER_CONCURRENCY).
	DefaultConcurrency = 64
	// DefaultRateBurst is the rate limiter's burst when MaxRPS is set.
	DefaultRateBurst = 1
)

const (
	// maxBodyRead is how much of an answer is read for classification. The
	// expected answer is ~30 bytes; anything larger is garbage anyway.
	maxBodyRead = 16 << 10
	// maxDrain is how much more of an answer is read and discarded so that the
	// connection can be reused; beyond that closing the connection is cheaper.
	maxDrain = 256 << 10
	// maxSnippet caps the response body quoted in a Permanent error.
	maxSnippet = 200
	// sendPath is the API's path prefix, followed by the msgId.
	sendPath = "/v1/send/"
)

// Outcome is the classification of one send attempt.
type Outcome int

const (
	// Sent means the API answered HTTP 200 with {"code": 0}.
	Sent Outcome = iota
	// Transient means the attempt failed in a way that may succeed later
	// (network, timeout, 5xx, 429, 401, 403, 408, malformed or non-zero-code
	// answers, caller cancellation): retry with backoff and the same msgId.
	Transient
	// Permanent means the API refused the message (any other 4xx) or the
	// request could not be built (an invalid phone): do not retry.
	Permanent
)

// String returns the outcome's lower-case name, as used in logs and metrics.
func (o Outcome) String() string {
	switch o {
	case Sent:
		return "sent"
	case Transient:
		return "transient"
	case Permanent:
		return "permanent"
	default:
		return "outcome(" + strconv.Itoa(int(o)) + ")"
	}
}

// Observer receives metrics hooks. Implementations must be cheap and safe for
// concurrent use; ObserveBreaker is called while the breaker's lock is held,
// so it must not call back into the Client.
type Observer interface {
	// ObserveSend is called once per request actually attempted (Result.Attempted).
	ObserveSend(outcome Outcome, status int, d time.Duration)
	// ObserveBreaker is called on every circuit breaker state change.
	ObserveBreaker(state BreakerState)
}

// Quota is a request quota shared with other instances (internal/quota:
// SENDER_MAX_RPS_CLUSTER, README "Configuration"). Wait blocks until one
// request may be started now and takes that right, or returns an error (the
// context's, or the quota's own), in which case no request is made.
type Quota interface {
	Wait(ctx context.Context) error
}

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// BaseURL is the API's absolute http(s) URL, e.g. "http://127.0.0.1:9090".
	BaseURL string
	// Token is sent as "Authorization: Bearer {Token}"; empty sends no
	// Authorization header. It is never logged.
	Token string
	// Timeout caps each request (default 10s).
	Timeout time.Duration
	// Concurrency is the number of slots (Acquire) and the transport's
	// connection limit per host (default 64).
	Concurrency int
	// MaxRPS limits requests per second; 0 disables the limiter.
	MaxRPS float64
	// RateBurst is the limiter's burst when MaxRPS > 0 (default 1).
	RateBurst int
	// Quota, when set, is asked for every request after the per-instance
	// limiter: the cluster's requests per second (SENDER_MAX_RPS_CLUSTER).
	Quota Quota
	// Breaker configures the circuit breaker.
	Breaker BreakerConfig
	// Now is the clock of the circuit breaker and of Retry-After dates
	// (default time.Now). Request timeouts use the real clock, since the
	// runtime enforces them.
	Now func() time.Time
	// Logger receives circuit breaker transitions (default: discard).
	Logger *slog.Logger
	// Observer, when set, receives metrics hooks.
	Observer Observer
}

// withDefaults returns a copy of c with defaults filled in.
func (c Config) withDefaults() Config {
	c.Timeout = cmp.Or(c.Timeout, DefaultTimeout)
	c.Concurrency = cmp.Or(c.Concurrency, DefaultConcurrency)
	c.RateBurst = cmp.Or(c.RateBurst, DefaultRateBurst)
	c.Breaker = c.Breaker.withDefaults()
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate checks c after defaults, naming the offending field.
func (c Config) validate() (*url.URL, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("invalid BaseURL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid BaseURL %q: must be an absolute http(s) URL", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid BaseURL %q: must not have a query or fragment", u.Redacted())
	}
	switch {
	case c.Timeout < 0:
		return nil, fmt.Errorf("invalid Timeout %s: must be positive", c.Timeout)
	case c.Concurrency < 0:
		return nil, fmt.Errorf("invalid Concurrency %d: must be positive", c.Concurrency)
	case c.MaxRPS < 0 || math.IsNaN(c.MaxRPS) || math.IsInf(c.MaxRPS, 0):
		return nil, fmt.Errorf("invalid MaxRPS %v: must be a finite number >= 0", c.MaxRPS)
	case c.RateBurst < 0:
		return nil, fmt.Errorf("invalid RateBurst %d: must be positive", c.RateBurst)
	}
	if err := c.Breaker.validate(); err != nil {
		return nil, err
	}
	return u, nil
}

// Client sends messages to the external API. It is safe for concurrent use;
// create one per process and share it.
type Client struct {
	cfg       Config
	http      *http.Client
	transport *http.Transport
	urlPrefix string      // BaseURL + "/v1/send/"
	header    http.Header // shared and never modified: the transport only reads it
	limiter   *rate.Limiter
	slots     chan struct{}
	breaker   *breaker
	bufs      sync.Pool // *[]byte of maxBodyRead, for response bodies
}

// New returns a Client for cfg with defaults filled in. It returns an error
// naming the field if BaseURL is not an absolute http(s) URL or a number is
// out of range.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := cfg.validate()
	if err != nil {
		return nil, fmt.Errorf("error configuring sender: %w", err)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""

	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		MaxConnsPerHost:     cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: cfg.Timeout,
		// The answers are tiny: gzip would only cost CPU on both ends.
		DisableCompression: true,
		ForceAttemptHTTP2:  true,
	}
	header := http.Header{"Content-Type": {"application/json"}}
	if cfg.Token != "" {
		header["Authorization"] = []string{"Bearer " + cfg.Token}
	}
	c := &Client{
		cfg:       cfg,
		transport: transport,
		http: &http.Client{
			Transport: transport,
			// A redirect of a POST is not part of the API; it is classified, not followed.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		urlPrefix: u.String() + sendPath,
		header:    header,
		slots:     make(chan struct{}, cfg.Concurrency),
		breaker:   newBreaker(cfg.Breaker, cfg.Timeout, cfg.Logger, cfg.Observer),
	}
	c.bufs.New = func() any {
		b := make([]byte, maxBodyRead)
		return &b
	}
	if cfg.MaxRPS > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.MaxRPS), cfg.RateBurst)
	}
	return c, nil
}

// Timeout is the timeout of one request (Config.Timeout, SENDER_TIMEOUT):
// the engine gives a message its last chance a whole Timeout before the
// mailing's end.
func (c *Client) Timeout() time.Duration { return c.cfg.Timeout }

// Close releases idle connections. Requests in flight are not interrupted.
func (c *Client) Close() {
	c.transport.CloseIdleConnections()
}

// Request is one message to send.
type Request struct {
	// ID is the message id, sent as msgId in the path and "id" in the body;
	// retries reuse it so the receiver can deduplicate.
	ID int64
	// Phone is "7XXXXXXXXXX", sent as a JSON integer.
	Phone string
	// Text is the message text.
	Text string
	// Deadline is the mailing's end_at; zero means none. The request's
	// deadline is min(now+Timeout, Deadline), and no request is started at or
	// after Deadline.
	Deadline time.Time
}

// Result is the outcome of one Send.
type Result struct {
	// Outcome classifies the attempt.
	Outcome Outcome
	// Status is the HTTP status, 0 if no answer was received.
	Status int
	// RetryAfter is the delay asked for by a 429 or 503 Retry-After header
	// (seconds or HTTP-date, capped at MaxRetryAfter), 0 if absent.
	RetryAfter time.Duration
	// Err is nil when Sent, otherwise a short human reason such as "http 503",
	// "timeout after 10s", "malformed body: …" or "code 7: message". It wraps
	// context.Canceled, context.DeadlineExceeded and ErrDeadlinePassed where
	// they apply.
	Err error
	// Duration is the time spent on the request (real clock), excluding any
	// wait for the rate limiter and the cluster quota.
	Duration time.Duration
	// Attempted reports whether a request was actually started, i.e. whether
	// the attempt counts towards the message's attempts. It is false when the
	// deadline had passed, the phone was invalid, the rate limiter or cluster
	// quota wait was cut short, or the quota could not be claimed.
	Attempted bool
}

// onceFunc calls fn at most once, from whichever goroutine gets there first.
type onceFunc struct {
	fn   func()
	done atomic.Bool
}

func (o *onceFunc) call() {
	if o.fn != nil && o.done.CompareAndSwap(false, true) {
		o.fn()
	}
}

// Send makes one attempt to deliver req and blocks until it is classified.
//
// onWritten, if not nil, is called exactly once: as soon as the request has
// been fully written to the connection (httptrace WroteRequest), or, if the
// attempt ends before that (invalid phone, deadline passed, rate limiter wait
// cut short, connection refused, …), before Send returns. It is therefore
// always called by the time Send returns, possibly from another goroutine,
// and must not block. The batch worker uses it to hold its admission lock
// exactly while requests are being started.
//
// Send neither takes a concurrency slot (see Acquire) nor consults the circuit
// breaker (see Allow); it records its outcome in the breaker. A cancellation
// of ctx by the caller yields Transient with an Err wrapping the context's
// error and does not count against the breaker.
func (c *Client) Send(ctx context.Context, req Request, onWritten func()) Result {
	written := onceFunc{fn: onWritten}
	defer written.call()

	body, ok := appendBody(make([]byte, 0, 64+len(req.Text)), req)
	if !ok {
		return Result{Outcome: Permanent, Err: fmt.Errorf("invalid phone %q: want 7 followed by 10 digits", req.Phone)}
	}

	deadline, byDeadline, ok := c.deadline(time.Now(), req.Deadline)
	if !ok {
		return Result{Outcome: Transient, Err: ErrDeadlinePassed}
	}
	// The waits for the limiter and the quota may take up to that deadline.
	wctx, cancelWait := context.WithDeadline(ctx, deadline)
	defer cancelWait()
	if c.limiter != nil {
		if err := c.limiter.Wait(wctx); err != nil {
			if ctx.Err() != nil {
				return Result{Outcome: Transient, Err: fmt.Errorf("cancelled while waiting for the rate limiter: %w", context.Cause(ctx))}
			}
			return Result{Outcome: Transient, Err: fmt.Errorf("rate limit wait would pass the deadline: %w", context.DeadlineExceeded)}
		}
	}
	if c.cfg.Quota != nil {
		if err := c.cfg.Quota.Wait(wctx); err != nil {
			switch {
			case ctx.Err() != nil:
				return Result{Outcome: Transient, Err: fmt.Errorf("cancelled while waiting for the cluster quota: %w", context.Cause(ctx))}
			case wctx.Err() != nil:
				return Result{Outcome: Transient, Err: fmt.Errorf("cluster quota wait passed the deadline: %w", context.DeadlineExceeded)}
			}
			return Result{Outcome: Transient, Err: err}
		}
	}
	// The request itself gets its whole Timeout from when it starts: a wait
	// that ate it would make the request time out at the API, which may
	// have taken it (a duplicate, and a token of the quota spent for
	// nothing). The mailing's end still caps it.
	if c.limiter != nil || c.cfg.Quota != nil {
		if deadline, byDeadline, ok = c.deadline(time.Now(), req.Deadline); !ok {
			return Result{Outcome: Transient, Err: ErrDeadlinePassed}
		}
	}
	rctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	gen := c.breaker.begin(c.cfg.Now())
	start := time.Now()
	res := c.do(ctx, rctx, req.ID, body, &written)
	res.Duration = time.Since(start)
	res.Attempted = true
	if res.Status == 0 && res.Err != nil && errors.Is(res.Err, context.DeadlineExceeded) && ctx.Err() == nil {
		if byDeadline {
			res.Err = fmt.Errorf("deadline reached after %s: %w", res.Duration.Round(time.Millisecond), context.DeadlineExceeded)
		} else {
			res.Err = fmt.Errorf("timeout after %s: %w", c.cfg.Timeout, context.DeadlineExceeded)
		}
	}

	// Neither a caller's cancellation nor the mailing's own end says anything
	// about the API's health.
	neutral := (res.Status == 0 && ctx.Err() != nil) ||
		(byDeadline && res.Status == 0 && errors.Is(res.Err, context.DeadlineExceeded))
	c.breaker.record(c.cfg.Now(), gen, res.Outcome, neutral)
	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveSend(res.Outcome, res.Status, res.Duration)
	}
	return res
}

// deadline returns the deadline of a request starting at now:
// now+Timeout, capped at end (the mailing's end, when not zero; byEnd
// tells). ok is false when end is not after now: no request may start.
func (c *Client) deadline(now, end time.Time) (deadline time.Time, byEnd, ok bool) {
	deadline = now.Add(c.cfg.Timeout)
	if !end.IsZero() && !end.After(deadline) {
		if !end.After(now) {
			return time.Time{}, false, false
		}
		return end, true, true
	}
	return deadline, false, true
}

// Error is the type of the package's sentinel errors; being a string type,
// they are constants.
type Error string

// Error returns the message.
func (e Error) Error() string { return string(e) }

// ErrDeadlinePassed is wrapped by Result.Err when Request.Deadline had
// already passed before anything was sent: no request was made.
const ErrDeadlinePassed Error = "deadline passed before sending"

// do performs the HTTP exchange; ctx is the caller's, rctx carries the deadline.
func (c *Client) do(ctx, rctx context.Context, id int64, body []byte, written *onceFunc) Result {
	if written.fn != nil {
		rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { written.call() },
		})
	}
	hreq, err := http.NewRequestWithContext(rctx, http.MethodPost, c.urlPrefix+strconv.FormatInt(id, 10), bytes.NewReader(body))
	if err != nil {
		return Result{Outcome: Transient, Err: fmt.Errorf("error building request: %w", err)}
	}
	hreq.Header = c.header

	resp, err := c.http.Do(hreq)
	if err != nil {
		return Result{Outcome: Transient, Err: transportError(ctx, rctx, err)}
	}
	defer resp.Body.Close()

	bufp := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(bufp)
	n, readErr := io.ReadFull(resp.Body, *bufp)
	switch {
	case readErr == io.EOF || readErr == io.ErrUnexpectedEOF:
		readErr = nil
	case readErr == nil:
		// The buffer is full: drain a bounded rest so the connection is reused.
		_, readErr = io.CopyN(io.Discard, resp.Body, maxDrain)
		if readErr == io.EOF {
			readErr = nil
		}
	}

	res := Result{Status: resp.StatusCode}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter, _ = ParseRetryAfter(resp.Header.Get("Retry-After"), c.cfg.Now())
	}
	if readErr != nil && resp.StatusCode == http.StatusOK {
		// A 200 whose body did not arrive intact is not a confirmed send.
		res.Outcome, res.Err = Transient, fmt.Errorf("error reading answer: %w", transportError(ctx, rctx, readErr))
		return res
	}
	res.Outcome, res.Err = Classify(resp.StatusCode, (*bufp)[:n])
	return res
}

// transportError turns an error from the transport into a short reason,
// keeping the context errors reachable with errors.Is.
func transportError(ctx, rctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("cancelled: %w", context.Cause(ctx))
	}
	if rctx.Err() != nil {
		return fmt.Errorf("timeout: %w", context.DeadlineExceeded)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // drop the "Post <url>" prefix
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return fmt.Errorf("timeout: %w", err)
	}
	return fmt.Errorf("network error: %w", err)
}
