package report

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/report/smtptest"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// newService returns a Service over no database: enough for dates.
func newService(t *testing.T, cron string) *Service {
	t.Helper()
	s, err := New(Config{Campaign: campaign.New(campaign.Config{}), Cron: cron, Logger: discard})
	require.NoError(t, err)
	return s
}

func TestDefaultDateAndPeriod(t *testing.T) {
	t.Parallel()
	t.Run("utc by default", func(t *testing.T) {
		t.Parallel()
		s := newService(t, "")
		require.Equal(t, "UTC", s.Zone().String())
		require.Equal(t, date("2026-11-25"), s.DefaultDate(at("2026-11-26T00:00:00Z")))
		require.Equal(t, date("2026-11-25"), s.DefaultDate(at("2026-11-26T23:59:59+00:00")))
		from, to := s.Period(date("2026-11-25"))
		require.Equal(t, at("2026-11-25T00:00:00Z"), from.UTC())
		require.Equal(t, at("2026-11-26T00:00:00Z"), to.UTC())
	})
	t.Run("zone of the cron, daylight saving aware", func(t *testing.T) {
		t.Parallel()
		s := newService(t, "CRON_TZ=Europe/Berlin 0 8 * * *")
		require.Equal(t, "Europe/Berlin", s.Zone().String())
		// 23:30 UTC on the 25th is 00:30 on the 26th in Berlin.
		require.Equal(t, date("2026-11-25"), s.DefaultDate(at("2026-11-25T23:30:00Z")))
		// Summer time ends on 2026-10-25: that day has 25 hours.
		from, to := s.Period(date("2026-10-25"))
		require.Equal(t, at("2026-10-24T22:00:00Z"), from.UTC())
		require.Equal(t, at("2026-10-25T23:00:00Z"), to.UTC())
		require.Equal(t, 25*time.Hour, to.Sub(from))
	})
}

func TestDueDate(t *testing.T) {
	t.Parallel()
	// 2026-11-23 is a Monday.
	tests := []struct {
		name, cron, now string
		want            string // "" = nothing due
	}{
		{"at the cron time", "", "2026-11-26T08:00:00Z", "2026-11-25"},
		{"River's enqueuer is 100 ms early", "", "2026-11-26T07:59:59.9Z", "2026-11-25"},
		{"later that day (start after an outage)", "", "2026-11-26T19:00:00Z", "2026-11-25"},
		{"before the cron time: the day before's date is still due", "", "2026-11-26T07:58:00Z", "2026-11-24"},
		{"weekly, the day of", "CRON_TZ=UTC 0 8 * * 1", "2026-11-23T09:00:00Z", "2026-11-22"},
		{"weekly, more than a day later: River may have deleted the proof", "CRON_TZ=UTC 0 8 * * 1", "2026-11-24T09:00:00Z", ""},
		{"twice a day, after the second time", "CRON_TZ=UTC 0 0,23 * * 1", "2026-11-23T23:30:00Z", "2026-11-22"},
		{"twice a day, window counts from the first time", "CRON_TZ=UTC 0 0,23 * * 1", "2026-11-24T22:00:00Z", ""},
		{"zone: 08:00 in Moscow is 05:00 UTC", "CRON_TZ=Europe/Moscow 0 8 * * *", "2026-11-26T05:00:00Z", "2026-11-25"},
		{"zone: before it", "CRON_TZ=Europe/Moscow 0 8 * * *", "2026-11-26T04:00:00Z", "2026-11-24"},
		// Summer time ends in Berlin on 2026-10-25: 08:00 that day is 25 h
		// after 08:00 the day before; in the last hour nothing is due.
		{"25-hour day, before the cron time", "CRON_TZ=Europe/Berlin 0 8 * * *", "2026-10-25T06:30:00Z", ""},
		{"25-hour day, at the cron time", "CRON_TZ=Europe/Berlin 0 8 * * *", "2026-10-25T07:00:00Z", "2026-10-24"},
		{"every hour", "@every 1h", "2026-11-26T10:00:00Z", "2026-11-25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := newService(t, tt.cron).DueDate(at(tt.now))
			if tt.want == "" {
				require.False(t, ok, "due: %s", got.Format(time.DateOnly))
				return
			}
			require.True(t, ok)
			require.Equal(t, tt.want, got.Format(time.DateOnly))
		})
	}
}

