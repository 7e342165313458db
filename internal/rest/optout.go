package rest

import (
	"net/http"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/optout"
	"github.com/notifyhq/notify/internal/campaign"
)

// optOut is an opt-out as REST shows it.
type optOut struct {
	ID        int       `json:"id"`
	Phone     string    `json:"phone"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

func optOutOut(o *ent.OptOut) optOut {
	return optOut{ID: o.ID, Phone: o.Phone, Reason: o.Reason, CreatedAt: o.CreatedAt.UTC(), CreatedBy: o.CreatedBy}
}

// optOutFields are the writable fields of an opt-out.
var optOutFields = []string{"phone", "reason"}

// listOptOuts is GET /opt-outs/: a page of opt-outs by id, filtered by
// phone and created_by.
func (a *API) listOptOuts(r *http.Request) (int, any, error) {
	if err := textParams(r, "phone", "created_by"); err != nil {
		return 0, nil, err
	}
	var f campaign.OptOutFilter
	if v, ok := queryValue(r, "phone"); ok {
		f.Phone = &v
	}
	if v, ok := queryValue(r, "created_by"); ok {
		f.CreatedBy = &v
	}
	q, err := a.service.OptOuts(f)
	if err != nil {
		return 0, nil, err
	}
	return list(r, q.Order(ent.Asc(optout.FieldID)), optOutOut)
}

// createOptOut is POST /opt-outs/ {"phone", "reason"}: 201 with the
// opt-out (the existing one when the phone was already out).
func (a *API) createOptOut(r *http.Request) (int, any, error) {
	raw, err := readBody(r)
	if err != nil {
		return 0, nil, err
	}
	in := &input{}
	m, ok := in.object(raw, nil, optOutFields, readOnlyFields)
	var phone, reason *string
	if ok {
		in.required(m, nil, "phone")
		phone = field(in, m, nil, "phone", readPhone)
		reason = field(in, m, nil, "reason", readString)
	}
	if err := in.result(); err != nil {
		return 0, nil, err
	}
	why := ""
	if reason != nil {
		why = *reason
	}
	o, err := a.service.OptOut(r.Context(), *phone, why)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, optOutOut(o), nil
}

// deleteOptOut is DELETE /opt-outs/{phone}/: opts the phone back in; 404
// when it was not opted out.
func (a *API) deleteOptOut(r *http.Request) (int, any, error) {
	phone := r.PathValue("phone")
	if !campaign.ValidPhone(phone) {
		return 0, nil, errNoRoute
	}
	removed, err := a.service.OptIn(r.Context(), phone)
	if err != nil {
		return 0, nil, err
	}
	if !removed {
		return 0, nil, errNoRoute
	}
	return http.StatusNoContent, nil, nil
}
