package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// StartMailing is the start of a mailing whose start job (for startAt) came
// due, in tx (the sending engine's, which goes on to select the recipients
// in it): it locks the mailing, marks it running (one created with a past
// start_at is running already) and, the first time, fixes its recipients as
// the matching clients with an id up to the highest client id at this moment
// (recipients_through). It returns the mailing, or nil when the job is
// stale: the mailing is gone, closed, or its start_at moved since the job
// was scheduled (docs/product.md, "Lifecycle").
func (s *Service) StartMailing(ctx context.Context, tx *database.Tx, id int, startAt time.Time) (*ent.Mailing, error) {
	m, err := mailingForUpdate(ctx, tx, s.db.Dialect, id)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m.Status.Closed() || !m.StartAt.Equal(startAt) {
		return nil, nil
	}
	first := m.RecipientsThrough == nil
	if m.Status != status.Scheduled && !first {
		return m, nil
	}
	upd := tx.Ent.Mailing.UpdateOneID(id).SetUpdatedAt(s.now())
	if m.Status == status.Scheduled {
		upd.SetStatus(status.Running)
	}
	if first {
		var top sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(id) FROM clients`).Scan(&top); err != nil {
			return nil, fmt.Errorf("error starting mailing %d: %w", id, err)
		}
		upd.SetRecipientsThrough(int(top.Int64))
	}
	if m, err = upd.Save(ctx); err != nil {
		return nil, fmt.Errorf("error starting mailing %d: %w", id, err)
	}
	if first {
		if err := s.announce(ctx, tx, mailingEvent(EventMailingStarted, m, nil)); err != nil {
			return nil, err
		}
	}
	return m, nil
}
