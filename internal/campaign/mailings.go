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
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/sendwindow"
	"github.com/notifyhq/notify/internal/status"
)

// dbTime is t as the database keeps it: UTC, to the microsecond (Postgres'
// precision). Jobs compare the times they were scheduled for with the
// stored ones, so both must be the same value.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// MailingInput is a new mailing.
type MailingInput struct {
	StartAt time.Time
	EndAt   time.Time
	Text    string
	Filter  Filter
	Window  *WindowInput
	// WebhookURL is the mailing's own webhook receiver; nil for WEBHOOK_URL.
	WebhookURL *string
}

// MailingPatch changes some fields of a mailing. Nil pointers leave a field
// as it is; ClearFilter and ClearWindow remove the filter or window (an
// explicit null in the API).
type MailingPatch struct {
	StartAt     *time.Time
	EndAt       *time.Time
	Text        *string
	Filter      *Filter
	ClearFilter bool
	Window      *WindowInput
	ClearWindow bool
	// WebhookURL sets the mailing's webhook receiver; ClearWebhookURL
	// removes it (events then go to WEBHOOK_URL).
	WebhookURL      *string
	ClearWebhookURL bool
}

// MailingFilter returns the filter of m.
func MailingFilter(m *ent.Mailing) Filter {
	return Filter{OperatorCodes: nonNil(m.FilterOperatorCodes), Tags: nonNil(m.FilterTags)}
}

// MailingWindow returns the send window of m, or nil when it has none.
func MailingWindow(m *ent.Mailing) *sendwindow.Window {
	if m.WindowFrom == nil || m.WindowTo == nil {
		return nil
	}
	w, err := sendwindow.Parse(*m.WindowFrom, *m.WindowTo)
	if err != nil {
		return nil // only valid windows are ever written
	}
	return &w
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// validate checks a new mailing at now and returns its normalized filter
// and parsed window, or a *ValidationError naming every bad field.
func (in MailingInput) validate(now time.Time, webhooks bool) (Filter, *sendwindow.Window, error) {
	v := &ValidationError{}
	checkPeriod(v, in.StartAt, in.EndAt, now, true)
	checkText(v, "text", in.Text)
	filter := checkFilter(v, in.Filter)
	win := checkWindow(v, in.Window)
	checkWebhookURL(v, in.WebhookURL, webhooks)
	return filter, win, v.err()
}

// Mailing returns the mailing with id. Returns ErrNotFound if there is none.
func (s *Service) Mailing(ctx context.Context, id int) (*ent.Mailing, error) {
	m, err := s.db.Ent.Mailing.Get(ctx, id)
	if err != nil {
		return nil, loadErr("mailing", id, err)
	}
	return m, nil
}

// CreateMailing creates a mailing and schedules it in the same transaction: it
// is returned running when start_at <= now < end_at (its start job is due at
// once), scheduled when start_at is in the future. Returns a *ValidationError
// naming the field for bad input.
func (s *Service) CreateMailing(ctx context.Context, in MailingInput) (*ent.Mailing, error) {
	now := s.now()
	in.StartAt, in.EndAt = dbTime(in.StartAt), dbTime(in.EndAt)
	filter, win, err := in.validate(now, s.announcer != nil)
	if err != nil {
		return nil, err
	}
	st := status.Scheduled
	if !in.StartAt.After(now) {
		st = status.Running
	}
	var m *ent.Mailing
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		create := tx.Ent.Mailing.Create().
			SetStartAt(in.StartAt).
			SetEndAt(in.EndAt).
			SetText(in.Text).
			SetFilterOperatorCodes(filter.OperatorCodes).
			SetFilterTags(filter.Tags).
			SetStatus(st).
			SetCreatedAt(now).
			SetUpdatedAt(now).
			SetNillableWebhookURL(in.WebhookURL)
		if win != nil {
			create.SetWindowFrom(win.FromString()).SetWindowTo(win.ToString())
		}
		var err error
		if m, err = create.Save(ctx); err != nil {
			return fmt.Errorf("error creating mailing: %w", err)
		}
		if err := s.record(ctx, tx, ActionMailingCreate, TargetMailing, m.ID, nil, mailingFields(m)); err != nil {
			return err
		}
		return s.scheduler.ScheduleMailing(ctx, tx, m)
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "mailing created", "mailing_id", m.ID, "status", m.Status, "start_at", m.StartAt, "end_at", m.EndAt)
	return m, nil
}

