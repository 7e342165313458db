package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/report/smtptest"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/jobs"
)

// reportEnv is the configuration of the daily report email to srv.
func reportEnv(srv *smtptest.Server) map[string]string {
	return map[string]string{
		"SMTP_URL":    srv.URL(),
		"REPORT_TO":   "ops@example.com, boss@example.com",
		"REPORT_FROM": "Notify <notify@example.com>",
	}
}

// reportJobs lists the daily report jobs in the database.
func reportJobs(t *testing.T, b *testBundle) []*rivertype.JobRow {
	t.Helper()
	res, err := b.app.river.JobList(context.Background(), river.NewJobListParams().Kinds(jobs.DailyReportArgs{}.Kind()).First(100))
	require.NoError(t, err)
	return res.Jobs
}

// reportMessagesWithSubject returns the emails with that subject.
func reportMessagesWithSubject(msgs []smtptest.Message, subject string) []smtptest.Message {
	var out []smtptest.Message
	for _, m := range msgs {
		if m.Subject == subject {
			out = append(out, m)
		}
	}
	return out
}

// TestReportEmail sends a mailing through the fake sender, then the report
// of that day through a real SMTP server, and checks the email.
func TestReportEmail(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		srv := smtptest.Start(t)
		b := setup(t, databaseURL, setupOpts{env: reportEnv(srv)})

		// At start the periodic job sends the report due (yesterday's).
		auto := srv.Wait(t, 1, 30*time.Second)[0]
		require.True(t, strings.HasPrefix(auto.Subject, "Notify daily report "), auto.Subject)

		for i := range 5 {
			b.mustGQL(t, fmt.Sprintf(`mutation { createClient(input: {phone: "7900111%04d"}) { id } }`, i), nil, nil)
		}
		now := time.Now().UTC()
		var created struct{ CreateMailing struct{ ID string } }
		b.mustGQL(t, `mutation($s: Time!, $e: Time!) { createMailing(input: {startAt: $s, endAt: $e, text: "Report <test> & friends"}) { id } }`,
			map[string]any{"s": now.Add(-time.Minute).Format(time.RFC3339Nano), "e": now.Add(time.Hour).Format(time.RFC3339Nano)}, &created)
		id := created.CreateMailing.ID
		waitFor(t, time.Minute, "mailing "+id+" finished", func() bool {
			var out struct{ Mailing struct{ Status string } }
			b.mustGQL(t, `query($id: ID!) { mailing(id: $id) { status } }`, map[string]any{"id": id}, &out)
			return out.Mailing.Status == "FINISHED"
		})
		today := now.Format(time.DateOnly)

		type dailyReport struct {
			Date, From, To string
			Totals         struct {
				Mailings, Messages int
				ByStatus           []struct {
					Status string
					Count  int
				}
				PerMailing []struct {
					MailingID string
					Total     int
				}
			}
			HTML, Text string
		}
		const fields = `date from to totals { mailings messages byStatus { status count } perMailing { mailingID total } } html text`
		wantCounts := map[string]int{"QUEUED": 0, "RETRYING": 0, "SENT": 5, "FAILED": 0, "EXPIRED": 0, "CANCELLED": 0}
		checkTotals := func(t *testing.T, r dailyReport) {
			t.Helper()
			require.Equal(t, today, r.Date)
			require.Equal(t, today+"T00:00:00Z", r.From)
			require.Equal(t, now.AddDate(0, 0, 1).Format(time.DateOnly)+"T00:00:00Z", r.To)
			require.Equal(t, 1, r.Totals.Mailings)
			require.Equal(t, 5, r.Totals.Messages)
			got := map[string]int{}
			for _, c := range r.Totals.ByStatus {
				got[c.Status] = c.Count
			}
			require.Equal(t, wantCounts, got)
			require.Len(t, r.Totals.PerMailing, 1, "perMailing lists the report's mailings")
			require.Equal(t, id, r.Totals.PerMailing[0].MailingID)
			require.Equal(t, 5, r.Totals.PerMailing[0].Total)
		}

		t.Run("preview", func(t *testing.T) {
			var out struct{ DailyReport dailyReport }
			b.mustGQL(t, `query($d: Date) { dailyReport(date: $d) { `+fields+` } }`, map[string]any{"d": today}, &out)
			checkTotals(t, out.DailyReport)
			require.Contains(t, out.DailyReport.Text, "5 messages: sent 5 (100%)")
			require.Contains(t, out.DailyReport.HTML, "Report &lt;test&gt; &amp; friends")
			require.Len(t, srv.Messages(), 1, "a preview sends nothing")
		})

		t.Run("send now", func(t *testing.T) {
			var out struct{ SendDailyReport dailyReport }
			b.mustGQL(t, `mutation($d: Date) { sendDailyReport(date: $d) { `+fields+` } }`, map[string]any{"d": today}, &out)
			checkTotals(t, out.SendDailyReport)

			msgs := reportMessagesWithSubject(srv.Wait(t, 2, 30*time.Second), "Notify daily report "+today)
			require.Len(t, msgs, 1)
			m := msgs[0]
			require.Equal(t, "notify@example.com", m.From)
			require.Equal(t, []string{"ops@example.com", "boss@example.com"}, m.To)
			to, err := m.Header.AddressList("To")
			require.NoError(t, err)
			require.Len(t, to, 2)
			require.Equal(t, "ops@example.com", to[0].Address)
			require.Equal(t, "boss@example.com", to[1].Address)
			require.Equal(t, "multipart/alternative", m.ContentType)
			require.Contains(t, m.Text, "Totals: 1 mailings, 5 messages")
			require.Contains(t, m.Text, "  sent 5\n")
			require.Contains(t, m.Text, "Report <test> & friends")
			require.Contains(t, m.Text, "5 messages: sent 5 (100%)")
			require.Contains(t, m.HTML, `title="sent: 5"`)
			require.Contains(t, m.HTML, `width="100%"`)
			require.Contains(t, m.HTML, "Report &lt;test&gt; &amp; friends")
		})

		t.Run("default date is yesterday", func(t *testing.T) {
			var out struct{ DailyReport struct{ Date string } }
			b.mustGQL(t, `{ dailyReport { date } }`, nil, &out)
			require.Equal(t, b.app.reports.DefaultDate(time.Now()).Format(time.DateOnly), out.DailyReport.Date)
		})

		// The date the periodic job sent is sent once; its job completed.
		waitFor(t, 10*time.Second, "report job completed", func() bool {
			js := reportJobs(t, b)
			return len(js) == 1 && js[0].State == rivertype.JobStateCompleted
		})
		require.Len(t, reportMessagesWithSubject(srv.Messages(), auto.Subject), 1)
	})
}

