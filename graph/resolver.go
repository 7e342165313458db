// Package graph is the GraphQL transport: gqlgen resolvers over the domain
// service. A resolver decodes its input, makes one call into
// internal/campaign and returns the result; conversions live in convert.go
// and the mapping of domain errors to GraphQL error codes in errors.go.
package graph

import (
	"log/slog"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/report"
)

// Resolver holds the dependencies of the resolvers.
type Resolver struct {
	Service *campaign.Service
	Ent     *ent.Client
	// Events is the live status feed of the subscriptions.
	Events *event.Bus
	Logger *slog.Logger
	// Reports builds and sends the daily report (dailyReport, sendDailyReport).
	Reports *report.Service
}
