package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/notifyhq/notify/internal/report"
	"github.com/notifyhq/notify/internal/status"
)

// Reports builds daily reports; *report.Service implements it.
type Reports interface {
	// Build returns the report of date (midnight UTC of the calendar date).
	Build(ctx context.Context, date time.Time) (*report.Report, error)
	// DefaultDate is the date reported on by default at now: yesterday in
	// the report zone.
	DefaultDate(now time.Time) time.Time
	// Now is the report clock's current time.
	Now() time.Time
}

// dailyReport is the body of GET /reports/daily/.
type dailyReport struct {
	Date        string          `json:"date"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	Zone        string          `json:"zone"`
	Totals      reportTotals    `json:"totals"`
	Mailings    []reportMailing `json:"mailings"`
	Subject     string          `json:"subject"`
	HTML        string          `json:"html"`
	Text        string          `json:"text"`
	GeneratedAt time.Time       `json:"generated_at"`
}

type reportTotals struct {
	Mailings int      `json:"mailings"`
	Messages int      `json:"messages"`
	ByStatus byStatus `json:"by_status"`
}

// reportMailing is one mailing of a report: per_mailing's counts with the
// mailing's text (on one line, shortened), period and window.
type reportMailing struct {
	MailingID  int            `json:"mailing_id"`
	Text       string         `json:"text"`
	StartAt    time.Time      `json:"start_at"`
	EndAt      time.Time      `json:"end_at"`
	SendWindow *windowJSON    `json:"send_window"`
	Status     status.Mailing `json:"status"`
	Total      int            `json:"total"`
	ByStatus   byStatus       `json:"by_status"`
}

func reportOut(r *report.Report) dailyReport {
	out := dailyReport{
		Date:        r.Date.Format(time.DateOnly),
		From:        r.From.UTC(),
		To:          r.To.UTC(),
		Zone:        r.Zone,
		Totals:      reportTotals{Mailings: r.Totals.Mailings, Messages: r.Totals.Messages, ByStatus: r.Totals.ByStatus},
		Mailings:    make([]reportMailing, len(r.Mailings)),
		Subject:     r.Subject,
		HTML:        r.HTML,
		Text:        r.Text,
		GeneratedAt: r.GeneratedAt.UTC(),
	}
	for i, m := range r.Mailings {
		out.Mailings[i] = reportMailing{
			MailingID: m.ID,
			Text:      m.Text,
			StartAt:   m.StartAt.UTC(),
			EndAt:     m.EndAt.UTC(),
			Status:    m.Status,
			Total:     m.Total,
			ByStatus:  m.ByStatus,
		}
		if w := m.SendWindow; w != nil {
			out.Mailings[i].SendWindow = &windowJSON{From: w.FromString(), To: w.ToString()}
		}
	}
	return out
}

// The dates a report can be asked for: the report's day in any zone (from
// and to) stays within the years JSON can show in UTC, 0000 to 9999.
var (
	firstReportDate = time.Date(1, time.January, 1, 0, 0, 0, 0, time.UTC)
	lastReportDate  = time.Date(9999, time.December, 30, 0, 0, 0, 0, time.UTC)
)

// dailyReport is GET /reports/daily/?date=YYYY-MM-DD: the daily report of
// date (default: yesterday in the report zone), built now; nothing is sent.
func (a *API) dailyReport(r *http.Request) (int, any, error) {
	if a.reports == nil {
		return 0, nil, errNoRoute
	}
	date := a.reports.DefaultDate(a.reports.Now())
	if v, ok := queryValue(r, "date"); ok {
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return 0, nil, queryError("date", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.")
		}
		if d.Before(firstReportDate) || d.After(lastReportDate) {
			return 0, nil, queryError("date", "Date must be between "+firstReportDate.Format(time.DateOnly)+" and "+lastReportDate.Format(time.DateOnly)+".")
		}
		date = d
	}
	rep, err := a.reports.Build(r.Context(), date)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, reportOut(rep), nil
}
