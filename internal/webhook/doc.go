// Package webhook delivers the service's lifecycle events to webhook
// receivers (README, "Webhooks"; docs/design.md, "Webhooks"): an event is
// recorded as a WebhookDelivery with the River job that sends it, in the
// transaction of the change it announces; the job sends it signed as the
// Standard Webhooks specification says, retries with backoff and records
// every attempt on the delivery. A mailing's own receiver is connected to
// only at public addresses (guard.go), and read only by operators and
// admins (VisibleURL).
package webhook