// TestReportSMTPDownThenUp starts with the SMTP server down: the report job
// fails, is retried with backoff, and the report arrives once when the
// server is back.
func TestReportSMTPDownThenUp(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		srv := smtptest.Start(t)
		srv.Stop()
		clock := testdb.NewClock(time.Date(2026, 11, 26, 8, 0, 30, 0, time.UTC))
		b := setup(t, databaseURL, setupOpts{
			env: reportEnv(srv),
			options: appOptions{
				now:         clock.Now,
				reportRetry: func(int) time.Duration { return 100 * time.Millisecond },
			},
		})

		waitFor(t, 30*time.Second, "two failed attempts", func() bool {
			js := reportJobs(t, b)
			return len(js) == 1 && len(js[0].Errors) >= 2
		})
		job := reportJobs(t, b)[0]
		// Retries due within River's scheduler interval go straight to available.
		require.Contains(t, []rivertype.JobState{rivertype.JobStateRetryable, rivertype.JobStateAvailable, rivertype.JobStateRunning}, job.State)
		require.JSONEq(t, `{"date":"2026-11-25"}`, string(job.EncodedArgs))
		require.Contains(t, b.logs.String(), "daily report not sent; will retry")
		require.Empty(t, srv.Messages())

		srv.Restart()
		msgs := srv.Wait(t, 1, 30*time.Second)
		require.Equal(t, "Notify daily report 2026-11-25", msgs[0].Subject)
		waitFor(t, 10*time.Second, "report job completed", func() bool {
			js := reportJobs(t, b)
			return len(js) == 1 && js[0].State == rivertype.JobStateCompleted
		})
		require.Len(t, srv.Messages(), 1, "sent once")
		require.Contains(t, b.logs.String(), `"msg":"daily report sent"`)
	})
}

// TestReportTwoInstances runs two instances on one Postgres at the cron
// time, the periodic job firing every 250 ms on whichever is River's leader,
// and makes the leader change: one email.
func TestReportTwoInstances(t *testing.T) {
	t.Parallel()
	databaseURL := testdb.Postgres(t)
	srv := smtptest.Start(t)
	clock := testdb.NewClock(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC))
	opts := setupOpts{
		env:     reportEnv(srv),
		options: appOptions{now: clock.Now, reportTick: river.PeriodicInterval(250 * time.Millisecond)},
	}
	instances := []*testBundle{setup(t, databaseURL, opts), setup(t, databaseURL, opts)}

	msgs := srv.Wait(t, 1, 30*time.Second)
	require.Equal(t, "Notify daily report 2026-11-25", msgs[0].Subject)

	ticks := func(b *testBundle) int { return strings.Count(b.logs.String(), `"msg":"daily report due"`) }
	var leader, other *testBundle
	waitFor(t, 10*time.Second, "the leader to tick", func() bool {
		switch {
		case ticks(instances[0]) > 0:
			leader, other = instances[0], instances[1]
		case ticks(instances[1]) > 0:
			leader, other = instances[1], instances[0]
		}
		return leader != nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	require.NoError(t, leader.app.river.Stop(ctx))
	before := ticks(other)
	waitFor(t, 30*time.Second, "the other instance to lead and tick", func() bool { return ticks(other) >= before+4 })

	require.Len(t, srv.Messages(), 1, "one email for the date")
	js := reportJobs(t, other)
	require.Len(t, js, 1)
	require.Equal(t, rivertype.JobStateCompleted, js[0].State)
}

// TestReportEmailOff runs without SMTP: the job is off and says so once,
// previews work, and sending is a CONFLICT.
func TestReportEmailOff(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		b := setup(t, databaseURL, setupOpts{})
		require.Equal(t, 1, strings.Count(b.logs.String(), "daily report email is off"))

		resp := b.gql(t, `mutation { sendDailyReport(date: "2026-11-25") { date } }`, nil)
		require.Len(t, resp.Errors, 1)
		require.Equal(t, "CONFLICT", resp.Errors[0].Extensions["code"])
		require.Contains(t, resp.Errors[0].Message, "SMTP_URL is not set")

		var out struct{ DailyReport struct{ Date, Text string } }
		b.mustGQL(t, `{ dailyReport(date: "2026-11-25") { date text } }`, nil, &out)
		require.Equal(t, "2026-11-25", out.DailyReport.Date)
		require.Contains(t, out.DailyReport.Text, "No mailing was active that day.")

		resp = b.gql(t, `{ dailyReport(date: "2026-11-31") { date } }`, nil)
		require.Len(t, resp.Errors, 1)
		require.Equal(t, "BAD_USER_INPUT", resp.Errors[0].Extensions["code"])
		require.Equal(t, "date", resp.Errors[0].Extensions["field"])
	})
}
