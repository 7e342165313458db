// Package report builds and emails the daily report (docs/product.md, "Statistics and the daily report"): the
// statistics of the mailings active during one calendar day, rendered as HTML
// (a table-based bar chart that renders in common mail clients) with a
// plain-text alternative, and sent over SMTP with go-mail.
//
// The API, used by the GraphQL resolvers, the REST route
// GET /reports/daily/?date= and the River job in jobs/daily_report.go:
//
//	svc, err := report.New(report.Config{Campaign: …, Cron: cfg.ReportCron, SMTPURL: …})
//	date := svc.DefaultDate(svc.Now())       // yesterday in the report zone
//	rep, err := svc.Build(ctx, date)          // preview: data, HTML and text
//	rep, err = svc.Send(ctx, date)            // build and email it now
//
// The report zone is the CRON_TZ of REPORT_CRON (UTC by default), so the day
// a report covers and the time it is sent are read on the same clock.
//
// Which mailings a report lists: those whose [start_at, end_at) overlaps the
// day and that did start, that is whose status is no longer scheduled
// (running, paused, finished, or cancelled — a mailing cancelled before its
// start is listed too, with no messages, so that the cancellation shows).
// Their counts are their current counts when the report is built, not only
// the messages written during that day: the report answers "how did the
// mailings of that day do".
package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/mailing"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/sendwindow"
	"github.com/notifyhq/notify/internal/status"
)

// ErrEmailOff is returned by Send when no SMTP server is configured
// (SMTP_URL unset). It wraps campaign.ErrConflict: the request is well formed
// but the service is not in a state to do it, so transports answer CONFLICT
// (GraphQL) or 409 (REST), not an internal error.
var ErrEmailOff = fmt.Errorf("%w: the daily report email is off (SMTP_URL is not set)", campaign.ErrConflict)

// ErrDelivery marks a failure to hand the report to the SMTP server
// (unreachable, refused, timed out). A transport may map it to a "bad
// gateway" answer; the River job retries it with backoff.
var ErrDelivery = errors.New("error delivering the daily report")

// TextLimit is how many characters (code points) of a mailing's text a
// report shows; longer texts are cut and end with "…".
const TextLimit = 60

// DueWindow is how long after the first cron time of a day the report of
// the day before stays due for the periodic job (DueDate). River keeps
// finished jobs at least this long (jobs.RiverConfig), so within the window
// the unique job of a date proves whether it was already sent; after it, a
// date is no longer sent automatically (use Send).
const DueWindow = 24 * time.Hour

// dueSlack lets a date become due slightly before its cron time: River's
// periodic enqueuer runs jobs up to 100 ms early, and the report of a day
// that has ended can go out at any time.
const dueSlack = time.Minute

// Config holds the dependencies and settings of a Service.
type Config struct {
	// Campaign is the domain service the report reads; its clock is the
	// report's clock.
	Campaign *campaign.Service
	// Cron is REPORT_CRON ("CRON_TZ=UTC 0 8 * * *" when empty): when the
	// report is due, and by its CRON_TZ the zone of the report's days.
	Cron string
	// SMTPURL is SMTP_URL; empty turns email off (Build still works).
	// smtp://user:pass@host:587?tls=mandatory|opportunistic|none (mandatory
	// STARTTLS by default) or smtps://user:pass@host:465 (implicit TLS).
	SMTPURL string
	// From is REPORT_FROM; To is REPORT_TO.
	From string
	To   []string
	// Logger receives one line per report sent; slog.Default when nil.
	Logger *slog.Logger
}

// Service builds and sends daily reports.
type Service struct {
	campaign *campaign.Service
	schedule cron.Schedule
	zone     *time.Location
	mailer   *mailer // nil when email is off
	logger   *slog.Logger
}

