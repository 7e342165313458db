package webhook

import (
	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/predicate"
	"github.com/notifyhq/notify/ent/webhookdelivery"
	"github.com/notifyhq/notify/internal/status"
)

// Filter selects webhook deliveries for GraphQL's webhookDeliveries and REST's
// GET /webhooks/deliveries/; nil fields do not filter.
type Filter struct {
	Event     *string
	MailingID *int
	State     *status.Delivery
}

// Predicates returns the filter as ent predicates.
func (f Filter) Predicates() []predicate.WebhookDelivery {
	var ps []predicate.WebhookDelivery
	if f.Event != nil {
		ps = append(ps, webhookdelivery.Event(*f.Event))
	}
	if f.MailingID != nil {
		ps = append(ps, webhookdelivery.MailingID(*f.MailingID))
	}
	if f.State != nil {
		ps = append(ps, webhookdelivery.StateEQ(*f.State))
	}
	return ps
}

// Query is the deliveries f selects.
func (f Filter) Query(c *ent.Client) *ent.WebhookDeliveryQuery {
	return c.WebhookDelivery.Query().Where(f.Predicates()...)
}