// UpdateMailing applies p under the lifecycle rules (docs/product.md, "Lifecycle"): start_at and
// the filter change only while scheduled; text, end_at and the window also
// while running or paused (end_at must stay in the future); nothing once
// finished or cancelled. A field re-sent with its current value is no change.
// Returns ErrNotFound, ErrConflict or a *ValidationError.
func (s *Service) UpdateMailing(ctx context.Context, id int, p MailingPatch) (*ent.Mailing, error) {
	now := s.now()
	var m *ent.Mailing
	err := s.changeMailing(ctx, id, func(tx *database.Tx, cur *ent.Mailing) error {
		v := &ValidationError{}
		ch := diffMailing(cur, p, v)
		checkWebhookURL(v, p.WebhookURL, s.announcer != nil)
		if err := v.err(); err != nil {
			return err
		}
		if !ch.any() {
			m = cur
			return nil
		}
		st := cur.Status
		switch {
		case st.Closed():
			return conflict("mailing %d is %s and can no longer change", id, st)
		case st != status.Scheduled && (ch.startAt || ch.filter):
			return conflict("startAt and filter can only change while the mailing is scheduled; it is %s", st)
		}
		if ch.startAt || ch.endAt {
			checkPeriod(v, ch.start, ch.end, now, false)
			if ch.endAt && !ch.end.After(now) {
				v.add("endAt", "must be in the future")
			}
			if err := v.err(); err != nil {
				return err
			}
		}
		upd := tx.Ent.Mailing.UpdateOneID(id).SetUpdatedAt(now)
		if ch.startAt {
			upd.SetStartAt(ch.start)
		}
		if ch.endAt {
			upd.SetEndAt(ch.end)
		}
		if ch.text {
			upd.SetText(*p.Text)
		}
		if ch.filter {
			upd.SetFilterOperatorCodes(ch.newFilter.OperatorCodes).SetFilterTags(ch.newFilter.Tags)
		}
		if ch.webhook {
			upd.SetNillableWebhookURL(p.WebhookURL)
			if p.WebhookURL == nil {
				upd.ClearWebhookURL()
			}
		}
		if ch.window {
			if ch.newWindow == nil {
				upd.ClearWindowFrom().ClearWindowTo()
			} else {
				upd.SetWindowFrom(ch.newWindow.FromString()).SetWindowTo(ch.newWindow.ToString())
			}
		}
		var err error
		if m, err = upd.Save(ctx); err != nil {
			return fmt.Errorf("error updating mailing %d: %w", id, err)
		}
		if err := s.record(ctx, tx, ActionMailingUpdate, TargetMailing, id, mailingFields(cur), mailingFields(m)); err != nil {
			return err
		}
		if ch.window || ch.endAt {
			// Deferred messages wait for a window or an end that changed:
			// make them due now so the batch that owns them re-plans them.
			err := tx.Ent.Message.Update().
				Where(message.MailingID(id), message.StatusIn(Unsent...)).
				SetNextAttemptAt(now).
				Exec(ctx)
			if err != nil {
				return fmt.Errorf("error re-planning messages of mailing %d: %w", id, err)
			}
		}
		if ch.startAt || ch.endAt || ch.window {
			return s.scheduler.ScheduleMailing(ctx, tx, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "mailing updated", "mailing_id", id, "status", m.Status)
	return m, nil
}

// mailingChanges records which fields of a patch differ from the mailing.
type mailingChanges struct {
	startAt, endAt, text, filter, window bool
	webhook                              bool
	start, end                           time.Time // the period after the patch, as dbTime
	newFilter                            Filter    // normalized
	newWindow                            *sendwindow.Window
}

func (c mailingChanges) any() bool {
	return c.startAt || c.endAt || c.text || c.filter || c.window || c.webhook
}

func diffMailing(cur *ent.Mailing, p MailingPatch, v *ValidationError) mailingChanges {
	ch := mailingChanges{start: cur.StartAt, end: cur.EndAt}
	if p.StartAt != nil {
		ch.start = dbTime(*p.StartAt)
		ch.startAt = !ch.start.Equal(cur.StartAt)
	}
	if p.EndAt != nil {
		ch.end = dbTime(*p.EndAt)
		ch.endAt = !ch.end.Equal(cur.EndAt)
	}
	if p.Text != nil {
		checkText(v, "text", *p.Text)
		ch.text = *p.Text != cur.Text
	}
	if p.Filter != nil || p.ClearFilter {
		f := Filter{}
		if p.Filter != nil {
			f = *p.Filter
		}
		f = checkFilter(v, f)
		old := MailingFilter(cur)
		ch.filter = !slices.Equal(f.OperatorCodes, old.OperatorCodes) || !slices.Equal(f.Tags, old.Tags)
		ch.newFilter = f
	}
	if p.WebhookURL != nil || p.ClearWebhookURL {
		ch.webhook = !equalPtr(p.WebhookURL, cur.WebhookURL)
	}
	if p.Window != nil || p.ClearWindow {
		ch.newWindow = checkWindow(v, p.Window)
		// A window that does not parse (nil, its error in v) is no change.
		ch.window = (p.Window == nil || ch.newWindow != nil) && !equalPtr(ch.newWindow, MailingWindow(cur))
	}
	return ch
}

// The sending lock of a mailing is a Postgres advisory lock per mailing id.
// Whatever starts requests or selects recipients for a mailing holds it
// shared while it does (LockSending); a lifecycle change — pause, resume,
// cancel, delete, update, close — holds it exclusive (changeMailing), so once
// the change commits nothing starts for the mailing's old state. Unlike a
// FOR SHARE row lock, a waiting change is not starved by a stream of
// sharers, and the row stays free for writes that need no such order
// (finishing the mailing, marking its selection done). SQLite has a single
// writer and needs none. Ids past 2^31 wrap: two mailings sharing a lock only
// wait for each other.
const sendingLockClass = 0x6e6f7466 // "notf"

// LockSending takes the sending lock of a mailing shared, until tx ends.
func LockSending(ctx context.Context, tx *database.Tx, dialectName string, id int) error {
	return lockSending(ctx, tx, dialectName, id, "pg_advisory_xact_lock_shared")
}

func lockSending(ctx context.Context, tx *database.Tx, dialectName string, id int, fn string) error {
	if dialectName != dialect.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT "+fn+"($1, $2)", sendingLockClass, int32(id)); err != nil {
		return fmt.Errorf("error locking mailing %d: %w", id, err)
	}
	return nil
}

// changeMailing runs fn, a lifecycle change of mailing id, in a transaction
// with the mailing loaded as cur: on Postgres it first takes the sending lock
// exclusive, which waits for the batches starting requests for it and the
// selection of its recipients, then the row FOR UPDATE. Returns ErrNotFound.
func (s *Service) changeMailing(ctx context.Context, id int, fn func(tx *database.Tx, cur *ent.Mailing) error) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if err := lockSending(ctx, tx, s.db.Dialect, id, "pg_advisory_xact_lock"); err != nil {
			return err
		}
		cur, err := mailingForUpdate(ctx, tx, s.db.Dialect, id)
		if err != nil {
			return err
		}
		return fn(tx, cur)
	})
}

