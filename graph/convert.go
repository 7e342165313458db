package graph

import (
	"cmp"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/graph/model"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/report"
)

// Page sizes of connections (docs/product.md, "The API").
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// pageArgs checks first/last and applies the default page size.
func pageArgs(first, last *int) (*int, *int, error) {
	if first != nil && (*first < 0 || *first > maxPageSize) {
		return nil, nil, badInput("first", "must be between 0 and 1000")
	}
	if last != nil && (*last < 0 || *last > maxPageSize) {
		return nil, nil, badInput("last", "must be between 0 and 1000")
	}
	if first == nil && last == nil {
		first = new(defaultPageSize)
	}
	return first, last, nil
}

// value returns the value of an omittable nullable input field, nil when
// omitted or null.
func value[T any](o graphql.Omittable[*T]) *T {
	v, _ := o.ValueOK()
	return v
}

// required returns the value of an omittable field that may be omitted but
// not set to null.
func required[T any](o graphql.Omittable[*T], field string) (*T, error) {
	v, set := o.ValueOK()
	if set && v == nil {
		return nil, badInput(field, "cannot be null")
	}
	return value(o), nil
}

func clientInput(in *model.CreateClientInput) campaign.ClientInput {
	return campaign.ClientInput{
		Phone:        in.Phone,
		OperatorCode: value(in.OperatorCode),
		Tag:          value(in.Tag),
		Timezone:     value(in.Timezone),
	}
}

func clientPatch(in model.UpdateClientInput) (campaign.ClientPatch, error) {
	var (
		p    campaign.ClientPatch
		errs [4]error
	)
	p.Phone, errs[0] = required(in.Phone, "phone")
	p.OperatorCode, errs[1] = required(in.OperatorCode, "operatorCode")
	p.Tag, errs[2] = required(in.Tag, "tag")
	p.Timezone, errs[3] = required(in.Timezone, "timezone")
	return p, cmp.Or(errs[:]...)
}

func filterInput(in *model.ClientFilterInput) campaign.Filter {
	if in == nil {
		return campaign.Filter{}
	}
	return campaign.Filter{OperatorCodes: in.OperatorCodes.Value(), Tags: in.Tags.Value()}
}

func windowInput(in *model.SendWindowInput) *campaign.WindowInput {
	if in == nil {
		return nil
	}
	return &campaign.WindowInput{From: in.From, To: in.To}
}

func mailingInput(in model.CreateMailingInput) campaign.MailingInput {
	return campaign.MailingInput{
		StartAt: in.StartAt,
		EndAt:   in.EndAt,
		Text:    in.Text,
		Filter:  filterInput(value(in.Filter)),
		Window:  windowInput(value(in.SendWindow)),
		// webhookUrl: null is the same as omitted.
		WebhookURL: value(in.WebhookURL),
	}
}

func mailingPatch(in model.UpdateMailingInput) (campaign.MailingPatch, error) {
	var (
		p    campaign.MailingPatch
		errs [3]error
	)
	p.StartAt, errs[0] = required(in.StartAt, "startAt")
	p.EndAt, errs[1] = required(in.EndAt, "endAt")
	p.Text, errs[2] = required(in.Text, "text")
	if err := cmp.Or(errs[:]...); err != nil {
		return p, err
	}
	if f, set := in.Filter.ValueOK(); set {
		if f == nil {
			p.ClearFilter = true
		} else {
			filter := filterInput(f)
			p.Filter = &filter
		}
	}
	if u, set := in.WebhookURL.ValueOK(); set {
		p.WebhookURL, p.ClearWebhookURL = u, u == nil
	}
	if w, set := in.SendWindow.ValueOK(); set {
		p.Window, p.ClearWindow = windowInput(w), w == nil
	}
	return p, nil
}

func clientFilter(m *ent.Mailing) *model.ClientFilter {
	f := campaign.MailingFilter(m)
	return &model.ClientFilter{OperatorCodes: f.OperatorCodes, Tags: f.Tags}
}

func sendWindow(m *ent.Mailing) *model.SendWindow {
	w := campaign.MailingWindow(m)
	if w == nil {
		return nil
	}
	return &model.SendWindow{From: w.FromString(), To: w.ToString()}
}

// nullIfNotFound turns ErrNotFound into a null result: client(id) and
// mailing(id) return null for an unknown id.
func nullIfNotFound[T any](v *T, err error) (*T, error) {
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, nil
	}
	return v, err
}

// firstN returns the first n stats, n being 1–1000 like perMailing's limit.
func firstN(stats []*campaign.MailingStats, n int) ([]*campaign.MailingStats, error) {
	if n < 1 || n > maxPageSize {
		return nil, badInput("limit", "must be between 1 and 1000")
	}
	return stats[:min(n, len(stats))], nil
}

// reportDate is the date a dailyReport or sendDailyReport argument names:
// yesterday in the report zone when omitted.
func (r *Resolver) reportDate(date *time.Time) time.Time {
	if date != nil {
		return *date
	}
	return r.Reports.DefaultDate(r.Reports.Now())
}

// dailyReport is the GraphQL form of a report, or nil with err.
func dailyReport(rep *report.Report, err error) (*model.DailyReport, error) {
	if err != nil {
		return nil, err
	}
	totals := rep.Totals
	return &model.DailyReport{Date: rep.Date, From: rep.From, To: rep.To, Totals: &totals, HTML: rep.HTML, Text: rep.Text}, nil
}
