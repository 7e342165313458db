package campaign

import (
	"context"
	"maps"
	"net/url"
	"strconv"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/database"
)

// Lifecycle events announced to webhook receivers (README, "Webhooks";
// docs/product.md, "Webhooks").
const (
	// EventMailingStarted: the mailing's start came due; it is running and
	// its recipients are being selected.
	EventMailingStarted = "mailing.started"
	// EventMailingFinished: the mailing finished and none of its messages
	// expired: each was sent, failed or cancelled.
	EventMailingFinished = "mailing.finished"
	// EventMailingCancelled: the mailing was cancelled; its unsent messages
	// are cancelled.
	EventMailingCancelled = "mailing.cancelled"
	// EventMailingExpired: the mailing finished with messages that expired:
	// its end came (or it was resumed after its end) before they could be
	// sent.
	EventMailingExpired = "mailing.expired"
	// EventImportFinished: a CSV import of clients ended, finished or failed.
	EventImportFinished = "import.finished"
)

// Event is a lifecycle event as the domain announces it.
type Event struct {
	Type string
	// MailingID is the mailing the event is about; 0 for an import.
	MailingID int
	// URL is the mailing's own receiver (webhook_url); nil for WEBHOOK_URL.
	URL *string
	// At is when it happened, by the service's clock.
	At time.Time
	// Data is the payload's data object.
	Data map[string]any
}

// Announcer records a lifecycle event for its webhook receivers inside the
// transaction of the change it announces, so that both commit or neither
// does (webhook.Outbox implements it with a delivery row and its River
// job). A nil Announcer (webhooks off) announces nothing.
type Announcer interface {
	Announce(ctx context.Context, tx *database.Tx, e Event) error
}

// announce hands e to the announcer, in tx.
func (s *Service) announce(ctx context.Context, tx *database.Tx, e Event) error {
	if s.announcer == nil {
		return nil
	}
	e.At = s.now()
	return s.announcer.Announce(ctx, tx, e)
}

// mailingEvent is an event about m (in its new status), with extra data.
func mailingEvent(typ string, m *ent.Mailing, extra map[string]any) Event {
	data := map[string]any{
		"mailing_id": m.ID,
		"status":     string(m.Status),
		"start_at":   m.StartAt.UTC(),
		"end_at":     m.EndAt.UTC(),
	}
	maps.Copy(data, extra)
	return Event{Type: typ, MailingID: m.ID, URL: m.WebhookURL, Data: data}
}

// checkWebhookURL checks a mailing's webhook receiver: an http or https URL
// with a host and no user name or password, of at most 2,048 characters,
// accepted only while webhooks are on (WEBHOOK_SECRET is set: events are
// signed with it). Where it may connect to is checked when it is sent
// (internal/webhook/guard.go: public addresses only, unless
// WEBHOOK_ALLOW_PRIVATE), after name resolution, which is the only place a
// name's address can be known.
func checkWebhookURL(v *ValidationError, raw *string, on bool) {
	if raw == nil {
		return
	}
	u, err := url.Parse(*raw)
	switch {
	case !on:
		v.add("webhookUrl", "webhooks are off: the service has no WEBHOOK_SECRET")
	case len(*raw) > 2048:
		v.add("webhookUrl", "must be at most 2048 characters")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "":
		v.add("webhookUrl", "must be an http or https URL with a host, such as https://hooks.example/notify")
	case u.User != nil:
		v.add("webhookUrl", "must not hold a user name or password (a token may go in the path or query)")
	case !validPort(u.Port()):
		v.add("webhookUrl", "must have a port from 1 to 65535")
	}
}

// validPort reports whether a URL's port is absent or 1 to 65535.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

func equalPtr[T comparable](a, b *T) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
