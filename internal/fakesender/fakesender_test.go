package fakesender_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/notifyhq/notify/internal/fakesender"
	"github.com/notifyhq/notify/internal/lockedbuf"
	"github.com/notifyhq/notify/internal/testdb"
)

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

const testToken = "secret-token"

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

type testBundle struct {
	fake   *fakesender.Fake
	srv    *httptest.Server
	client *http.Client
}

func setup(t *testing.T, cfg fakesender.Config) *testBundle {
	t.Helper()
	fake := fakesender.New(cfg)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	t.Cleanup(fake.Close) // Runs first: releases held requests so srv.Close does not wait.
	return &testBundle{fake: fake, srv: srv, client: srv.Client()}
}

// reply is what a client saw.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

func sendBody(id int64, phone int64, text string) string {
	b, _ := json.Marshal(map[string]any{"id": id, "phone": phone, "text": text})
	return string(b)
}

// do sends a request with the given path, body and Authorization header ("" for none).
func (b *testBundle) do(t *testing.T, client *http.Client, method, path, body, auth string) (reply, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, b.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// request sends a request (as do) with b.client and requires an answer.
func (b *testBundle) request(t *testing.T, method, path, body, auth string) reply {
	t.Helper()
	r, err := b.do(t, b.client, method, path, body, auth)
	require.NoError(t, err)
	return r
}

// send sends a valid request for id with the test token and requires an answer.
func (b *testBundle) send(t *testing.T, id int64) reply {
	t.Helper()
	return b.request(t, http.MethodPost, "/v1/send/"+strconv.FormatInt(id, 10), sendBody(id, 79001234567, "hello"), "Bearer "+testToken)
}

func (b *testBundle) admin(t *testing.T, method, path, body string) reply {
	t.Helper()
	return b.request(t, method, path, body, "")
}

func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func TestSend(t *testing.T) {
	t.Parallel()

	t.Run("Success", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken})
		r := b.send(t, 42)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.Equal(t, map[string]any{"code": 0.0, "message": "OK"}, r.json(t))
		require.Equal(t, 1, b.fake.Requests(42))
		require.Equal(t, 1, b.fake.Accepted(42))
		require.Equal(t, 0, b.fake.Accepted(43))
	})

	t.Run("AnyBearerWithoutToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{})
		r := b.request(t, http.MethodPost, "/v1/send/1", sendBody(1, 79001234567, "hi"), "Bearer whatever")
		require.Equal(t, http.StatusOK, r.status)
		r = b.request(t, http.MethodPost, "/v1/send/1", sendBody(1, 79001234567, "hi"), "")
		require.Equal(t, http.StatusUnauthorized, r.status)
	})

	t.Run("WrongMethod", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{})
		r := b.request(t, http.MethodGet, "/v1/send/1", "", "Bearer x")
		require.Equal(t, http.StatusMethodNotAllowed, r.status)
	})
}

func TestSend_Unauthorized(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		auth string
	}{
		{"Missing", ""},
		{"WrongToken", "Bearer nope"},
		{"WrongScheme", "Basic " + testToken},
		{"EmptyBearer", "Bearer "},
		{"NoScheme", testToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Faults apply only to authorized requests.
			b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{ErrorRate: 1}})
			r := b.request(t, http.MethodPost, "/v1/send/1", sendBody(1, 79001234567, "hi"), tc.auth)
			require.Equal(t, http.StatusUnauthorized, r.status)
			require.Equal(t, 1.0, r.json(t)["code"])
			st := b.fake.Stats()
			require.Equal(t, 1, st.Outcomes["unauthorized"])
			require.Equal(t, 1, st.Requests)
			require.Equal(t, 0, st.Accepted)
		})
	}

	t.Run("AuthBeforeValidation", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken})
		r := b.request(t, http.MethodPost, "/v1/send/abc", "garbage", "")
		require.Equal(t, http.StatusUnauthorized, r.status)
	})
}

