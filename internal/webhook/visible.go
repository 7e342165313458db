package webhook

import (
	"context"

	"github.com/notifyhq/notify/internal/auth"
)

// VisibleURL is a mailing's webhookUrl as the caller of ctx may read it
// (README, "Webhooks"): the URL may carry a token of its receiver (in its
// path or query), so viewers read null; operators and admins, who set it
// and read the deliveries, read it. Without a principal the API is open
// (README, "Security"): anyone may do anything, and reads it too.
func VisibleURL(ctx context.Context, url *string) *string {
	if p := auth.PrincipalFrom(ctx); p != nil && !p.Can(auth.Operator) {
		return nil
	}
	return url
}
