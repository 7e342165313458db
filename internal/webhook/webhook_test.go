package webhook_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/internal/webhook"
)

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// TestSignerMatchesTheSpecification: what the signer writes verifies with
// the specification's library, and not under another secret or body.
func TestSignerMatchesTheSpecification(t *testing.T) {
	t.Parallel()
	s, err := webhook.NewSigner(secret)
	require.NoError(t, err)
	h := http.Header{}
	body := []byte(`{"type":"mailing.started"}`)
	require.NoError(t, s.Sign(h, "msg_1", time.Now(), body))
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	require.NoError(t, wh.Verify(body, h))
	require.Error(t, wh.Verify([]byte(`{"type":"mailing.finished"}`), h))
	other, err := standardwebhooks.NewWebhook("whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret of sixteen+ bytes")))
	require.NoError(t, err)
	require.Error(t, other.Verify(body, h))

	for _, bad := range []string{"whsec_!!!", "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))} {
		_, err := webhook.NewSigner(bad)
		require.Error(t, err)
	}
}

// TestBackoff: 1 s after the first failed attempt, doubling, at most an hour.
func TestBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
	for i, w := range want {
		require.Equal(t, w, webhook.Backoff(i+1))
	}
	require.Equal(t, time.Hour, webhook.Backoff(13))
	require.Equal(t, time.Hour, webhook.Backoff(webhook.MaxAttempts))
	total := time.Duration(0)
	for n := 1; n < webhook.MaxAttempts; n++ {
		total += webhook.Backoff(n)
	}
	require.InDelta(t, 4*time.Hour, total, float64(time.Hour), "tried for about four hours")
}

// jobsInTx records the deliveries the outbox schedules.
type jobsInTx struct{ ids []int }

func (j *jobsInTx) ScheduleDelivery(_ context.Context, _ *database.Tx, id int) error {
	j.ids = append(j.ids, id)
	return nil
}

// TestOutboxAndDeliver: an announced event becomes a pending delivery to
// the mailing's own URL (else the default one) with its job; each attempt
// is recorded on it — a failure with its status, error and next time, the
// last failure as failed, a success as delivered — and a delivered one is
// not sent again.
func TestOutboxAndDeliver(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		db := testdb.Migrated(t, dbURL)

		var answer atomic.Int32
		answer.Store(http.StatusServiceUnavailable)
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(int(answer.Load()))
		}))
		t.Cleanup(srv.Close)

		jobs := &jobsInTx{}
		out := webhook.NewOutbox(srv.URL+"/default", jobs)
		own := srv.URL + "/own"
		at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		require.NoError(t, db.InTx(ctx, func(tx *database.Tx) error {
			if err := out.Announce(ctx, tx, campaign.Event{Type: campaign.EventMailingStarted, MailingID: 3, URL: &own, At: at, Data: map[string]any{"mailing_id": 3}}); err != nil {
				return err
			}
			return out.Announce(ctx, tx, campaign.Event{Type: campaign.EventImportFinished, At: at, Data: map[string]any{"import_id": 1}})
		}))
		require.Len(t, jobs.ids, 2)
		d1, err := db.Ent.WebhookDelivery.Get(ctx, jobs.ids[0])
		require.NoError(t, err)
		require.Equal(t, own, d1.URL)
		require.Equal(t, status.Pending, d1.State)
		require.Equal(t, 3, *d1.MailingID)
		d2, err := db.Ent.WebhookDelivery.Get(ctx, jobs.ids[1])
		require.NoError(t, err)
		require.Equal(t, srv.URL+"/default", d2.URL)
		require.Nil(t, d2.MailingID)

		signer, err := webhook.NewSigner(secret)
		require.NoError(t, err)
		now := at
		// The receiver is on loopback: allowed (guard_test.go refuses it).
		d := webhook.NewDeliverer(webhook.Config{DB: db, Signer: signer, Timeout: time.Second, AllowPrivate: true, Now: func() time.Time { return now }})

		require.ErrorContains(t, d.Deliver(ctx, d1.ID, 1, false), "answered 503")
		d1, err = db.Ent.WebhookDelivery.Get(ctx, d1.ID)
		require.NoError(t, err)
		require.Equal(t, status.Pending, d1.State)
		require.Equal(t, 1, d1.Attempts)
		require.Equal(t, http.StatusServiceUnavailable, *d1.LastStatus)
		require.True(t, d1.NextAttemptAt.Equal(now.Add(time.Second)), "next attempt %s", d1.NextAttemptAt)

		answer.Store(http.StatusAccepted)
		require.NoError(t, d.Deliver(ctx, d1.ID, 2, false))
		d1, err = db.Ent.WebhookDelivery.Get(ctx, d1.ID)
		require.NoError(t, err)
		require.Equal(t, status.Delivered, d1.State)
		require.Equal(t, 2, d1.Attempts)
		require.Nil(t, d1.LastError)
		require.Nil(t, d1.NextAttemptAt)
		require.NotNil(t, d1.DeliveredAt)
		before := requests.Load()
		require.NoError(t, d.Deliver(ctx, d1.ID, 3, false), "a delivered event is done")
		require.Equal(t, before, requests.Load(), "and not sent again")

		answer.Store(http.StatusInternalServerError)
		require.Error(t, d.Deliver(ctx, d2.ID, webhook.MaxAttempts, true))
		d2, err = db.Ent.WebhookDelivery.Get(ctx, d2.ID)
		require.NoError(t, err)
		require.Equal(t, status.Undelivered, d2.State)
		require.Nil(t, d2.NextAttemptAt)
		require.Equal(t, webhook.MaxAttempts, d2.Attempts)
	})
}
