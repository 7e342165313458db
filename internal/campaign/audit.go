package campaign

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/auditentry"
	"github.com/notifyhq/notify/ent/predicate"
	"github.com/notifyhq/notify/internal/database"
)

// The audit log (README, "Security", "Audit log"; docs/design.md, "Audit
// log"): every write of the domain records one entry per target in its own
// transaction, so a write that rolls back leaves none.

// Actions of the audit log.
const (
	ActionClientCreate  = "client.create"
	ActionClientUpdate  = "client.update"
	ActionClientDelete  = "client.delete"
	ActionMailingCreate = "mailing.create"
	ActionMailingUpdate = "mailing.update"
	ActionMailingDelete = "mailing.delete"
	// mailing.pause, mailing.resume and mailing.cancel are "mailing." and
	// the lifecycle's action (Service.transition).
	TargetClient   = "client"
	TargetMailing  = "mailing"
	anonymousActor = "anonymous"
)

// ActorFunc names who makes the writes of a request, and the request's id.
// The transports know both (the Principal of the guard, the X-Request-Id);
// the domain does not import them, so server.go injects this (Config.Actor).
type ActorFunc func(ctx context.Context) (name, requestID string)

// change is one changed field: [before, after], null for a side that does
// not exist (a create's before, a delete's after).
type change [2]any

// record writes the audit entry of one write to target in tx. before and
// after are the target's fields (nil for a side that does not exist); only
// the fields that differ are kept.
func (s *Service) record(ctx context.Context, tx *database.Tx, action, targetType string, targetID int, before, after map[string]any) error {
	return s.recordMany(ctx, tx, action, targetType, []auditTarget{{id: targetID, before: before, after: after}})
}

// auditTarget is one target of a write and its fields before and after.
type auditTarget struct {
	id            int
	before, after map[string]any
}

// actorOf is the caller of ctx as the audit log names it (anonymousActor
// without one), and the request id.
func (s *Service) actorOf(ctx context.Context) (name, requestID string) {
	if s.actor != nil {
		name, requestID = s.actor(ctx)
	}
	return cmp.Or(name, anonymousActor), requestID
}

// recordMany writes one entry per target, in one INSERT per 1000.
func (s *Service) recordMany(ctx context.Context, tx *database.Tx, action, targetType string, targets []auditTarget) error {
	name, requestID := s.actorOf(ctx)
	at := dbTime(s.now())
	for chunk := range slices.Chunk(targets, 1000) {
		builders := make([]*ent.AuditEntryCreate, len(chunk))
		for i, t := range chunk {
			changes, err := json.Marshal(diffFields(t.before, t.after))
			if err != nil {
				return fmt.Errorf("error encoding the changes of %s %d: %w", targetType, t.id, err)
			}
			builders[i] = tx.Ent.AuditEntry.Create().
				SetAt(at).
				SetActor(name).
				SetAction(action).
				SetTargetType(targetType).
				SetTargetID(t.id).
				SetChanges(string(changes)).
				SetRequestID(requestID)
		}
		if err := tx.Ent.AuditEntry.CreateBulk(builders...).Exec(ctx); err != nil {
			return fmt.Errorf("error writing the audit log: %w", err)
		}
	}
	return nil
}

// diffFields returns the fields whose values differ between before and
// after, each as [before, after].
func diffFields(before, after map[string]any) map[string]change {
	out := map[string]change{}
	for k, b := range before {
		a, ok := after[k]
		if !ok || !reflect.DeepEqual(a, b) {
			out[k] = change{b, a}
		}
	}
	for k, a := range after {
		if _, ok := before[k]; !ok {
			out[k] = change{nil, a}
		}
	}
	return out
}

// auditTime is a time as the audit log writes it: RFC 3339 in UTC.
func auditTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// clientFields are the fields of a client the audit log records, named as
// the database and REST name them.
func clientFields(c *ent.Customer) map[string]any {
	return map[string]any{
		"phone":         c.Phone,
		"operator_code": c.OperatorCode,
		"tag":           c.Tag,
		"timezone":      c.Timezone,
	}
}

// mailingFields are the fields of a mailing the audit log records.
func mailingFields(m *ent.Mailing) map[string]any {
	return map[string]any{
		"start_at":              auditTime(m.StartAt),
		"end_at":                auditTime(m.EndAt),
		"text":                  m.Text,
		"filter_operator_codes": nonNil(m.FilterOperatorCodes),
		"filter_tags":           nonNil(m.FilterTags),
		"window_from":           orNil(m.WindowFrom),
		"window_to":             orNil(m.WindowTo),
		"webhook_url":           orNil(m.WebhookURL),
		"status":                string(m.Status),
	}
}

// orNil is *s, or a nil interface when s is nil (JSON null in the audit log).
func orNil(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// AuditFilter selects audit entries; nil fields do not constrain.
type AuditFilter struct {
	Actor, Action, TargetType *string
	TargetID                  *int
	// From is inclusive, To exclusive.
	From, To *time.Time
}

// ValidFilterText reports whether s is text both databases store and can
// compare: UTF-8 without NUL bytes (Postgres refuses either in a text
// parameter). Tags, mailing texts, opt-out reasons and idempotency keys are
// checked with it too.
func ValidFilterText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Predicates returns the filter as ent predicates.
func (f AuditFilter) Predicates() []predicate.AuditEntry {
	var ps []predicate.AuditEntry
	ps = appendSet(ps, f.Actor, auditentry.Actor)
	ps = appendSet(ps, f.Action, auditentry.Action)
	ps = appendSet(ps, f.TargetType, auditentry.TargetType)
	ps = appendSet(ps, f.TargetID, auditentry.TargetID)
	ps = appendSet(ps, f.From, func(t time.Time) predicate.AuditEntry { return auditentry.AtGTE(dbTime(t)) })
	ps = appendSet(ps, f.To, func(t time.Time) predicate.AuditEntry { return auditentry.AtLT(dbTime(t)) })
	return ps
}

// appendSet appends pred(*v) to ps when the filter sets v.
func appendSet[T, P any](ps []P, v *T, pred func(T) P) []P {
	if v != nil {
		ps = append(ps, pred(*v))
	}
	return ps
}