// New returns a Service. It returns an error naming REPORT_CRON or SMTP_URL
// when either cannot be used.
func New(cfg Config) (*Service, error) {
	spec := cmp.Or(cfg.Cron, "CRON_TZ=UTC 0 8 * * *")
	schedule, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("REPORT_CRON: %w", err)
	}
	s := &Service{
		campaign: cfg.Campaign,
		schedule: schedule,
		zone:     time.UTC,
		logger:   cmp.Or(cfg.Logger, slog.Default()),
	}
	if spec, ok := schedule.(*cron.SpecSchedule); ok && spec.Location != nil {
		s.zone = spec.Location
	}
	if cfg.SMTPURL != "" {
		if s.mailer, err = newMailer(cfg.SMTPURL, cfg.From, cfg.To); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Report is the daily report of one date.
type Report struct {
	// Date is the calendar date reported on, as midnight UTC of that date
	// (format it with time.DateOnly).
	Date time.Time
	// From and To bound the day in the report zone: [From, To). A day is 23
	// or 25 hours long when daylight saving time changes.
	From, To time.Time
	// Zone is the report zone's name ("UTC", "Europe/Moscow").
	Zone string
	// Subject is the email's subject: "Notify daily report 2026-11-25".
	Subject string
	// Totals sum the listed mailings: how many, their messages, and those by
	// status (every status, zeros included, in enum order).
	Totals campaign.GeneralStatistics
	// Mailings are the mailings active that day, by start_at then id.
	Mailings []MailingSummary
	// HTML and Text are the rendered email bodies.
	HTML, Text string
	// GeneratedAt is when the report was built (its counts are as of then).
	GeneratedAt time.Time
}

// MailingSummary is one mailing's line in a report.
type MailingSummary struct {
	ID int
	// Text is the mailing's text on one line, cut to TextLimit characters.
	Text string
	// StartAt and EndAt are in the report zone.
	StartAt, EndAt time.Time
	// SendWindow is the daily window in each client's local time, or nil.
	SendWindow *sendwindow.Window
	Status     status.Mailing
	// Total is the number of messages (recipients).
	Total int
	// ByStatus lists every message status in enum order, zeros included.
	ByStatus []campaign.StatusCount
}

// Now returns the current time of the report's clock (the domain's).
func (s *Service) Now() time.Time { return s.campaign.Now() }

// Zone returns the report zone: the CRON_TZ of REPORT_CRON, UTC without one.
func (s *Service) Zone() *time.Location { return s.zone }

// Schedule returns REPORT_CRON parsed: when the report is due.
func (s *Service) Schedule() cron.Schedule { return s.schedule }

// EmailEnabled reports whether Send can send (SMTP_URL is set).
func (s *Service) EmailEnabled() bool { return s.mailer != nil }

// DefaultDate returns the date a report covers by default at now: yesterday
// in the report zone, as midnight UTC of that date.
func (s *Service) DefaultDate(now time.Time) time.Time {
	y, m, d := now.In(s.zone).Date()
	return time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC)
}

// Period returns the day date names in the report zone, [from, to). Only
// the calendar date of date counts (its year, month and day in its own
// location), so midnight UTC of the date (what the GraphQL Date scalar and
// time.Parse(time.DateOnly, …) give) is the usual argument.
func (s *Service) Period(date time.Time) (from, to time.Time) {
	y, m, d := date.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.zone), time.Date(y, m, d+1, 0, 0, 0, 0, s.zone)
}

// DueDate returns the date whose report the periodic job should send at
// now, and false when none is due. A date is due from the first cron time
// of the day after it (in the report zone) for DueWindow: at the cron time
// itself, or at start if the service was down then. Past the window it is
// not due any more, so a finished job that River has since deleted can never
// make the same date go out twice. With several cron times a day, each
// names the same date.
func (s *Service) DueDate(now time.Time) (time.Time, bool) {
	end := now.Add(dueSlack)
	// The latest cron time in (end-DueWindow, end]; Next is strictly after.
	var latest time.Time
	for t := s.schedule.Next(end.Add(-DueWindow)); !t.IsZero() && !t.After(end); t = s.schedule.Next(t) {
		latest = t
	}
	if latest.IsZero() {
		return time.Time{}, false
	}
	// The first cron time of that day starts the date's window.
	y, m, d := latest.In(s.zone).Date()
	// (@every schedules have no fixed times: latest stands in for it.)
	first := s.schedule.Next(time.Date(y, m, d, 0, 0, 0, 0, s.zone).Add(-time.Second))
	if first.After(latest) {
		first = latest
	}
	if !first.After(end.Add(-DueWindow)) {
		return time.Time{}, false
	}
	return time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC), true
}

