package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/notifyhq/notify/ent/auditentry"
	"github.com/notifyhq/notify/ent/idempotencykey"
)

// Pruned counts the rows one Prune deleted, by kind.
type Pruned struct {
	AuditEntries    int
	IdempotencyKeys int
}

// Prune deletes the rows the service keeps only for a while, each kind past
// its own retention: audit entries older than auditRetention
// (AUDIT_RETENTION; 0 keeps them all; README, "Audit log") and idempotency
// keys older than IdempotencyTTL (a claim of such a key claims it afresh
// anyway: pruning only bounds the table). It returns how many of each it
// deleted, up to the first error.
func (s *Service) Prune(ctx context.Context, auditRetention time.Duration) (Pruned, error) {
	now := dbTime(s.now())
	var (
		p   Pruned
		err error
	)
	if auditRetention > 0 {
		p.AuditEntries, err = s.db.Ent.AuditEntry.Delete().Where(auditentry.AtLT(now.Add(-auditRetention))).Exec(ctx)
		if err != nil {
			return p, fmt.Errorf("error pruning the audit log: %w", err)
		}
	}
	p.IdempotencyKeys, err = s.db.Ent.IdempotencyKey.Delete().Where(idempotencykey.CreatedAtLT(now.Add(-IdempotencyTTL))).Exec(ctx)
	if err != nil {
		return p, fmt.Errorf("error pruning idempotency keys: %w", err)
	}
	if p != (Pruned{}) {
		s.logger.InfoContext(ctx, "expired rows pruned", "audit_entries", p.AuditEntries, "idempotency_keys", p.IdempotencyKeys)
	}
	return p, nil
}