func TestShorten(t *testing.T) {
	t.Parallel()
	require.Equal(t, "short", shorten("short", 60))
	require.Equal(t, "one line now", shorten("one\n line\t\tnow ", 60))
	long := strings.Repeat("Привет ", 20)
	got := shorten(long, 60)
	require.Equal(t, 60, len([]rune(got)))
	require.True(t, strings.HasSuffix(got, "…"))
	require.Equal(t, strings.Repeat("x", 59)+"…", shorten(strings.Repeat("x", 61), 60))
	require.Equal(t, strings.Repeat("x", 60), shorten(strings.Repeat("x", 60), 60))
}

func TestBar(t *testing.T) {
	t.Parallel()
	counts := func(n ...int) []campaign.StatusCount {
		out := emptyCounts()
		for i := range n {
			out[i].Count = n[i]
		}
		return out
	}
	sum := func(segs []segment) int {
		s := 0
		for _, x := range segs {
			s += x.Percent
			require.Positive(t, x.Percent, "segment %s", x.Name)
		}
		return s
	}
	tests := []struct {
		name   string
		counts []campaign.StatusCount
		total  int
		want   map[string]int
	}{
		{"none", counts(), 0, map[string]int{"none": 100}},
		{"all sent", counts(0, 0, 7), 7, map[string]int{"sent": 100}},
		{"thirds", counts(1, 1, 1), 3, map[string]int{"queued": 34, "retrying": 33, "sent": 33}},
		{"tiny share stays visible", counts(0, 0, 999, 1), 1000, map[string]int{"sent": 99, "failed": 1}},
		{"every status", counts(1, 2, 3, 4, 5, 6), 21, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			segs := bar(tt.counts, tt.total)
			require.Equal(t, 100, sum(segs))
			if tt.want != nil {
				got := map[string]int{}
				for _, s := range segs {
					got[s.Name] = s.Percent
				}
				require.Equal(t, tt.want, got)
			}
		})
	}
}

func TestNewSMTPURL(t *testing.T) {
	t.Parallel()
	to := []string{"ops@example.com"}
	ok := []struct{ url, server string }{
		{"smtp://mail.example.com", "mail.example.com:587"},
		{"smtp://user:p%40ss@mail.example.com:2525?tls=opportunistic", "mail.example.com:2525"},
		{"smtp://mail.example.com:25?tls=none", "mail.example.com:25"},
		{"smtp://mail.example.com?tls=starttls", "mail.example.com:587"},
		{"smtps://user:pass@mail.example.com", "mail.example.com:465"},
	}
	for _, tt := range ok {
		m, err := newMailer(tt.url, "Notify <notify@example.com>", to)
		require.NoError(t, err, tt.url)
		require.Equal(t, tt.server, m.server)
	}
	bad := []struct{ url, msg string }{
		{"smtp://mail.example.com?tls=maybe", "tls must be"},
		{"smtps://mail.example.com?tls=none", "always TLS"},
		{"smtp://mail.example.com?auth=plain", "unknown parameter"},
		{"smtp://mail.example.com:99999", "bad port"},
		{"http://mail.example.com", "scheme"},
		{"smtp://", "no host"},
	}
	for _, tt := range bad {
		_, err := newMailer(tt.url, "notify@example.com", to)
		require.ErrorContains(t, err, tt.msg, tt.url)
		require.ErrorContains(t, err, "SMTP_URL")
	}
	_, err := newMailer("smtp://user:secret@mail.example.com?tls=maybe", "notify@example.com", to)
	require.NotContains(t, err.Error(), "secret")
}

// fixture is a database with mailings around 2026-11-25 (UTC).
type fixture struct {
	db       *database.DB
	campaign *campaign.Service
	ids      map[string]int
}

