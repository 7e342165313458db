package rest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/auditentry"
	"github.com/notifyhq/notify/internal/campaign"
)

// auditEntry is an entry of the audit log as REST shows it (README,
// "Security", "Audit log"). changes is the JSON object the domain wrote.
type auditEntry struct {
	ID         int             `json:"id"`
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   int             `json:"target_id"`
	Changes    json.RawMessage `json:"changes"`
	RequestID  string          `json:"request_id"`
}

func auditEntryOut(e *ent.AuditEntry) auditEntry {
	changes := json.RawMessage(e.Changes)
	if !json.Valid(changes) {
		changes = json.RawMessage("{}") // only the domain writes entries: never happens
	}
	return auditEntry{
		ID:         e.ID,
		At:         e.At.UTC(),
		Actor:      e.Actor,
		Action:     e.Action,
		TargetType: e.TargetType,
		TargetID:   e.TargetID,
		Changes:    changes,
		RequestID:  e.RequestID,
	}
}

// auditFilter reads the filters of GET /audit/: actor, action,
// target_type, target_id, from and to (RFC 3339; from inclusive, to
// exclusive). Empty values are no filter.
func auditFilter(r *http.Request) (campaign.AuditFilter, error) {
	var f campaign.AuditFilter
	if err := textParams(r, "actor", "action", "target_type"); err != nil {
		return f, err
	}
	if v, ok := queryValue(r, "actor"); ok {
		f.Actor = &v
	}
	if v, ok := queryValue(r, "action"); ok {
		f.Action = &v
	}
	if v, ok := queryValue(r, "target_type"); ok {
		f.TargetType = &v
	}
	var err error
	if f.TargetID, err = param(r, "target_id", strconv.Atoi, "Enter a whole number."); err != nil {
		return f, err
	}
	rfc3339 := func(v string) (time.Time, error) { return time.Parse(time.RFC3339Nano, v) }
	if f.From, err = param(r, "from", rfc3339, "Enter a valid date/time."); err != nil {
		return f, err
	}
	f.To, err = param(r, "to", rfc3339, "Enter a valid date/time.")
	return f, err
}

// listAudit is GET /audit/: a page of the audit log, newest first, for
// admins only (the route's access level in server.go).
func (a *API) listAudit(r *http.Request) (int, any, error) {
	f, err := auditFilter(r)
	if err != nil {
		return 0, nil, err
	}
	q := a.ent.AuditEntry.Query().Where(f.Predicates()...)
	return list(r, q.Order(ent.Desc(auditentry.FieldID)), auditEntryOut)
}
