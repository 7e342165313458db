package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/mailing"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/webhook"
)

// mailingJSON is a mailing as REST shows it.
type mailingJSON struct {
	ID         int            `json:"id"`
	StartAt    time.Time      `json:"start_at"`
	EndAt      time.Time      `json:"end_at"`
	Text       string         `json:"text"`
	Filter     filterJSON     `json:"filter"`
	SendWindow *windowJSON    `json:"send_window"`
	WebhookURL *string        `json:"webhook_url"`
	Status     status.Mailing `json:"status"`
	CreatedAt  time.Time      `json:"created_at"`
	UpdatedAt  time.Time      `json:"updated_at"`
}

type filterJSON struct {
	OperatorCodes []string `json:"operator_codes"`
	Tags          []string `json:"tags"`
}

type windowJSON struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// mailingOut is m as REST shows it to the caller of ctx: webhook_url is
// null for viewers (webhook.VisibleURL).
func mailingOut(ctx context.Context, m *ent.Mailing) mailingJSON {
	f := campaign.MailingFilter(m)
	out := mailingJSON{
		ID:         m.ID,
		StartAt:    m.StartAt.UTC(),
		EndAt:      m.EndAt.UTC(),
		Text:       m.Text,
		Filter:     filterJSON{OperatorCodes: f.OperatorCodes, Tags: f.Tags},
		WebhookURL: webhook.VisibleURL(ctx, m.WebhookURL),
		Status:     m.Status,
		CreatedAt:  m.CreatedAt.UTC(),
		UpdatedAt:  m.UpdatedAt.UTC(),
	}
	if w := campaign.MailingWindow(m); w != nil {
		out.SendWindow = &windowJSON{From: w.FromString(), To: w.ToString()}
	}
	return out
}

// Writable fields of a mailing and of its nested objects.
var (
	mailingFields = []string{"start_at", "end_at", "text", "filter", "send_window", "webhook_url"}
	filterFields  = []string{"operator_codes", "tags"}
	windowFields  = []string{"from", "to"}
)

// readMailing reads a mailing object. With full (create, PUT) start_at,
// end_at and text are required. filter and send_window may be null, which
// clears them; a filter is replaced as a whole (an omitted list is empty).
func (in *input) readMailing(raw json.RawMessage, full bool) campaign.MailingPatch {
	m, ok := in.object(raw, nil, mailingFields, readOnlyFields)
	if !ok {
		return campaign.MailingPatch{}
	}
	if full {
		in.required(m, nil, "start_at", "end_at", "text")
	}
	p := campaign.MailingPatch{
		StartAt: field(in, m, nil, "start_at", readTime),
		EndAt:   field(in, m, nil, "end_at", readTime),
		Text:    field(in, m, nil, "text", readString),
	}
	if raw, ok := m["filter"]; ok {
		if isNull(raw) {
			p.ClearFilter = true
		} else {
			p.Filter = in.readFilter(raw, []string{"filter"})
		}
	}
	if raw, ok := m["webhook_url"]; ok {
		if isNull(raw) {
			p.ClearWebhookURL = true
		} else {
			p.WebhookURL = field(in, m, nil, "webhook_url", readString)
		}
	}
	if raw, ok := m["send_window"]; ok {
		if isNull(raw) {
			p.ClearWindow = true
		} else {
			p.Window = in.readWindow(raw, []string{"send_window"})
		}
	}
	return p
}

func (in *input) readFilter(raw json.RawMessage, path []string) *campaign.Filter {
	m, ok := in.object(raw, path, filterFields, nil)
	if !ok {
		return nil
	}
	f := &campaign.Filter{OperatorCodes: []string{}, Tags: []string{}}
	if codes := field(in, m, path, "operator_codes", readStrings); codes != nil {
		f.OperatorCodes = *codes
	}
	if tags := field(in, m, path, "tags", readStrings); tags != nil {
		f.Tags = *tags
	}
	return f
}

func (in *input) readWindow(raw json.RawMessage, path []string) *campaign.WindowInput {
	m, ok := in.object(raw, path, windowFields, nil)
	if !ok {
		return nil
	}
	in.required(m, path, windowFields...)
	from := field(in, m, path, "from", readString)
	to := field(in, m, path, "to", readString)
	if from == nil || to == nil {
		return nil
	}
	return &campaign.WindowInput{From: *from, To: *to}
}

