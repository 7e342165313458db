package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/customer"
	"github.com/notifyhq/notify/internal/campaign"
)

// client is a client as REST shows it. phone is always a string.
type client struct {
	ID           int       `json:"id"`
	Phone        string    `json:"phone"`
	OperatorCode string    `json:"operator_code"`
	Tag          string    `json:"tag"`
	Timezone     string    `json:"timezone"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func clientOut(c *ent.Customer) client {
	return client{
		ID:           c.ID,
		Phone:        c.Phone,
		OperatorCode: c.OperatorCode,
		Tag:          c.Tag,
		Timezone:     c.Timezone,
		CreatedAt:    c.CreatedAt.UTC(),
		UpdatedAt:    c.UpdatedAt.UTC(),
	}
}

// clientFields are the writable fields of a client.
var clientFields = []string{"phone", "operator_code", "tag", "timezone"}

// readClient reads a client object at path. With full (create, PUT) the
// phone is required; omitted fields are nil either way.
func (in *input) readClient(raw json.RawMessage, path []string, full bool) campaign.ClientPatch {
	m, ok := in.object(raw, path, clientFields, readOnlyFields)
	if !ok {
		return campaign.ClientPatch{}
	}
	if full {
		in.required(m, path, "phone")
	}
	return campaign.ClientPatch{
		Phone:        field(in, m, path, "phone", readPhone),
		OperatorCode: field(in, m, path, "operator_code", readString),
		Tag:          field(in, m, path, "tag", readString),
		Timezone:     field(in, m, path, "timezone", readString),
	}
}

// decodeClient reads the body of a client create or update.
func decodeClient(r *http.Request, full bool) (campaign.ClientPatch, error) {
	return decode(r, func(in *input, raw json.RawMessage) campaign.ClientPatch { return in.readClient(raw, nil, full) })
}

// newClient is the create input of a client read with full set.
func newClient(p campaign.ClientPatch) campaign.ClientInput {
	return campaign.ClientInput{Phone: *p.Phone, OperatorCode: p.OperatorCode, Tag: p.Tag, Timezone: p.Timezone}
}

// listClients is GET /clients/: a page of clients by id, filtered by tag
// and operator_code.
func (a *API) listClients(r *http.Request) (int, any, error) {
	q := a.ent.Customer.Query()
	if err := textParams(r, "tag", "operator_code"); err != nil {
		return 0, nil, err
	}
	if tag, ok := queryValue(r, "tag"); ok {
		q.Where(customer.Tag(tag))
	}
	if code, ok := queryValue(r, "operator_code"); ok {
		q.Where(customer.OperatorCode(code))
	}
	return list(r, q.Order(ent.Asc(customer.FieldID)), clientOut)
}

// createClient is POST /clients/.
func (a *API) createClient(r *http.Request) (int, any, error) {
	p, err := decodeClient(r, true)
	if err != nil {
		return 0, nil, err
	}
	c, err := a.service.CreateClient(r.Context(), newClient(p))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, clientOut(c), nil
}

// decodeClients reads the body of a bulk import: an array of clients. The
// errors of its items come as a *bulkError.
func decodeClients(r *http.Request) ([]campaign.ClientInput, error) {
	raw, err := readBody(r)
	if err != nil {
		return nil, err
	}
	in := &input{}
	items, ok := in.list(raw, nil)
	if !ok {
		return nil, in.result()
	}
	ins := make([]campaign.ClientInput, len(items))
	for i, item := range items {
		p := in.readClient(item, []string{strconv.Itoa(i)}, true)
		if p.Phone != nil {
			ins[i] = newClient(p)
		}
	}
	if err := in.result(); err != nil {
		return nil, &bulkError{items: len(items), err: err}
	}
	return ins, nil
}

// createClients is POST /clients/bulk/: an array of clients, all or nothing.
func (a *API) createClients(r *http.Request) (int, any, error) {
	ins, err := decodeClients(r)
	if err != nil {
		return 0, nil, err
	}
	created, err := a.service.CreateClients(r.Context(), ins)
	if err != nil {
		return 0, nil, &bulkError{items: len(ins), err: err}
	}
	out := make([]client, len(created))
	for i, c := range created {
		out[i] = clientOut(c)
	}
	return http.StatusCreated, out, nil
}

// getClient is GET /clients/{id}/.
func (a *API) getClient(r *http.Request) (int, any, error) {
	return byID(r, a.service.Client, clientOut)
}

// replaceClient is PUT /clients/{id}/: the phone is required; as in Django
// REST framework, an omitted optional field keeps its value, and the
// operator code is never re-derived from a new phone.
func (a *API) replaceClient(r *http.Request) (int, any, error) {
	return a.patchClient(r, true)
}

// updateClient is PATCH /clients/{id}/: only the fields sent change.
func (a *API) updateClient(r *http.Request) (int, any, error) {
	return a.patchClient(r, false)
}

func (a *API) patchClient(r *http.Request, full bool) (int, any, error) {
	return byID(r, func(ctx context.Context, id int) (*ent.Customer, error) {
		p, err := decodeClient(r, full)
		if err != nil {
			return nil, err
		}
		return a.service.UpdateClient(ctx, id, p)
	}, clientOut)
}

// deleteClient is DELETE /clients/{id}/.
func (a *API) deleteClient(r *http.Request) (int, any, error) {
	return deleteByID(r, a.service.DeleteClient)
}