// Build returns the report of date (see Period for how date is read) with
// the mailings' current counts, rendered. It only reads.
func (s *Service) Build(ctx context.Context, date time.Time) (*Report, error) {
	from, to := s.Period(date)
	y, m, d := date.Date()
	rep := &Report{
		Date:        time.Date(y, m, d, 0, 0, 0, 0, time.UTC),
		From:        from,
		To:          to,
		Zone:        s.zone.String(),
		GeneratedAt: s.Now().In(s.zone),
	}
	rep.Subject = "Notify daily report " + rep.Date.Format(time.DateOnly)

	mailings, err := s.campaign.DB().Ent.Mailing.Query().
		Where(
			mailing.StartAtLT(to.UTC()),
			mailing.EndAtGT(from.UTC()),
			mailing.StatusNEQ(status.Scheduled),
		).
		Order(ent.Asc(mailing.FieldStartAt), ent.Asc(mailing.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("error listing the mailings of %s: %w", rep.Date.Format(time.DateOnly), err)
	}
	ids := make([]int, len(mailings))
	for i, ml := range mailings {
		ids[i] = ml.ID
	}
	var stats []*campaign.MailingStats
	if len(ids) > 0 {
		if stats, err = s.campaign.MailingStatsOf(ctx, ids); err != nil {
			return nil, fmt.Errorf("error counting the messages of %s: %w", rep.Date.Format(time.DateOnly), err)
		}
	}

	totals := make(map[status.Message]int, len(status.Messages))
	for i, ml := range mailings {
		sum := MailingSummary{
			ID:         ml.ID,
			Text:       shorten(ml.Text, TextLimit),
			StartAt:    ml.StartAt.In(s.zone),
			EndAt:      ml.EndAt.In(s.zone),
			SendWindow: campaign.MailingWindow(ml),
			Status:     ml.Status,
			ByStatus:   emptyCounts(),
		}
		// A mailing deleted between the two queries has no stats: it keeps
		// zero counts rather than failing the report.
		if st := stats[i]; st != nil {
			sum.Status, sum.Total, sum.ByStatus = st.Status, st.Total, st.ByStatus
		}
		for _, c := range sum.ByStatus {
			totals[c.Status] += c.Count
		}
		rep.Mailings = append(rep.Mailings, sum)
		rep.Totals.Messages += sum.Total
		rep.Totals.PerMailing = append(rep.Totals.PerMailing, &campaign.MailingStats{
			MailingID: sum.ID, Status: sum.Status, Total: sum.Total, ByStatus: sum.ByStatus,
		})
	}
	if rep.Totals.PerMailing == nil {
		rep.Totals.PerMailing = []*campaign.MailingStats{} // the report's mailings: none
	}
	rep.Totals.Mailings = len(rep.Mailings)
	rep.Totals.ByStatus = emptyCounts()
	for i := range rep.Totals.ByStatus {
		rep.Totals.ByStatus[i].Count = totals[rep.Totals.ByStatus[i].Status]
	}

	if rep.HTML, rep.Text, err = render(rep); err != nil {
		return nil, fmt.Errorf("error rendering the report of %s: %w", rep.Date.Format(time.DateOnly), err)
	}
	return rep, nil
}

// Send builds the report of date and emails it now to REPORT_TO. Each call
// sends one email (the periodic job's one-per-date rule does not apply to
// an explicit send). Returns ErrEmailOff when SMTP_URL is unset, and an
// error wrapping ErrDelivery when the SMTP server does not take it.
func (s *Service) Send(ctx context.Context, date time.Time) (*Report, error) {
	return s.send(ctx, date, "")
}

// SendScheduled is Send for the periodic job: the email's Message-ID is
// derived from the date, so if an attempt's success is lost (the process
// dies after the server took the email) and the job runs again, mail clients
// that deduplicate by Message-ID show the report once.
func (s *Service) SendScheduled(ctx context.Context, date time.Time) (*Report, error) {
	return s.send(ctx, date, "daily-report-"+date.Format(time.DateOnly))
}

func (s *Service) send(ctx context.Context, date time.Time, messageKey string) (*Report, error) {
	if s.mailer == nil {
		return nil, ErrEmailOff
	}
	rep, err := s.Build(ctx, date)
	if err != nil {
		return nil, err
	}
	messageID, err := s.mailer.send(ctx, rep, messageKey)
	if err != nil {
		return nil, fmt.Errorf("%w of %s to %s: %w", ErrDelivery, rep.Date.Format(time.DateOnly), s.mailer.server, err)
	}
	s.logger.InfoContext(ctx, "daily report sent",
		"report_date", rep.Date.Format(time.DateOnly),
		"email_message_id", messageID,
		"recipients", len(s.mailer.to),
		"mailings", rep.Totals.Mailings,
		"messages", rep.Totals.Messages)
	return rep, nil
}

// emptyCounts lists every message status with a zero count, in enum order.
func emptyCounts() []campaign.StatusCount {
	out := make([]campaign.StatusCount, len(status.Messages))
	for i, st := range status.Messages {
		out[i] = campaign.StatusCount{Status: st}
	}
	return out
}

// shorten puts text on one line (runs of white space become one space) and
// cuts it to limit code points, the last being "…" when it was cut.
func shorten(text string, limit int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= limit {
		return text
	}
	runes := []rune(text)
	return strings.TrimRight(string(runes[:limit-1]), " ") + "…"
}