// decodeMailing reads the body of a mailing create or update.
func decodeMailing(r *http.Request, full bool) (campaign.MailingPatch, error) {
	return decode(r, func(in *input, raw json.RawMessage) campaign.MailingPatch { return in.readMailing(raw, full) })
}

// newMailing is the create input of a mailing read with full set.
func newMailing(p campaign.MailingPatch) campaign.MailingInput {
	in := campaign.MailingInput{StartAt: *p.StartAt, EndAt: *p.EndAt, Text: *p.Text, Window: p.Window, WebhookURL: p.WebhookURL}
	if p.Filter != nil {
		in.Filter = *p.Filter
	}
	return in
}

// listMailings is GET /mailings/: a page of mailings by id, filtered by
// status.
func (a *API) listMailings(r *http.Request) (int, any, error) {
	q := a.ent.Mailing.Query()
	st, ok, err := choice(r, "status", status.Mailings)
	if err != nil {
		return 0, nil, err
	}
	if ok {
		q.Where(mailing.StatusEQ(st))
	}
	return list(r, q.Order(ent.Asc(mailing.FieldID)), func(m *ent.Mailing) mailingJSON { return mailingOut(r.Context(), m) })
}

// createMailing is POST /mailings/. A mailing created inside its period is
// returned already running.
func (a *API) createMailing(r *http.Request) (int, any, error) {
	p, err := decodeMailing(r, true)
	if err != nil {
		return 0, nil, err
	}
	m, err := a.service.CreateMailing(r.Context(), newMailing(p))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, mailingOut(r.Context(), m), nil
}

// getMailing is GET /mailings/{id}/.
func (a *API) getMailing(r *http.Request) (int, any, error) {
	return a.mailingByID(r, a.service.Mailing)
}

// replaceMailing is PUT /mailings/{id}/: start_at, end_at and text are
// required; as in Django REST framework an omitted filter or send_window
// keeps its value (null clears it). Re-sending a current value is no change,
// so a running mailing can be PUT back with its start_at and filter.
func (a *API) replaceMailing(r *http.Request) (int, any, error) {
	return a.patchMailing(r, true)
}

// updateMailing is PATCH /mailings/{id}/: only the fields sent change.
func (a *API) updateMailing(r *http.Request) (int, any, error) {
	return a.patchMailing(r, false)
}

func (a *API) patchMailing(r *http.Request, full bool) (int, any, error) {
	return a.mailingByID(r, func(ctx context.Context, id int) (*ent.Mailing, error) {
		p, err := decodeMailing(r, full)
		if err != nil {
			return nil, err
		}
		return a.service.UpdateMailing(ctx, id, p)
	})
}

// deleteMailing is DELETE /mailings/{id}/: cancels it if needed and removes
// it with its messages.
func (a *API) deleteMailing(r *http.Request) (int, any, error) {
	return deleteByID(r, a.service.DeleteMailing)
}

// The lifecycle actions answer 200 with the mailing, 409 when its status
// does not allow the action. A JSON request body is ignored; a body of
// another type was refused by requireJSON, as for every POST.

// pauseMailing is POST /mailings/{id}/pause/.
func (a *API) pauseMailing(r *http.Request) (int, any, error) {
	return a.mailingByID(r, a.service.PauseMailing)
}

// resumeMailing is POST /mailings/{id}/resume/.
func (a *API) resumeMailing(r *http.Request) (int, any, error) {
	return a.mailingByID(r, a.service.ResumeMailing)
}

// cancelMailing is POST /mailings/{id}/cancel/.
func (a *API) cancelMailing(r *http.Request) (int, any, error) {
	return a.mailingByID(r, a.service.CancelMailing)
}

// mailingByID is byID for a mailing, shown to the caller of r.
func (a *API) mailingByID(r *http.Request, get func(context.Context, int) (*ent.Mailing, error)) (int, any, error) {
	return byID(r, get, func(m *ent.Mailing) mailingJSON { return mailingOut(r.Context(), m) })
}
