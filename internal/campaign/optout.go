package campaign

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/mailing"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/ent/optout"
	"github.com/notifyhq/notify/ent/predicate"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
)

// Opt-outs (docs/product.md, "Opt-outs"): a phone that must never receive a
// message again. They are kept by phone, so a client deleted and created
// again stays out; recipient selection leaves them out (RecipientsPostgres,
// RecipientsSQLite), and opting a phone out cancels the unsent messages to
// it: those whose own phone it is (a message keeps the phone its client had
// when it was selected, and goes to that one).

// Actions and target of the audit log for opt-outs.
const (
	ActionOptOut  = "opt_out.create"
	ActionOptIn   = "opt_out.delete"
	TargetOptOut  = "opt_out"
	MaxReasonSize = 500
)

// OptedOutPrefix starts the last error of a message an opt-out cancelled:
// "opted out: <reason>".
const OptedOutPrefix = "opted out"

// OptOutFilter selects opt-outs; nil fields do not constrain.
type OptOutFilter struct {
	Phone     *string
	CreatedBy *string
	From, To  *time.Time
}

// Predicates returns f as ent predicates. Returns a *ValidationError when a
// text field cannot be compared (not UTF-8, a NUL byte), naming it under
// "where.".
func (f OptOutFilter) Predicates() ([]predicate.OptOut, error) {
	var ps []predicate.OptOut
	if f.Phone != nil {
		if !ValidFilterText(*f.Phone) {
			return nil, invalid("where.phone", "must be UTF-8 text without NUL bytes")
		}
		ps = append(ps, optout.Phone(*f.Phone))
	}
	if f.CreatedBy != nil {
		if !ValidFilterText(*f.CreatedBy) {
			return nil, invalid("where.createdBy", "must be UTF-8 text without NUL bytes")
		}
		ps = append(ps, optout.CreatedBy(*f.CreatedBy))
	}
	if f.From != nil {
		ps = append(ps, optout.CreatedAtGTE(dbTime(*f.From)))
	}
	if f.To != nil {
		ps = append(ps, optout.CreatedAtLT(dbTime(*f.To)))
	}
	return ps, nil
}

// OptOuts returns a query of the opt-outs matching f, for the transports to
// page through. Returns a *ValidationError for a filter it cannot use.
func (s *Service) OptOuts(f OptOutFilter) (*ent.OptOutQuery, error) {
	ps, err := f.Predicates()
	if err != nil {
		return nil, err
	}
	return s.db.Ent.OptOut.Query().Where(ps...), nil
}

// checkOptOut validates an opt-out's input: a *ValidationError naming
// phone or reason, or nil.
func checkOptOut(phone, reason string) error {
	v := &ValidationError{}
	checkPhone(v, "phone", phone)
	checkReason(v, "reason", reason)
	return v.err()
}

func checkReason(v *ValidationError, field, reason string) {
	if !ValidFilterText(reason) {
		v.add(field, "must be valid UTF-8 text without NUL characters")
	} else if n := utf8.RuneCountInString(reason); n > MaxReasonSize {
		v.add(field, "must be at most %d characters, got %d", MaxReasonSize, n)
	}
}

// OptOut opts phone out: it is recorded (once: opting out a phone already
// out returns the existing opt-out unchanged), and in the same transaction
// the unsent messages to that phone become cancelled with the last error
// "opted out: <reason>". On Postgres it first takes the
// sending lock of each mailing concerned exclusive, as a cancel does, so a
// batch starting requests for one of them finishes first and every later
// admission sees the cancelled messages (internal/delivery re-checks what it
// loaded when an opt-out came after). Returns a *ValidationError naming
// phone or reason.
func (s *Service) OptOut(ctx context.Context, phone, reason string) (*ent.OptOut, error) {
	if err := checkOptOut(phone, reason); err != nil {
		return nil, err
	}
	var (
		out     *ent.OptOut
		changes []StatusChange
		created bool
	)
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		existing, err := tx.Ent.OptOut.Query().Where(optout.Phone(phone)).Only(ctx)
		switch {
		case err == nil:
			out = existing
		case ent.IsNotFound(err):
			name, _ := s.actorOf(ctx)
			out, err = tx.Ent.OptOut.Create().
				SetPhone(phone).
				SetReason(reason).
				SetCreatedAt(dbTime(s.now())).
				SetCreatedBy(name).
				Save(ctx)
			if ent.IsConstraintError(err) {
				// Another request opted it out meanwhile: its row stands.
				out, err = tx.Ent.OptOut.Query().Where(optout.Phone(phone)).Only(ctx)
			} else if err == nil {
				created = true
			}
			if err != nil {
				return fmt.Errorf("error opting out %s: %w", phone, err)
			}
		default:
			return fmt.Errorf("error loading the opt-out of %s: %w", phone, err)
		}
		changes, err = s.cancelOptedOut(ctx, tx, phone, OptedOutPrefix+": "+out.Reason)
		if err != nil || !created {
			return err
		}
		return s.record(ctx, tx, ActionOptOut, TargetOptOut, out.ID, nil, optOutFields(out))
	})
	if err != nil {
		return nil, err
	}
	if created {
		s.logger.InfoContext(ctx, "phone opted out", "opt_out_id", out.ID, "messages_cancelled", len(changes))
	}
	s.published(ctx, changes)
	return out, nil
}

