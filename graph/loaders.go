package graph

import (
	"context"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/notifyhq/notify/internal/campaign"
)

type loadersKey struct{}

// loaders batch the per-row lookups of one operation: the stats of every
// mailing of a page are counted with one query, not one per mailing.
type loaders struct {
	mailingStats *dataloadgen.Loader[int, *campaign.MailingStats]
}

func newLoaders(svc *campaign.Service) *loaders {
	return &loaders{
		mailingStats: dataloadgen.NewLoader(func(ctx context.Context, ids []int) ([]*campaign.MailingStats, []error) {
			stats, err := svc.MailingStatsOf(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			return stats, nil
		}, dataloadgen.WithWait(time.Millisecond)),
	}
}

// withLoaders gives an operation its own loaders (their cache lives as long
// as the operation, so a subscription's loaders must not be reused: it asks
// for fresh counts directly).
func withLoaders(ctx context.Context, svc *campaign.Service) context.Context {
	return context.WithValue(ctx, loadersKey{}, newLoaders(svc))
}

func loadersFrom(ctx context.Context, svc *campaign.Service) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return newLoaders(svc)
}
