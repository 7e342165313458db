package webhook_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/database"
	"github.com/notifyhq/notify/internal/status"
	"github.com/notifyhq/notify/internal/testdb"
	"github.com/notifyhq/notify/internal/webhook"
)

// TestForbidden: loopback, private, link-local (cloud metadata),
// unspecified, multicast and the other special-purpose addresses are
// refused, in IPv4, IPv6 and IPv4-mapped form; public addresses are not.
func TestForbidden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		want string // "" for allowed
	}{
		{"127.0.0.1", "loopback"},
		{"127.1.2.3", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.0.0.1", "private"},
		{"172.16.5.4", "private"},
		{"192.168.1.1", "private"},
		{"fd00:ec2::254", "private"},
		{"169.254.169.254", "link-local"},
		{"::ffff:169.254.169.254", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "reserved"},
		{"0.1.2.3", "this network"},
		{"100.100.100.200", "shared"},
		{"198.18.0.1", "benchmarking"},
		{"64:ff9b::7f00:1", "NAT64 address of a loopback"},
		{"64:ff9b::a9fe:a9fe", "NAT64 address of a link-local"},
		{"2002:a9fe:a9fe::1", "6to4 address of a link-local"},
		{"::127.0.0.1", "IPv4-compatible"},
		{"fec0::1", "site-local"},
		{"93.184.215.14", ""},
		{"8.8.8.8", ""},
		{"2606:4700::1111", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},
	} {
		got := webhook.Forbidden(netip.MustParseAddr(tc.addr))
		if tc.want == "" {
			require.Empty(t, got, tc.addr)
		} else {
			require.Contains(t, got, tc.want, tc.addr)
		}
	}
	require.NotEmpty(t, webhook.Forbidden(netip.Addr{}), "the zero Addr")
}

// FuzzForbidden: any address is classified without a panic, the same in
// its IPv4 and IPv4-mapped forms and with or without a zone; every
// loopback, private, link-local, unspecified or multicast one is refused.
func FuzzForbidden(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "::1", "169.254.169.254", "10.1.2.3", "8.8.8.8", "::ffff:10.0.0.1", "fe80::1%eth0", "64:ff9b::7f00:1", "2002:7f00:1::", "::", "ff02::1"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		addr, ok := netip.AddrFromSlice(b)
		why := webhook.Forbidden(addr)
		if !ok {
			if why == "" {
				t.Fatalf("allowed the invalid address of %x", b)
			}
			return
		}
		u := addr.Unmap()
		if (u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() || u.IsUnspecified() || u.IsMulticast()) && why == "" {
			t.Fatalf("allowed %s", addr)
		}
		if addr.Is4() {
			if mapped := netip.AddrFrom16(addr.As16()); webhook.Forbidden(mapped) != why {
				t.Fatalf("%s and %s classified apart: %q, %q", addr, mapped, why, webhook.Forbidden(mapped))
			}
		}
		if addr.Is6() && !addr.Is4In6() {
			if zoned := addr.WithZone("eth0"); webhook.Forbidden(zoned) != why {
				t.Fatalf("%s and %s classified apart", addr, zoned)
			}
		}
	})
}

// TestDeliverRefusesPrivateDestinations: a delivery to a mailing's own
// URL that reaches loopback (by address or by a name resolving to it) or
// the cloud metadata address is never sent: the attempt fails at once
// with ErrRefused, recorded as failed with the reason, without retries. A
// 3xx to such an address is not followed. The trusted URL (WEBHOOK_URL)
// reaches the same receiver, and so does every URL with AllowPrivate.
func TestDeliverRefusesPrivateDestinations(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		db := testdb.Migrated(t, dbURL)

		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			if r.URL.Path == "/redirect" {
				http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(srv.Close)
		_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
		require.NoError(t, err)

		jobs := &jobsInTx{}
		trusted := srv.URL + "/trusted"
		out := webhook.NewOutbox(trusted, jobs)
		announce := func(url string) int {
			t.Helper()
			n := len(jobs.ids)
			require.NoError(t, db.InTx(ctx, func(tx *database.Tx) error {
				return out.Announce(ctx, tx, campaign.Event{Type: campaign.EventMailingCancelled, MailingID: 1, URL: &url, At: time.Now(), Data: map[string]any{"mailing_id": 1}})
			}))
			require.Len(t, jobs.ids, n+1)
			return jobs.ids[n]
		}
		signer, err := webhook.NewSigner(secret)
		require.NoError(t, err)
		d := webhook.NewDeliverer(webhook.Config{DB: db, Signer: signer, Timeout: 2 * time.Second, TrustedURL: trusted})

		for _, tc := range []struct{ url, want string }{
			{srv.URL + "/own", "refused: 127.0.0.1 is a loopback address"},
			{"http://localhost:" + port + "/own", "refused: localhost resolves to"},
			{"http://169.254.169.254/latest/meta-data/", "refused: 169.254.169.254 is a link-local address"},
			{"http://[::ffff:10.0.0.1]:" + port + "/", "refused: 10.0.0.1 is a private address"},
			{"http://0.0.0.0:" + port + "/", "refused: 0.0.0.0 is an unspecified address"},
			{"ftp://hooks.example/n", "not an http or https URL"},
		} {
			id := announce(tc.url)
			err := d.Deliver(ctx, id, 1, false)
			require.ErrorIs(t, err, webhook.ErrRefused, tc.url)
			require.ErrorContains(t, err, tc.want)
			row, err := db.Ent.WebhookDelivery.Get(ctx, id)
			require.NoError(t, err)
			require.Equal(t, status.Undelivered, row.State, "failed at once, not retried: %s", tc.url)
			require.Equal(t, 1, row.Attempts)
			require.Nil(t, row.NextAttemptAt)
			require.NotNil(t, row.LastError)
			require.Contains(t, *row.LastError, tc.want)
			if strings.HasPrefix(tc.want, "refused") {
				require.Contains(t, *row.LastError, "WEBHOOK_ALLOW_PRIVATE=true allows others")
			}
		}
		require.Zero(t, requests.Load(), "no refused destination was reached")

		// WEBHOOK_URL is the operator's own: trusted.
		id := announce(trusted)
		require.NoError(t, d.Deliver(ctx, id, 1, false))
		require.EqualValues(t, 1, requests.Load())

		// WEBHOOK_ALLOW_PRIVATE: a mailing's own URL may be on loopback.
		open := webhook.NewDeliverer(webhook.Config{DB: db, Signer: signer, Timeout: 2 * time.Second, AllowPrivate: true})
		for _, url := range []string{srv.URL + "/own", "http://localhost:" + port + "/own"} {
			id = announce(url)
			require.NoError(t, open.Deliver(ctx, id, 1, false), url)
		}
		require.EqualValues(t, 3, requests.Load())

		// A redirect is an answer, never followed (here it would lead to
		// the metadata address).
		id = announce(srv.URL + "/redirect")
		err = open.Deliver(ctx, id, 1, false)
		require.ErrorContains(t, err, "answered 302")
		require.False(t, errors.Is(err, webhook.ErrRefused))
		require.EqualValues(t, 4, requests.Load())
	})
}