// cancelOptedOut cancels the unsent messages to phone, in tx, and returns
// the status changes to publish after commit. A message goes to its own
// phone, copied from its client when it was selected, so that is the phone
// matched, not the clients' phones now: after a client's phone changed, an
// opt-out of the old phone still cancels the message on its way there, and
// one of the new phone leaves it. Only mailings that are not closed have
// unsent messages; naming them finds the messages through the
// (mailing_id, status, id) index on both databases, as a cancel does.
func (s *Service) cancelOptedOut(ctx context.Context, tx *database.Tx, phone, lastError string) ([]StatusChange, error) {
	open, err := tx.Ent.Mailing.Query().Where(mailing.StatusNotIn(status.Finished, status.MailingCanceled)).IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("error finding the open mailings: %w", err)
	}
	if len(open) == 0 {
		return nil, nil
	}
	unsent := []predicate.Message{message.MailingIDIn(open...), message.StatusIn(Unsent...), message.Phone(phone)}
	if s.db.Dialect == dialect.Postgres {
		var mailingIDs []int
		err := tx.Ent.Message.Query().Where(unsent...).Unique(true).Select(message.FieldMailingID).Scan(ctx, &mailingIDs)
		if err != nil {
			return nil, fmt.Errorf("error finding the mailings of %s: %w", phone, err)
		}
		slices.Sort(mailingIDs)
		for _, id := range slices.Compact(mailingIDs) {
			if err := lockSending(ctx, tx, s.db.Dialect, id, "pg_advisory_xact_lock"); err != nil {
				return nil, err
			}
		}
	}
	q := tx.Ent.Message.Query().Where(unsent...).Order(ent.Asc(message.FieldID))
	if s.db.Dialect == dialect.Postgres {
		q = q.ForUpdate()
	}
	rows, err := q.Select(message.FieldID, message.FieldMailingID, message.FieldCustomerID, message.FieldAttempts).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("error loading the unsent messages of %s: %w", phone, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	now := s.now()
	ids := make([]int, len(rows))
	changes := make([]StatusChange, len(rows))
	for i, m := range rows {
		ids[i] = m.ID
		changes[i] = StatusChange{MessageID: m.ID, MailingID: m.MailingID, ClientID: m.CustomerID, Status: status.MessageCanceled, Attempts: m.Attempts, At: now}
	}
	err = tx.Ent.Message.Update().
		Where(message.IDIn(ids...), message.StatusIn(Unsent...)).
		SetStatus(status.MessageCanceled).
		SetLastError(lastError).
		ClearNextAttemptAt().
		SetUpdatedAt(now).
		Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("error cancelling the messages of %s: %w", phone, err)
	}
	return changes, nil
}

// OptIn removes the opt-out of phone: mailings selecting their recipients
// later may choose it again (messages it cancelled stay cancelled). It
// reports whether phone was opted out. Returns a *ValidationError naming
// phone.
func (s *Service) OptIn(ctx context.Context, phone string) (bool, error) {
	v := &ValidationError{}
	checkPhone(v, "phone", phone)
	if err := v.err(); err != nil {
		return false, err
	}
	var removed *ent.OptOut
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		cur, err := tx.Ent.OptOut.Query().Where(optout.Phone(phone)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("error loading the opt-out of %s: %w", phone, err)
		}
		if err := tx.Ent.OptOut.DeleteOneID(cur.ID).Exec(ctx); err != nil {
			return fmt.Errorf("error opting in %s: %w", phone, err)
		}
		removed = cur
		return s.record(ctx, tx, ActionOptIn, TargetOptOut, cur.ID, optOutFields(cur), nil)
	})
	if err != nil || removed == nil {
		return false, err
	}
	s.logger.InfoContext(ctx, "phone opted in", "opt_out_id", removed.ID)
	return true, nil
}

// optOutFields are the fields of an opt-out the audit log records.
func optOutFields(o *ent.OptOut) map[string]any {
	return map[string]any{
		"phone":      o.Phone,
		"reason":     o.Reason,
		"created_by": o.CreatedBy,
		"created_at": auditTime(o.CreatedAt),
	}
}
