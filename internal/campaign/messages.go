package campaign

import (
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/mailing"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/ent/messagecount"
	"github.com/notifyhq/notify/ent/predicate"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// Unsent lists the statuses of messages that may still be attempted.
var Unsent = []status.Message{status.Queued, status.Retrying}

// settleUnsent gives the unsent messages matching where a terminal status
// (cancelled or expired; expired keeps the last error) and returns the status
// changes it wrote, for the logs and the live feed. On Postgres the rows are
// locked first, in id order: a result the engine writes at the same moment
// lands either before (and the message is left alone) or after (and finds it
// settled), so the changes returned are exactly the writes made.
func (s *Service) settleUnsent(ctx context.Context, tx *database.Tx, now time.Time, where predicate.Message, to status.Message) ([]StatusChange, error) {
	q := tx.Ent.Message.Query().
		Where(where, message.StatusIn(Unsent...)).
		Order(ent.Asc(message.FieldID))
	if s.db.Dialect == dialect.Postgres {
		q = q.ForUpdate()
	}
	rows, err := q.Select(message.FieldID, message.FieldMailingID, message.FieldCustomerID, message.FieldAttempts).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("error loading unsent messages: %w", err)
	}
	changes := make([]StatusChange, len(rows))
	ids := make([]int, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
		changes[i] = StatusChange{MessageID: m.ID, MailingID: m.MailingID, ClientID: m.CustomerID, Status: to, Attempts: m.Attempts, At: now}
	}
	for chunk := range slices.Chunk(ids, 5000) {
		err := tx.Ent.Message.Update().
			Where(message.IDIn(chunk...), message.StatusIn(Unsent...)).
			SetStatus(to).
			SetUpdatedAt(now).
			Exec(ctx)
		if err != nil {
			return nil, fmt.Errorf("error marking messages %s: %w", to, err)
		}
	}
	return changes, nil
}

// published logs committed status changes, one line per message (its final
// status: the end of its story in the logs), and hands them to the live feed.
func (s *Service) published(ctx context.Context, changes []StatusChange) {
	for _, c := range changes {
		s.logger.InfoContext(ctx, "message "+string(c.Status),
			"message_id", c.MessageID, "mailing_id", c.MailingID, "client_id", c.ClientID,
			"status", string(c.Status), "attempts", c.Attempts)
	}
	if s.publisher == nil || len(changes) == 0 {
		return
	}
	s.publisher.MessagesChanged(ctx, changes)
	seen := map[int]bool{}
	for _, c := range changes {
		if !seen[c.MailingID] {
			seen[c.MailingID] = true
			s.publisher.MailingChanged(ctx, c.MailingID)
		}
	}
}

// mailingChanged tells the live feed, if any, that mailing id changed (after
// commit).
func (s *Service) mailingChanged(ctx context.Context, id int) {
	if s.publisher != nil {
		s.publisher.MailingChanged(ctx, id)
	}
}

// CloseMailing finishes a mailing whose end_at has passed: its unsent
// messages expire and it becomes finished. It does nothing to a mailing that
// is already closed or whose end_at is still ahead (it was moved), and
// returns whether it closed the mailing. Returns ErrNotFound.
func (s *Service) CloseMailing(ctx context.Context, id int) (bool, error) {
	now := s.now()
	var changes []StatusChange
	closed := false
	err := s.changeMailing(ctx, id, func(tx *database.Tx, m *ent.Mailing) error {
		if m.Status.Closed() || m.EndAt.After(now) {
			return nil
		}
		var err error
		if changes, err = s.settleUnsent(ctx, tx, now, message.MailingID(id), status.Expired); err != nil {
			return err
		}
		if m, err = tx.Ent.Mailing.UpdateOneID(id).SetStatus(status.Finished).SetUpdatedAt(now).Save(ctx); err != nil {
			return fmt.Errorf("error finishing mailing %d: %w", id, err)
		}
		closed = true
		return s.announceFinished(ctx, tx, m)
	})
	if err != nil {
		return false, err
	}
	if closed {
		s.logger.InfoContext(ctx, "mailing finished at its end", "mailing_id", id, "messages_expired", len(changes))
		s.published(ctx, changes)
		s.mailingChanged(ctx, id)
	}
	return closed, nil
}

// FinishIfDone marks a running mailing finished when its recipients are all
// selected and none of its messages is unsent any more (per message_counts,
// so it costs a few rows whatever the mailing's size), and returns whether it
// did.
func (s *Service) FinishIfDone(ctx context.Context, id int) (bool, error) {
	now := s.now()
	finished := false
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		m, err := tx.Ent.Mailing.UpdateOneID(id).
			Where(
				mailing.StatusEQ(status.Running),
				mailing.RecipientsSelectedAtNotNil(),
				mailing.Not(mailing.HasMessageCountsWith(messagecount.StatusIn(Unsent...), messagecount.CountGT(0))),
			).
			SetStatus(status.Finished).
			SetUpdatedAt(now).
			Save(ctx)
		if ent.IsNotFound(err) {
			return nil // gone, or not done yet
		}
		if err != nil {
			return err
		}
		finished = true
		return s.announceFinished(ctx, tx, m)
	})
	if err != nil {
		return false, fmt.Errorf("error finishing mailing %d: %w", id, err)
	}
	if finished {
		s.logger.InfoContext(ctx, "mailing finished", "mailing_id", id)
		s.mailingChanged(ctx, id)
	}
	return finished, nil
}

// announceFinished announces a mailing that finished, in tx:
// mailing.expired when some of its messages expired (its end came first),
// else mailing.finished. The count is message_counts', which the status
// writes of tx have updated already.
func (s *Service) announceFinished(ctx context.Context, tx *database.Tx, m *ent.Mailing) error {
	if s.announcer == nil {
		return nil
	}
	c, err := tx.Ent.MessageCount.Query().
		Where(messagecount.MailingID(m.ID), messagecount.StatusEQ(status.Expired)).
		Only(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("error counting expired messages of mailing %d: %w", m.ID, err)
	}
	if c != nil && c.Count > 0 {
		return s.announce(ctx, tx, mailingEvent(EventMailingExpired, m, map[string]any{"messages_expired": c.Count}))
	}
	return s.announce(ctx, tx, mailingEvent(EventMailingFinished, m, nil))
}

// QueuedMessages returns how many of a mailing's messages are queued (never
// attempted yet, or waiting for their window), from message_counts.
func (s *Service) QueuedMessages(ctx context.Context, id int) (int, error) {
	c, err := s.db.Ent.MessageCount.Query().
		Where(messagecount.MailingID(id), messagecount.StatusEQ(status.Queued)).
		Only(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("error counting queued messages of mailing %d: %w", id, err)
	}
	return int(c.Count), nil
}