func newFixture(t *testing.T, databaseURL string) *fixture {
	t.Helper()
	ctx := context.Background()
	db := testdb.Migrated(t, databaseURL)
	f := &fixture{
		db:       db,
		campaign: campaign.New(campaign.Config{DB: db, Now: func() time.Time { return at("2026-11-26T08:00:00Z") }, Logger: discard}),
		ids:      map[string]int{},
	}
	window := func(s string) *string { return &s }
	type msgs map[status.Message]int
	for _, m := range []struct {
		name       string
		start, end string
		text       string
		status     status.Mailing
		from, to   *string
		messages   msgs
	}{
		{"finished", "2026-11-25T09:00:00Z", "2026-11-25T21:00:00Z", "Black Friday starts <b>now</b> & lasts all weekend — don't miss the deals in every store near you", status.Finished, window("09:00"), window("21:00"),
			msgs{status.Sent: 7, status.Failed: 2, status.Expired: 1}},
		{"running across midnight", "2026-11-24T20:00:00Z", "2026-11-26T20:00:00Z", "Still going", status.Running, nil, nil,
			msgs{status.Sent: 3, status.Queued: 1, status.Retrying: 1}},
		{"cancelled before its start", "2026-11-25T12:00:00Z", "2026-11-25T13:00:00Z", "Never went out", status.MailingCanceled, nil, nil, nil},
		{"scheduled: did not start", "2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z", "Not started", status.Scheduled, nil, nil, nil},
		{"ended at the start of the day", "2026-11-24T10:00:00Z", "2026-11-25T00:00:00Z", "Day before", status.Finished, nil, nil, msgs{status.Sent: 5}},
		{"starts at the end of the day", "2026-11-26T00:00:00Z", "2026-11-26T10:00:00Z", "Day after", status.Running, nil, nil, msgs{status.Sent: 5}},
	} {
		ml, err := db.Ent.Mailing.Create().
			SetStartAt(at(m.start)).SetEndAt(at(m.end)).SetText(m.text).SetStatus(m.status).
			SetNillableWindowFrom(m.from).SetNillableWindowTo(m.to).
			Save(ctx)
		require.NoError(t, err)
		f.ids[m.name] = ml.ID
		var creates []*ent.MessageCreate
		for st, n := range m.messages {
			for range n {
				creates = append(creates, db.Ent.Message.Create().SetMailingID(ml.ID).SetPhone("79001234567").SetStatus(st))
			}
		}
		require.NoError(t, db.Ent.Message.CreateBulk(creates...).Exec(ctx))
	}
	return f
}

func (f *fixture) service(t *testing.T, smtpURL string) *Service {
	t.Helper()
	s, err := New(Config{
		Campaign: f.campaign,
		SMTPURL:  smtpURL,
		From:     "Notify <notify@example.com>",
		To:       []string{"ops@example.com", "boss@example.com"},
		Logger:   discard,
	})
	require.NoError(t, err)
	return s
}

func countsOf(byStatus []campaign.StatusCount) map[status.Message]int {
	out := map[status.Message]int{}
	for _, c := range byStatus {
		out[c.Status] = c.Count
	}
	return out
}