func TestSend_Validation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		path    string
		body    string
		message string
	}{
		{"PathIDNotNumber", "/v1/send/abc", sendBody(1, 79001234567, "hi"), "msgId in the path"},
		{"PathIDZero", "/v1/send/0", sendBody(0, 79001234567, "hi"), "msgId in the path"},
		{"PathIDNegative", "/v1/send/-1", sendBody(-1, 79001234567, "hi"), "msgId in the path"},
		{"PathIDPlus", "/v1/send/+1", sendBody(1, 79001234567, "hi"), "msgId in the path"},
		{"PathIDOverflow", "/v1/send/99999999999999999999", sendBody(1, 79001234567, "hi"), "msgId in the path"},
		{"BodyNotJSON", "/v1/send/1", "hello", "JSON object"},
		{"BodyEmpty", "/v1/send/1", "", "JSON object"},
		{"BodyArray", "/v1/send/1", "[1,2]", "JSON object"},
		{"BodyTruncated", "/v1/send/1", `{"id": 1, "phone": 79001234567`, "not valid JSON"},
		{"BodyTrailingGarbage", "/v1/send/1", sendBody(1, 79001234567, "hi") + "x", "not valid JSON"},
		{"IDMissing", "/v1/send/1", `{"phone": 79001234567, "text": "hi"}`, "id: is required"},
		{"IDMismatch", "/v1/send/1", sendBody(2, 79001234567, "hi"), "does not match"},
		{"IDString", "/v1/send/1", `{"id": "1", "phone": 79001234567, "text": "hi"}`, "id: must be a JSON integer"},
		{"IDFraction", "/v1/send/1", `{"id": 1.0, "phone": 79001234567, "text": "hi"}`, "id: must be a JSON integer"},
		{"PhoneMissing", "/v1/send/1", `{"id": 1, "text": "hi"}`, "phone: is required"},
		{"PhoneString", "/v1/send/1", `{"id": 1, "phone": "79001234567", "text": "hi"}`, "phone: must be a JSON integer"},
		{"PhoneExponent", "/v1/send/1", `{"id": 1, "phone": 7.9001234567e10, "text": "hi"}`, "phone: must be a JSON integer"},
		{"PhoneTooShort", "/v1/send/1", sendBody(1, 7900123456, "hi"), "11 digits starting with 7"},
		{"PhoneTooLong", "/v1/send/1", sendBody(1, 790012345678, "hi"), "11 digits starting with 7"},
		{"PhoneNotStartingWith7", "/v1/send/1", sendBody(1, 89001234567, "hi"), "11 digits starting with 7"},
		{"TextMissing", "/v1/send/1", `{"id": 1, "phone": 79001234567}`, "text is required"},
		{"TextNull", "/v1/send/1", `{"id": 1, "phone": 79001234567, "text": null}`, "text must be a string"},
		{"TextNumber", "/v1/send/1", `{"id": 1, "phone": 79001234567, "text": 5}`, "text must be a string"},
		{"TextEmpty", "/v1/send/1", sendBody(1, 79001234567, ""), "text must not be empty"},
		{"TextBlank", "/v1/send/1", sendBody(1, 79001234567, "  \n"), "text must not be empty"},
		{"BodyTooLarge", "/v1/send/1", sendBody(1, 79001234567, strings.Repeat("x", 2<<20)), "error reading body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Faults apply only to valid requests.
			b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{ErrorRate: 1, Outage: true}})
			r := b.request(t, http.MethodPost, tc.path, tc.body, "Bearer "+testToken)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			m := r.json(t)
			require.Equal(t, 2.0, m["code"])
			require.Contains(t, m["message"], tc.message)
			st := b.fake.Stats()
			require.Equal(t, 1, st.Requests)
			require.Equal(t, 1, st.Outcomes["invalid"])
		})
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()

	t.Run("ServerError", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Seed: 1, Faults: fakesender.Faults{ErrorRate: 1}})
		seen := map[int]bool{}
		for id := int64(1); id <= 30; id++ {
			r := b.send(t, id)
			require.Contains(t, []int{500, 502, 503}, r.status)
			seen[r.status] = true
		}
		require.Len(t, seen, 3, "all of 500, 502, 503 appear")
		require.Equal(t, 30, b.fake.Stats().Outcomes["server_error"])
		require.Equal(t, 0, b.fake.Stats().Accepted)
	})

	t.Run("TooMany", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			retryAfter time.Duration
			want       string
		}{
			{0, "1"},
			{2500 * time.Millisecond, "3"},
			{-1, ""},
		} {
			b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{TooManyRate: 1, RetryAfter: tc.retryAfter}})
			r := b.send(t, 1)
			require.Equal(t, http.StatusTooManyRequests, r.status)
			require.Equal(t, tc.want, r.header.Get("Retry-After"), "RetryAfter %v", tc.retryAfter)
			require.Equal(t, 4.0, r.json(t)["code"])
		}
	})

	t.Run("Malformed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Seed: 1, Faults: fakesender.Faults{MalformedRate: 1}})
		var garbage, wrongCode int
		for id := int64(1); id <= 40; id++ {
			r := b.send(t, id)
			require.Equal(t, http.StatusOK, r.status)
			var m struct {
				Code int `json:"code"`
			}
			if err := json.Unmarshal(r.body, &m); err != nil {
				garbage++
				continue
			}
			require.Equal(t, 7, m.Code)
			wrongCode++
		}
		require.Positive(t, garbage)
		require.Positive(t, wrongCode)
		require.Equal(t, 0, b.fake.Stats().Accepted)
	})

	t.Run("Reject", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{RejectRate: 1}})
		r := b.send(t, 1)
		require.Equal(t, http.StatusBadRequest, r.status)
		m := r.json(t)
		require.Equal(t, 3.0, m["code"])
		require.Contains(t, m["message"], "rejected")
	})

	t.Run("HangUntilClientGivesUp", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{HangRate: 1}})
		client := *b.client
		client.Timeout = 100 * time.Millisecond
		start := time.Now()
		_, err := b.do(t, &client, http.MethodPost, "/v1/send/1", sendBody(1, 79001234567, "hi"), "Bearer "+testToken)
		require.Error(t, err)
		var netErr net.Error
		require.ErrorAs(t, err, &netErr)
		require.True(t, netErr.Timeout())
		require.Less(t, time.Since(start), waitTimeout)
		require.Equal(t, 1, b.fake.Stats().Outcomes["hang"])
	})

	t.Run("HangCapped", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{HangRate: 1, MaxHang: 50 * time.Millisecond}})
		_, err := b.do(t, b.client, http.MethodPost, "/v1/send/1", sendBody(1, 79001234567, "hi"), "Bearer "+testToken)
		require.Error(t, err)
		require.NotErrorIs(t, err, context.DeadlineExceeded)
	})

	t.Run("HangReleasedByClose", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{HangRate: 1}})
		errc := make(chan error, 1)
		go func() {
			_, err := b.do(t, b.client, http.MethodPost, "/v1/send/1", sendBody(1, 79001234567, "hi"), "Bearer "+testToken)
			errc <- err
		}()
		require.NoError(t, b.fake.WaitFor(waitCtx(t), func(f *fakesender.Fake) bool { return f.Stats().Outcomes["hang"] == 1 }))
		b.fake.Close()
		select {
		case err := <-errc:
			require.Error(t, err)
		case <-time.After(waitTimeout):
			t.Fatal("hung request not released by Close")
		}
	})

	t.Run("Latency", func(t *testing.T) {
		t.Parallel()
		const latency = 80 * time.Millisecond
		b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{LatencyMin: latency}})
		start := time.Now()
		r := b.send(t, 1)
		require.Equal(t, http.StatusOK, r.status)
		require.GreaterOrEqual(t, time.Since(start), latency)
	})

	t.Run("LatencyAbortedByClient", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{LatencyMin: time.Minute}})
		client := *b.client
		client.Timeout = 50 * time.Millisecond
		_, err := b.do(t, &client, http.MethodPost, "/v1/send/1", sendBody(1, 79001234567, "hi"), "Bearer "+testToken)
		require.Error(t, err)
		require.NoError(t, b.fake.WaitFor(waitCtx(t), func(f *fakesender.Fake) bool { return f.Stats().Outcomes["aborted"] == 1 }))
		require.Equal(t, 0, b.fake.Accepted(1))
	})

	t.Run("Rates", func(t *testing.T) {
		t.Parallel()
		// Through the handler directly: 4000 requests over HTTP would be slow for
		// nothing. Each share must land within a few standard deviations.
		fake := fakesender.New(fakesender.Config{Seed: 7, Faults: fakesender.Faults{
			ErrorRate: 0.2, TooManyRate: 0.1, MalformedRate: 0.1, RejectRate: 0.1,
		}})
		const n = 4000
		for id := int64(1); id <= n; id++ {
			rec := httptest.NewRecorder()
			fake.ServeHTTP(rec, newSendRequest(t, id))
		}
		st := fake.Stats()
		for name, rate := range map[string]float64{"server_error": 0.2, "too_many": 0.1, "malformed": 0.1, "rejected": 0.1, "ok": 0.5} {
			require.InDelta(t, rate, float64(st.Outcomes[name])/n, 0.04, name)
		}
	})
}

