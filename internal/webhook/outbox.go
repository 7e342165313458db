package webhook

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
)

// Scheduler inserts the River job that delivers a webhook delivery, in the
// caller's transaction (jobs.Scheduler implements it).
type Scheduler interface {
	ScheduleDelivery(ctx context.Context, tx *database.Tx, deliveryID int) error
}

// Outbox is the campaign.Announcer of the service: it records each event as
// a WebhookDelivery to its receiver, with the job that sends it, in the
// transaction of the change the event announces.
type Outbox struct {
	url  string
	jobs Scheduler
}

// NewOutbox returns the outbox sending events to defaultURL (WEBHOOK_URL;
// "" for none), or to a mailing's own webhook_url when it has one.
func NewOutbox(defaultURL string, jobs Scheduler) *Outbox {
	return &Outbox{url: defaultURL, jobs: jobs}
}

// Payload is the body of a webhook request, as the Standard Webhooks
// specification suggests: the event type, when it happened, and its data.
type Payload struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// Announce records e for its receiver; an event with none (no webhook_url
// and no WEBHOOK_URL) is dropped.
func (o *Outbox) Announce(ctx context.Context, tx *database.Tx, e campaign.Event) error {
	url := o.url
	if e.URL != nil && *e.URL != "" {
		url = *e.URL
	}
	if url == "" {
		return nil
	}
	body, err := json.Marshal(Payload{Type: e.Type, Timestamp: e.At.UTC(), Data: e.Data})
	if err != nil {
		return fmt.Errorf("error encoding webhook event %s: %w", e.Type, err)
	}
	create := tx.Ent.WebhookDelivery.Create().
		SetWebhookID("msg_" + rand.Text()).
		SetEvent(e.Type).
		SetURL(url).
		SetPayload(string(body)).
		SetNextAttemptAt(e.At).
		SetCreatedAt(e.At)
	if e.MailingID != 0 {
		create.SetMailingID(e.MailingID)
	}
	d, err := create.Save(ctx)
	if err != nil {
		return fmt.Errorf("error recording webhook event %s: %w", e.Type, err)
	}
	return o.jobs.ScheduleDelivery(ctx, tx, d.ID)
}
