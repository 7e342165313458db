package rest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/webhookdelivery"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/webhook"
)

// webhookDelivery is a webhook delivery as REST shows it (README,
// "Webhooks"). payload is the JSON body sent.
type webhookDelivery struct {
	ID            int             `json:"id"`
	WebhookID     string          `json:"webhook_id"`
	Event         string          `json:"event"`
	MailingID     *int            `json:"mailing_id"`
	URL           string          `json:"url"`
	Payload       json.RawMessage `json:"payload"`
	State         status.Delivery `json:"state"`
	Attempts      int             `json:"attempts"`
	LastStatus    *int            `json:"last_status"`
	LastError     *string         `json:"last_error"`
	NextAttemptAt *time.Time      `json:"next_attempt_at"`
	DeliveredAt   *time.Time      `json:"delivered_at"`
	CreatedAt     time.Time       `json:"created_at"`
}

func webhookDeliveryOut(d *ent.WebhookDelivery) webhookDelivery {
	payload := json.RawMessage(d.Payload)
	if !json.Valid(payload) {
		payload = json.RawMessage("{}") // only the outbox writes payloads: never happens
	}
	return webhookDelivery{
		ID: d.ID, WebhookID: d.WebhookID, Event: d.Event, MailingID: d.MailingID, URL: d.URL,
		Payload: payload, State: d.State, Attempts: d.Attempts, LastStatus: d.LastStatus,
		LastError: d.LastError, NextAttemptAt: utc(d.NextAttemptAt), DeliveredAt: utc(d.DeliveredAt),
		CreatedAt: d.CreatedAt.UTC(),
	}
}

// utc is t in UTC; nil stays nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return new(t.UTC())
}

// webhookFilter reads the filters of GET /webhooks/deliveries/: event,
// mailing_id and state (pending, delivered, failed).
func webhookFilter(r *http.Request) (webhook.Filter, error) {
	var f webhook.Filter
	if err := textParams(r, "event"); err != nil {
		return f, err
	}
	if v, ok := queryValue(r, "event"); ok {
		f.Event = &v
	}
	var err error
	if f.MailingID, err = param(r, "mailing_id", strconv.Atoi, "Enter a whole number."); err != nil {
		return f, err
	}
	if v, ok := queryValue(r, "state"); ok {
		st := status.Delivery(v)
		if st != status.Pending && st != status.Delivered && st != status.Undelivered {
			return f, queryError("state", "Must be pending, delivered or failed.")
		}
		f.State = &st
	}
	return f, nil
}

// listWebhookDeliveries is GET /webhooks/deliveries/: a page of webhook
// deliveries, newest first, for operators (the route's access level in
// server.go).
func (a *API) listWebhookDeliveries(r *http.Request) (int, any, error) {
	f, err := webhookFilter(r)
	if err != nil {
		return 0, nil, err
	}
	return list(r, f.Query(a.ent).Order(ent.Desc(webhookdelivery.FieldID)), webhookDeliveryOut)
}