func newSendRequest(t testing.TB, id int64) *http.Request {
	// Built by hand rather than with sendBody: the benchmark should measure the fake.
	idStr := strconv.FormatInt(id, 10)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/v1/send/"+idStr,
		strings.NewReader(`{"id":`+idStr+`,"phone":79001234567,"text":"hello"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	return req
}

func TestSeededDeterminism(t *testing.T) {
	t.Parallel()
	faults := fakesender.Faults{
		ErrorRate: 0.2, TooManyRate: 0.2, MalformedRate: 0.2, RejectRate: 0.1,
		LatencyMin: 0, LatencyMax: 2 * time.Millisecond,
	}
	outcomes := func(t *testing.T, seed int64, ids []int64) map[int64]string {
		b := setup(t, fakesender.Config{Token: testToken, Seed: seed, Faults: faults})
		got := map[int64]string{}
		for _, id := range ids {
			for range 2 { // the same msgId twice: the second try has its own dice
				r := b.send(t, id)
				got[id] += fmt.Sprintf("%d %s|", r.status, r.body)
			}
		}
		return got
	}
	var ids, reversed []int64
	for id := int64(1); id <= 50; id++ {
		ids = append(ids, id)
		reversed = append([]int64{id}, reversed...)
	}

	first := outcomes(t, 99, ids)
	require.Equal(t, first, outcomes(t, 99, ids), "same seed, same outcomes")
	require.Equal(t, first, outcomes(t, 99, reversed), "outcomes do not depend on request order")
	require.NotEqual(t, first, outcomes(t, 100, ids), "another seed, other outcomes")
}

func TestStats(t *testing.T) {
	t.Parallel()

	t.Run("Duplicates", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken})
		for _, id := range []int64{5, 1, 1, 2, 5, 5} {
			require.Equal(t, http.StatusOK, b.send(t, id).status)
		}
		require.Equal(t, []int64{1, 5}, b.fake.Duplicates())
		require.Equal(t, 3, b.fake.Accepted(5))
		require.Equal(t, 3, b.fake.Requests(5))
		require.Equal(t, 1, b.fake.Accepted(2))
		st := b.fake.Stats()
		require.Equal(t, 6, st.Requests)
		require.Equal(t, 6, st.Accepted)
		require.Equal(t, 3, st.AcceptedMessages)
		require.Equal(t, 2, st.DuplicateCount)
		require.Equal(t, map[int64]fakesender.MessageStats{
			1: {Requests: 2, Accepted: 2}, 2: {Requests: 1, Accepted: 1}, 5: {Requests: 3, Accepted: 3},
		}, st.Messages)
	})

	t.Run("RetriesAreNotDuplicates", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{ErrorRate: 1}})
		for range 3 {
			require.GreaterOrEqual(t, b.send(t, 1).status, 500)
		}
		require.NoError(t, b.fake.SetFaults(fakesender.Faults{}))
		require.Equal(t, http.StatusOK, b.send(t, 1).status)
		require.Equal(t, 4, b.fake.Requests(1))
		require.Equal(t, 1, b.fake.Accepted(1))
		require.Empty(t, b.fake.Duplicates())
	})

	t.Run("RequestsSince", func(t *testing.T) {
		t.Parallel()
		t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		t1 := t0.Add(time.Second)
		clock := testdb.NewClock(t0)
		b := setup(t, fakesender.Config{Token: testToken, NowFunc: clock.Now})
		for id := int64(1); id <= 3; id++ {
			b.send(t, id)
		}
		clock.Set(t1)
		b.send(t, 4)
		b.send(t, 4)

		require.Equal(t, 5, b.fake.RequestsSince(t0))
		require.Equal(t, 2, b.fake.RequestsSince(t1))
		require.Equal(t, 0, b.fake.RequestsSince(t1.Add(time.Nanosecond)))

		st := b.fake.Stats()
		require.True(t, st.FirstRequestAt.Equal(t0))
		require.True(t, st.LastRequestAt.Equal(t1))

		r := b.admin(t, http.MethodGet, "/admin/stats?since="+t1.Format(time.RFC3339Nano), "")
		require.Equal(t, http.StatusOK, r.status)
		var got fakesender.Stats
		require.NoError(t, json.Unmarshal(r.body, &got))
		require.Equal(t, 2, got.RequestsSince)
		require.Equal(t, 5, got.Requests)
		require.True(t, got.Since.Equal(t1))
	})

	t.Run("WaitForAcceptedTimesOut", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken})
		b.send(t, 1)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		err := b.fake.WaitForAccepted(ctx, 2)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorContains(t, err, "have 1")
	})
}

func TestOutage(t *testing.T) {
	t.Parallel()

	t.Run("ToggledAtRunTime", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken})
		require.Equal(t, http.StatusOK, b.send(t, 1).status)

		b.fake.SetOutage(true)
		r := b.send(t, 2)
		require.Equal(t, http.StatusServiceUnavailable, r.status)
		require.Equal(t, 0, b.fake.Accepted(2))

		b.fake.SetOutage(false)
		require.Equal(t, http.StatusOK, b.send(t, 2).status)

		r = b.admin(t, http.MethodPost, "/admin/faults", `{"outage": true}`)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, true, r.json(t)["outage"])
		require.Equal(t, http.StatusServiceUnavailable, b.send(t, 3).status)

		r = b.admin(t, http.MethodPost, "/admin/faults", `{"outage": false}`)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, http.StatusOK, b.send(t, 3).status)
		require.Equal(t, 2, b.fake.Stats().Outcomes["outage"])
	})

	t.Run("Windows", func(t *testing.T) {
		t.Parallel()
		t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		clock := testdb.NewClock(t0.Add(-time.Nanosecond))
		b := setup(t, fakesender.Config{Token: testToken, NowFunc: clock.Now, Faults: fakesender.Faults{
			Outages: []fakesender.Outage{{From: t0, To: t0.Add(10 * time.Second)}, {From: t0.Add(time.Minute)}},
		}})
		require.Equal(t, http.StatusOK, b.send(t, 1).status)
		clock.Set(t0)
		require.Equal(t, http.StatusServiceUnavailable, b.send(t, 2).status)
		clock.Set(t0.Add(10 * time.Second))
		require.Equal(t, http.StatusOK, b.send(t, 3).status)
		clock.Set(t0.Add(time.Hour))
		require.Equal(t, http.StatusServiceUnavailable, b.send(t, 4).status)
	})

	t.Run("Drop", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Faults: fakesender.Faults{Outage: true, OutageDrop: true}})
		_, err := b.do(t, b.client, http.MethodPost, "/v1/send/1", sendBody(1, 79001234567, "hi"), "Bearer "+testToken)
		require.Error(t, err)
		require.NotErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 1, b.fake.Stats().Outcomes["outage_drop"])
	})
}

func TestAdmin(t *testing.T) {
	t.Parallel()

	t.Run("Stats", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken})
		b.send(t, 7)
		b.send(t, 7)
		r := b.admin(t, http.MethodGet, "/admin/stats", "")
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		m := r.json(t)
		require.Equal(t, 2.0, m["requests"])
		require.Equal(t, 2.0, m["accepted"])
		require.Equal(t, 2.0, m["requests_since"])
		require.Equal(t, 1.0, m["duplicate_count"])
		require.Equal(t, []any{7.0}, m["duplicates"])
		require.Equal(t, map[string]any{"7": map[string]any{"requests": 2.0, "accepted": 2.0}}, m["messages"])
		require.Contains(t, m, "first_request_at")
		require.Contains(t, m, "last_request_at")
		require.NotContains(t, m, "since")

		r = b.admin(t, http.MethodGet, "/admin/stats?messages=false", "")
		require.NotContains(t, r.json(t), "messages")
	})

	t.Run("StatsBadParams", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{})
		for _, q := range []string{"since=yesterday", "messages=maybe"} {
			r := b.admin(t, http.MethodGet, "/admin/stats?"+q, "")
			require.Equal(t, http.StatusBadRequest, r.status, q)
			require.Contains(t, r.json(t), "error")
		}
	})

	t.Run("Reset", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken})
		b.send(t, 1)
		b.send(t, 1)
		r := b.admin(t, http.MethodPost, "/admin/reset", "")
		require.Equal(t, http.StatusNoContent, r.status)
		st := b.fake.Stats()
		require.Zero(t, st.Requests)
		require.Zero(t, st.Accepted)
		require.Empty(t, st.Duplicates)
		require.Empty(t, st.Messages)
		require.True(t, st.FirstRequestAt.IsZero())
		require.Equal(t, 0, b.fake.Requests(1))
	})

	t.Run("Faults", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Token: testToken, Seed: 3, Faults: fakesender.Faults{ErrorRate: 0.5}})
		r := b.admin(t, http.MethodGet, "/admin/faults", "")
		require.Equal(t, http.StatusOK, r.status)
		m := r.json(t)
		require.Equal(t, 0.5, m["error_rate"])
		require.Equal(t, "1m0s", m["max_hang"])
		require.Equal(t, "1s", m["retry_after"])
		require.Equal(t, 3.0, m["seed"])
		require.Equal(t, []any{}, m["outages"])

		r = b.admin(t, http.MethodPost, "/admin/faults",
			`{"error_rate": 0, "too_many_rate": 1, "retry_after": "3s", "latency_min": "1ms", "outages": [{"from": "2030-01-01T00:00:00Z"}]}`)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		got := b.fake.Faults()
		require.Equal(t, 0.0, got.ErrorRate)
		require.Equal(t, 1.0, got.TooManyRate)
		require.Equal(t, 3*time.Second, got.RetryAfter)
		require.Equal(t, time.Millisecond, got.LatencyMin)
		require.Equal(t, []fakesender.Outage{{From: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}, got.Outages)
		r = b.send(t, 1)
		require.Equal(t, http.StatusTooManyRequests, r.status)
		require.Equal(t, "3", r.header.Get("Retry-After"))
	})

	t.Run("FaultsRejected", func(t *testing.T) {
		t.Parallel()
		b := setup(t, fakesender.Config{Faults: fakesender.Faults{ErrorRate: 0.5}})
		for _, tc := range []struct{ body, message string }{
			{`{"error_rate": 1.5}`, "ErrorRate must be between 0 and 1"},
			{`{"hang_rate": 0.6}`, "must sum to at most 1"},
			{`{"latency_min": 5}`, "duration"},
			{`{"latency_min": "soon"}`, "duration"},
			{`{"latency_min": "-1s"}`, "LatencyMin must not be negative"},
			{`{"latency_min": "2s", "latency_max": "1s"}`, "LatencyMax"},
			{`{"error-rate": 0.1}`, "unknown field"},
			{`not json`, "error reading faults"},
		} {
			r := b.admin(t, http.MethodPost, "/admin/faults", tc.body)
			require.Equal(t, http.StatusBadRequest, r.status, tc.body)
			require.Contains(t, r.json(t)["error"], tc.message, tc.body)
		}
		require.Equal(t, 0.5, b.fake.Faults().ErrorRate, "rejected updates change nothing")
	})
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		faults  fakesender.Faults
		message string
	}{
		{"Zero", fakesender.Faults{}, ""},
		{"AllRatesSumToOne", fakesender.Faults{ErrorRate: 0.1, HangRate: 0.2, TooManyRate: 0.3, MalformedRate: 0.3, RejectRate: 0.1}, ""},
		{"NegativeRate", fakesender.Faults{RejectRate: -0.1}, "RejectRate"},
		{"SumAboveOne", fakesender.Faults{ErrorRate: 0.6, RejectRate: 0.6}, "sum to at most 1"},
		{"NegativeMaxHang", fakesender.Faults{MaxHang: -1}, "MaxHang"},
		{"NegativeRetryAfterAllowed", fakesender.Faults{RetryAfter: -1}, ""},
		{"OutageBackwards", fakesender.Faults{Outages: []fakesender.Outage{{From: time.Unix(10, 0), To: time.Unix(5, 0)}}}, "outage 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := fakesender.Config{Faults: tc.faults}.Validate()
			if tc.message == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.message)
		})
	}
}

func TestConcurrency(t *testing.T) {
	t.Parallel()
	const (
		ids     = 500
		perID   = 2
		total   = ids * perID
		maxConn = 64 // keeps file descriptors bounded; requests queue for a connection
	)
	b := setup(t, fakesender.Config{Token: testToken})
	b.client.Transport.(*http.Transport).MaxConnsPerHost = maxConn

	waited := make(chan error, 1)
	go func() { waited <- b.fake.WaitForAccepted(waitCtx(t), ids) }()

	var (
		wg      sync.WaitGroup
		statusc = make(chan int, total)
	)
	for i := range total {
		id := int64(i%ids + 1)
		wg.Go(func() {
			r, err := b.do(t, b.client, http.MethodPost, "/v1/send/"+strconv.FormatInt(id, 10),
				sendBody(id, 79001234567, "hello"), "Bearer "+testToken)
			if err != nil {
				statusc <- -1
				return
			}
			statusc <- r.status
		})
	}
	wg.Wait()
	close(statusc)
	for status := range statusc {
		require.Equal(t, http.StatusOK, status)
	}
	require.NoError(t, <-waited)

	st := b.fake.Stats()
	require.Equal(t, total, st.Requests)
	require.Equal(t, total, st.Accepted)
	require.Equal(t, ids, st.AcceptedMessages)
	require.Equal(t, ids, st.DuplicateCount)
	require.Len(t, st.Messages, ids)
	for id, m := range st.Messages {
		require.Equal(t, fakesender.MessageStats{Requests: perID, Accepted: perID}, m, "msgId %d", id)
	}
	require.Equal(t, total, b.fake.RequestsSince(time.Time{}))
}

func TestStart(t *testing.T) {
	t.Parallel()

	t.Run("ServesAndStops", func(t *testing.T) {
		t.Parallel()
		fake, baseURL, stop, err := fakesender.Start(fakesender.Config{Token: testToken})
		require.NoError(t, err)
		t.Cleanup(stop)
		require.True(t, strings.HasPrefix(baseURL, "http://127.0.0.1:"), baseURL)

		transport := &http.Transport{}
		t.Cleanup(transport.CloseIdleConnections)
		resp := post(t, &http.Client{Transport: transport}, baseURL+"/v1/send/9", sendBody(9, 79001234567, "hi"))
		require.Equal(t, http.StatusOK, resp)
		require.Equal(t, 1, fake.Accepted(9))

		stop()
		stop() // idempotent
	})

	t.Run("StopReleasesHangs", func(t *testing.T) {
		t.Parallel()
		fake, baseURL, stop, err := fakesender.Start(fakesender.Config{Faults: fakesender.Faults{HangRate: 1}})
		require.NoError(t, err)
		transport := &http.Transport{}
		t.Cleanup(transport.CloseIdleConnections)
		done := make(chan struct{})
		go func() {
			defer close(done)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, baseURL+"/v1/send/1", strings.NewReader(sendBody(1, 79001234567, "hi")))
			req.Header.Set("Authorization", "Bearer x")
			if resp, err := transport.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
		}()
		require.NoError(t, fake.WaitForRequests(waitCtx(t), 1))
		stop()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Fatal("hung request not released by stop")
		}
	})

	t.Run("InvalidConfig", func(t *testing.T) {
		t.Parallel()
		_, _, _, err := fakesender.Start(fakesender.Config{Faults: fakesender.Faults{ErrorRate: 2}})
		require.ErrorContains(t, err, "ErrorRate")
	})
}

// post sends a valid send request with the test token and returns the status.
func post(t *testing.T, client *http.Client, url, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(waitCtx(t), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestMainCommand(t *testing.T) {
	t.Parallel()

	t.Run("RunsUntilCancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		stdoutR, stdoutW := io.Pipe()
		var stderr lockedbuf.Buffer
		errc := make(chan error, 1)
		go func() {
			errc <- fakesender.Main(ctx, []string{
				"-addr", "127.0.0.1:0", "-token", testToken, "-seed", "5",
				"-outage", "+1h/+2h", "-outage", "2030-01-01T00:00:00Z/", "-429-rate", "0", "-retry-after", "2s",
			}, stdoutW, &stderr)
			_ = stdoutW.Close()
		}()

		line, err := bufio.NewReader(stdoutR).ReadString('\n')
		require.NoError(t, err, "stderr: %s", stderr.String())
		baseURL, ok := strings.CutPrefix(strings.TrimSpace(line), "fake sender listening on ")
		require.True(t, ok, line)

		transport := &http.Transport{}
		t.Cleanup(transport.CloseIdleConnections)
		client := &http.Client{Transport: transport}
		require.Equal(t, http.StatusOK, post(t, client, baseURL+"/v1/send/1", sendBody(1, 79001234567, "hi")))

		req, err := http.NewRequestWithContext(waitCtx(t), http.MethodGet, baseURL+"/admin/faults", nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		var faults fakesender.FaultsJSON
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&faults))
		resp.Body.Close()
		require.Len(t, *faults.Outages, 2)
		require.Equal(t, int64(5), *faults.Seed)
		require.Equal(t, fakesender.Duration(2*time.Second), *faults.RetryAfter)

		cancel()
		select {
		case err := <-errc:
			require.NoError(t, err)
		case <-time.After(waitTimeout):
			t.Fatal("Main did not return after cancel")
		}
		_, _ = io.Copy(io.Discard, stdoutR)
		require.NotContains(t, stderr.String(), testToken, "tokens never appear in logs")
	})

	t.Run("BadFlags", func(t *testing.T) {
		t.Parallel()
		for _, args := range [][]string{
			{"-outage", "+5s"},
			{"-outage", "+5s/+1s"},
			{"-outage", "yesterday/"},
			{"-error-rate", "2"},
			{"-nope"},
			{"extra"},
		} {
			var stderr lockedbuf.Buffer
			err := fakesender.Main(t.Context(), args, io.Discard, &stderr)
			require.Error(t, err, "%q", args)
		}
	})

	t.Run("Help", func(t *testing.T) {
		t.Parallel()
		var stderr lockedbuf.Buffer
		require.NoError(t, fakesender.Main(t.Context(), []string{"-h"}, io.Discard, &stderr))
		for _, flagName := range []string{"-addr", "-token", "-latency-min", "-latency-max", "-error-rate", "-hang-rate",
			"-malformed-rate", "-429-rate", "-retry-after", "-reject-rate", "-outage", "-seed"} {
			require.Contains(t, stderr.String(), flagName+" ")
		}
	})

	t.Run("AddressInUse", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		err = fakesender.Main(t.Context(), []string{"-addr", ln.Addr().String()}, io.Discard, io.Discard)
		require.ErrorContains(t, err, "error listening")
	})
}

func BenchmarkServeHTTP(b *testing.B) {
	fake := fakesender.New(fakesender.Config{Token: testToken})
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			fake.ServeHTTP(rec, newSendRequest(b, next.Add(1)))
			if rec.Code != http.StatusOK {
				b.Errorf("status %d: %s", rec.Code, rec.Body)
				return
			}
		}
	})
	if got := fake.Stats().Accepted; got != int(next.Load()) {
		b.Fatalf("accepted %d of %d", got, next.Load())
	}
}

func ExampleFake() {
	fake := fakesender.New(fakesender.Config{Token: "t0ken"})
	srv := httptest.NewServer(fake)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/send/1",
		strings.NewReader(`{"id": 1, "phone": 79001234567, "text": "hello"}`))
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	fmt.Print(resp.StatusCode, " ", string(body))
	fmt.Println("accepted:", fake.Accepted(1), "duplicates:", fake.Duplicates())
	// Output:
	// 200 {"code":0,"message":"OK"}
	// accepted: 1 duplicates: []
}