// mailingForUpdate loads a mailing with its row locked FOR UPDATE on
// Postgres. Returns ErrNotFound.
func mailingForUpdate(ctx context.Context, tx *database.Tx, dialectName string, id int) (*ent.Mailing, error) {
	q := tx.Ent.Mailing.Query().Where(mailing.ID(id))
	if dialectName == dialect.Postgres {
		q = q.ForUpdate()
	}
	m, err := q.Only(ctx)
	if err != nil {
		return nil, loadErr("mailing", id, err)
	}
	return m, nil
}

// transition is the lifecycle: pause, resume and cancel (docs/product.md, "Lifecycle"). Returns
// ErrNotFound, or ErrConflict when the action is not allowed in the mailing's
// status.
func (s *Service) transition(ctx context.Context, id int, action string) (*ent.Mailing, error) {
	now := s.now()
	var (
		m       *ent.Mailing
		changes []StatusChange
	)
	err := s.changeMailing(ctx, id, func(tx *database.Tx, cur *ent.Mailing) error {
		rule := lifecycle[action]
		if !slices.Contains(rule.from, cur.Status) {
			return conflict("cannot %s mailing %d: it is %s", action, id, cur.Status)
		}
		next := rule.to
		if next == cur.Status {
			m = cur
			return nil
		}
		if next == status.Running && !cur.EndAt.After(now) {
			next = status.Finished // resumed after its end: close it, leftovers expire
		}
		var err error
		if m, err = tx.Ent.Mailing.UpdateOneID(id).SetStatus(next).SetUpdatedAt(now).Save(ctx); err != nil {
			return fmt.Errorf("error updating mailing %d: %w", id, err)
		}
		err = s.record(ctx, tx, "mailing."+action, TargetMailing, id,
			map[string]any{"status": string(cur.Status)}, map[string]any{"status": string(next)})
		if err != nil {
			return err
		}
		switch next {
		case status.MailingCanceled:
			if changes, err = s.settleUnsent(ctx, tx, now, message.MailingID(id), status.MessageCanceled); err != nil {
				return err
			}
			return s.announce(ctx, tx, mailingEvent(EventMailingCancelled, m, map[string]any{"messages_cancelled": len(changes)}))
		case status.Finished:
			if changes, err = s.settleUnsent(ctx, tx, now, message.MailingID(id), status.Expired); err != nil {
				return err
			}
			return s.announceFinished(ctx, tx, m)
		case status.Running:
			return s.scheduler.ResumeMailing(ctx, tx, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "mailing "+action, "mailing_id", id, "status", m.Status)
	s.published(ctx, changes)
	s.mailingChanged(ctx, id)
	return m, nil
}

// lifecycle is the lifecycle table (docs/product.md, "Lifecycle") for pause,
// resume and cancel: the statuses each action is allowed from, and the
// status it leads to.
var lifecycle = map[string]struct {
	from []status.Mailing
	to   status.Mailing
}{
	"pause":  {from: []status.Mailing{status.Running, status.Paused}, to: status.Paused},
	"resume": {from: []status.Mailing{status.Running, status.Paused}, to: status.Running},
	"cancel": {from: []status.Mailing{status.Scheduled, status.Running, status.Paused}, to: status.MailingCanceled},
}

// PauseMailing pauses a running mailing (a paused one stays paused). Once it
// returns, no instance starts a new request for the mailing; requests in
// flight finish and a success is recorded. Returns ErrNotFound or ErrConflict.
func (s *Service) PauseMailing(ctx context.Context, id int) (*ent.Mailing, error) {
	return s.transition(ctx, id, "pause")
}

// ResumeMailing resumes a paused mailing (a running one stays running); one
// whose end_at has passed finishes instead, its unsent messages expired.
// Returns ErrNotFound or ErrConflict.
func (s *Service) ResumeMailing(ctx context.Context, id int) (*ent.Mailing, error) {
	return s.transition(ctx, id, "resume")
}

// CancelMailing cancels a mailing that is not finished; its unsent messages
// become cancelled and no new request starts once it returns. Returns
// ErrNotFound or ErrConflict.
func (s *Service) CancelMailing(ctx context.Context, id int) (*ent.Mailing, error) {
	return s.transition(ctx, id, "cancel")
}

// DeleteMailing cancels a mailing if needed and removes it with its
// messages. Returns ErrNotFound.
func (s *Service) DeleteMailing(ctx context.Context, id int) error {
	var changes []StatusChange
	err := s.changeMailing(ctx, id, func(tx *database.Tx, cur *ent.Mailing) error {
		var err error
		if changes, err = s.settleUnsent(ctx, tx, s.now(), message.MailingID(id), status.MessageCanceled); err != nil {
			return err
		}
		if err := tx.Ent.Mailing.DeleteOneID(id).Exec(ctx); err != nil {
			return fmt.Errorf("error deleting mailing %d: %w", id, err)
		}
		return s.record(ctx, tx, ActionMailingDelete, TargetMailing, id, mailingFields(cur), nil)
	})
	if err != nil {
		return err
	}
	s.logger.InfoContext(ctx, "mailing deleted", "mailing_id", id, "messages_cancelled", len(changes))
	s.published(ctx, changes)
	return nil
}