func TestBuild(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		f := newFixture(t, databaseURL)
		s := f.service(t, "")
		rep, err := s.Build(context.Background(), date("2026-11-25"))
		require.NoError(t, err)

		require.Equal(t, "Notify daily report 2026-11-25", rep.Subject)
		require.Equal(t, date("2026-11-25"), rep.Date)
		var ids []int
		for _, m := range rep.Mailings {
			ids = append(ids, m.ID)
		}
		// By start_at: the one running since the day before first.
		require.Equal(t, []int{f.ids["running across midnight"], f.ids["finished"], f.ids["cancelled before its start"]}, ids)

		fin := rep.Mailings[1]
		require.Equal(t, status.Finished, fin.Status)
		require.Equal(t, 10, fin.Total)
		require.Equal(t, map[status.Message]int{status.Queued: 0, status.Retrying: 0, status.Sent: 7, status.Failed: 2, status.Expired: 1, status.MessageCanceled: 0}, countsOf(fin.ByStatus))
		require.LessOrEqual(t, len([]rune(fin.Text)), TextLimit)
		require.True(t, strings.HasSuffix(fin.Text, "…"))
		require.True(t, strings.HasPrefix(fin.Text, "Black Friday starts <b>now</b> & lasts"))
		require.NotNil(t, fin.SendWindow)
		require.Equal(t, "09:00-21:00", fin.SendWindow.String())
		require.Equal(t, 0, rep.Mailings[2].Total)

		require.Equal(t, 3, rep.Totals.Mailings)
		require.Equal(t, 15, rep.Totals.Messages)
		require.Len(t, rep.Totals.ByStatus, len(status.Messages))
		require.Equal(t, map[status.Message]int{status.Queued: 1, status.Retrying: 1, status.Sent: 10, status.Failed: 2, status.Expired: 1, status.MessageCanceled: 0}, countsOf(rep.Totals.ByStatus))

		// HTML: self-contained, escaped, with the numbers.
		for _, banned := range []string{"<script", "<style", "<link", "src=", "url(", "http://", "https://", "<b>now"} {
			require.NotContains(t, rep.HTML, banned)
		}
		require.Contains(t, rep.HTML, "&lt;b&gt;now&lt;/b&gt; &amp; lasts")
		require.Contains(t, rep.HTML, `width="70%"`) // 7 of 10 sent
		require.Contains(t, rep.HTML, "background-color:#2e7d32")
		require.Contains(t, rep.HTML, "send window 09:00–21:00")
		require.Contains(t, rep.Text, "Totals: 3 mailings, 15 messages")
		require.Contains(t, rep.Text, "10 messages: sent 7 (70%), failed 2 (20%), expired 1 (10%)")
		require.Contains(t, rep.Text, "Black Friday starts <b>now</b> & lasts")
		require.Contains(t, rep.Text, "2026-11-25 09:00 – 2026-11-25 21:00, send window 09:00–21:00")

		t.Run("a day with nothing", func(t *testing.T) {
			rep, err := s.Build(context.Background(), date("2026-12-25"))
			require.NoError(t, err)
			require.Empty(t, rep.Mailings)
			require.Equal(t, 0, rep.Totals.Messages)
			require.Len(t, rep.Totals.ByStatus, len(status.Messages))
			require.Contains(t, rep.Text, "No mailing was active that day.")
			require.Contains(t, rep.HTML, "No mailing was active that day.")
		})
	})
}

func TestSend(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := newFixture(t, databaseURL)
		srv := smtptest.Start(t)
		s := f.service(t, srv.URL())

		rep, err := s.Send(ctx, date("2026-11-25"))
		require.NoError(t, err)
		m := srv.Wait(t, 1, 10*time.Second)[0]
		require.Equal(t, "notify@example.com", m.From)
		require.Equal(t, []string{"ops@example.com", "boss@example.com"}, m.To)
		require.Equal(t, "Notify daily report 2026-11-25", m.Subject)
		require.Equal(t, "multipart/alternative", m.ContentType)
		require.Equal(t, rep.Text, m.Text)
		require.Equal(t, rep.HTML, m.HTML)
		require.Equal(t, "auto-generated", m.Header.Get("Auto-Submitted"))

		// The scheduled send's Message-ID is the date's, every time.
		_, err = s.SendScheduled(ctx, date("2026-11-25"))
		require.NoError(t, err)
		_, err = s.SendScheduled(ctx, date("2026-11-25"))
		require.NoError(t, err)
		msgs := srv.Wait(t, 3, 10*time.Second)
		require.Equal(t, "<daily-report-2026-11-25@example.com>", msgs[1].Header.Get("Message-Id"))
		require.Equal(t, msgs[1].Header.Get("Message-Id"), msgs[2].Header.Get("Message-Id"))
		require.NotEqual(t, msgs[0].Header.Get("Message-Id"), msgs[1].Header.Get("Message-Id"))

		t.Run("server down", func(t *testing.T) {
			srv.Stop()
			_, err := s.Send(ctx, date("2026-11-25"))
			require.ErrorIs(t, err, ErrDelivery)
			require.NotErrorIs(t, err, campaign.ErrConflict)
		})
	})
}

func TestSendEmailOff(t *testing.T) {
	t.Parallel()
	s := newService(t, "")
	require.False(t, s.EmailEnabled())
	_, err := s.Send(context.Background(), date("2026-11-25"))
	require.ErrorIs(t, err, ErrEmailOff)
	require.True(t, errors.Is(err, campaign.ErrConflict))
}
