// Package graph is the GraphQL transport: gqlgen resolvers over the domain
// service. A resolver decodes its input, makes one call into
// internal/campaign and returns the result; conversions live in convert.go
// and the mapping of domain errors to GraphQL error codes in errors.go.
package graph

import (
	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
)

// Resolver holds the dependencies of the resolvers.
type Resolver struct {
	Service *campaign.Service
	Ent     *ent.Client
}
