package webhook

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// MaxAttempts is how many times a delivery is tried before it is given up
// (failed): with Backoff, over about four hours.
const MaxAttempts = 15

// Backoff is the wait after failed attempt n (1, 2, …): 2^(n-1) seconds,
// at most an hour.
func Backoff(n int) time.Duration {
	if n > 13 {
		return time.Hour
	}
	return min(time.Second<<max(n-1, 0), time.Hour)
}

// Config tunes a Deliverer; zero values take the defaults.
type Config struct {
	DB *database.DB
	// Signer signs every request; nil (no WEBHOOK_SECRET) fails each
	// attempt, so deliveries left from a run with a secret wait for one.
	Signer *Signer
	// Timeout bounds one attempt, from connecting to the answer's status
	// (default 10s).
	Timeout time.Duration
	// Backoff is the wait after failed attempt n (default Backoff).
	Backoff func(n int) time.Duration
	// TrustedURL is WEBHOOK_URL: set by the operator, its deliveries may
	// reach any address. Every other URL (a mailing's webhookUrl) reaches
	// only public addresses (guard.go), unless AllowPrivate.
	TrustedURL string
	// AllowPrivate (WEBHOOK_ALLOW_PRIVATE) lets a mailing's webhookUrl
	// reach loopback, private, link-local and other non-public addresses.
	AllowPrivate bool
	Now          func() time.Time
	Logger       *slog.Logger
}

// Deliverer makes the attempts of webhook deliveries; the River job of each
// delivery calls Deliver once per attempt.
type Deliverer struct {
	db      *database.DB
	signer  *Signer
	timeout time.Duration
	backoff func(int) time.Duration
	// client sends to mailings' own URLs; trusted to TrustedURL.
	client     *http.Client
	trusted    *http.Client
	trustedURL string
	now        func() time.Time
	logger     *slog.Logger
}

// NewDeliverer returns a Deliverer.
func NewDeliverer(c Config) *Deliverer {
	d := &Deliverer{
		db:         c.DB,
		signer:     c.Signer,
		timeout:    cmp.Or(c.Timeout, 10*time.Second),
		backoff:    c.Backoff,
		trusted:    newClient(false),
		trustedURL: c.TrustedURL,
		now:        c.Now,
		logger:     cmp.Or(c.Logger, slog.Default()),
	}
	if d.backoff == nil {
		d.backoff = Backoff
	}
	d.client = d.trusted
	if !c.AllowPrivate {
		d.client = newClient(true)
	}
	if d.now == nil {
		d.now = time.Now
	}
	return d
}

// Timeout is the bound of one attempt.
func (d *Deliverer) Timeout() time.Duration { return d.timeout }

// NextAttempt is when the attempt after failed attempt n is due.
func (d *Deliverer) NextAttempt(n int) time.Time { return d.now().Add(d.backoff(n)) }

// Deliver makes attempt n of a delivery (last: no attempt follows) and
// records it on the delivery's row: attempts, the answer's status or the
// error, and when the next attempt is due (or delivered_at, or failed). It
// returns nil when the receiver took it (a 2xx answer) or there is nothing
// to deliver, else the attempt's error, for River to try again. A
// destination refused (an error matching ErrRefused) fails the delivery at
// once: it is not tried again.
func (d *Deliverer) Deliver(ctx context.Context, id, n int, last bool) error {
	w, err := d.db.Ent.WebhookDelivery.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("error loading webhook delivery %d: %w", id, err)
	}
	if w.State != status.Pending {
		return nil
	}
	code, attemptErr := d.attempt(ctx, w)
	givenUp := attemptErr != nil && (last || errors.Is(attemptErr, ErrRefused))
	now := d.now().UTC()
	upd := d.db.Ent.WebhookDelivery.UpdateOneID(id).SetAttempts(max(n, w.Attempts+1))
	if code != 0 {
		upd.SetLastStatus(code)
	} else {
		upd.ClearLastStatus()
	}
	switch {
	case attemptErr == nil:
		upd.SetState(status.Delivered).SetDeliveredAt(now).ClearLastError().ClearNextAttemptAt()
	case givenUp:
		upd.SetState(status.Undelivered).SetLastError(attemptErr.Error()).ClearNextAttemptAt()
	default:
		upd.SetLastError(attemptErr.Error()).SetNextAttemptAt(now.Add(d.backoff(n)))
	}
	// Recorded even when the job's context ended (a shutdown): the
	// attempt was made.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := upd.Exec(wctx); err != nil {
		return fmt.Errorf("error recording attempt %d of webhook delivery %d: %w", n, id, err)
	}
	level := slog.LevelInfo
	if attemptErr != nil {
		level = slog.LevelWarn
	}
	d.logger.Log(ctx, level, "webhook attempt", "delivery_id", id, "event", w.Event, "attempt", n,
		"http_status", code, "error", errString(attemptErr), "given_up", givenUp)
	return attemptErr
}

// attempt sends the delivery's payload, signed, and returns the answer's
// status (0 without an answer) and, unless it is a 2xx, what went wrong.
func (d *Deliverer) attempt(ctx context.Context, w *ent.WebhookDelivery) (int, error) {
	if d.signer == nil {
		return 0, errors.New("WEBHOOK_SECRET is not set: the delivery cannot be signed")
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	body := []byte(w.Payload)
	// Checked when it was written (a mailing's webhookUrl, WEBHOOK_URL);
	// checked again for rows older than the checks.
	if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return 0, fmt.Errorf("%w: not an http or https URL with a host", ErrRefused)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: not an http or https URL with a host", ErrRefused)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "notify-webhooks")
	if err := d.signer.Sign(req.Header, w.WebhookID, d.now(), body); err != nil {
		return 0, err
	}
	client := d.client
	if d.trustedURL != "" && w.URL == d.trustedURL {
		client = d.trusted
	}
	resp, err := client.Do(req)
	if err != nil {
		var refused *RefusedError
		var urlErr *url.Error
		switch {
		case errors.As(err, &refused):
			if _, err := netip.ParseAddr(req.URL.Hostname()); err != nil {
				refused.Host = req.URL.Hostname()
			}
			return 0, refused
		case errors.Is(err, context.DeadlineExceeded):
			return 0, fmt.Errorf("no answer within %s", d.timeout)
		case errors.As(err, &urlErr):
			// Without the URL, which may hold a token (README,
			// "Webhooks"): the delivery shows it to those who may see it.
			return 0, urlErr.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	msg := strings.ToValidUTF8(strings.TrimSpace(string(snippet)), "?")
	return resp.StatusCode, fmt.Errorf("answered %d %s", resp.StatusCode, msg)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
