package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/ent/customer"
	"github.com/notifyhq/notify/ent/mailing"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/testdb"
)

// keyedPOST posts body as JSON to path with an Idempotency-Key (none when
// key is "") and a token (none when ""), and returns the response.
func keyedPOST(t *testing.T, b *testBundle, path, key, token string, body any) (*http.Response, []byte) {
	t.Helper()
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	return sendRaw(t, b, http.MethodPost, path, "application/json", key, token, string(raw))
}

// sendRaw sends body of contentType (none when "") with an Idempotency-Key
// and a token (none when ""), and returns the response and its body.
func sendRaw(t *testing.T, b *testBundle, method, path, contentType, key, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.server.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for name, value := range map[string]string{"Content-Type": contentType, "Idempotency-Key": key, "Authorization": "Bearer " + token} {
		if value != "" && value != "Bearer " {
			req.Header.Set(name, value)
		}
	}
	return opsDo(t, req)
}

func (b *testBundle) clientsWithPhone(t *testing.T, phone string) int {
	t.Helper()
	n, err := b.app.db.Ent.Customer.Query().Where(customer.Phone(phone)).Count(context.Background())
	require.NoError(t, err)
	return n
}

// TestIdempotencyTenConcurrentRequestsCreateOne: ten identical creates with
// one key at once, over REST and over GraphQL, create exactly one client
// each; every answer is the first one replayed or a 409/CONFLICT saying the
// first is still in progress.
func TestIdempotencyTenConcurrentRequestsCreateOne(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			statuses = map[int]int{}
			bodies   = map[string]int{}
			codes    = map[string]int{}
			ids      = map[string]int{}
		)
		for range 10 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				resp, body := keyedPOST(t, b, "/clients/", "rest-key", "", map[string]any{"phone": "79001234567", "tag": "a"})
				mu.Lock()
				defer mu.Unlock()
				statuses[resp.StatusCode]++
				if resp.StatusCode == http.StatusCreated {
					bodies[string(body)]++
				}
			}()
			go func() {
				defer wg.Done()
				r := b.gql(t, `mutation { createClient(input: {phone: "79001234568"}, idempotencyKey: "gql-key") { id phone } }`, nil)
				mu.Lock()
				defer mu.Unlock()
				if len(r.Errors) > 0 {
					e := r.Errors[0]
					codes[fmt.Sprintf("%v %v %v", e.Extensions["code"], e.Extensions["field"], e.Message)]++
					return
				}
				ids[string(r.Data)]++
			}()
		}
		wg.Wait()
		require.Equal(t, 1, b.clientsWithPhone(t, "79001234567"), "REST: one client")
		require.Equal(t, 1, b.clientsWithPhone(t, "79001234568"), "GraphQL: one client")

		require.Equal(t, 10, statuses[http.StatusCreated]+statuses[http.StatusConflict], "%v", statuses)
		require.GreaterOrEqual(t, statuses[http.StatusCreated], 1)
		require.Len(t, bodies, 1, "every 201 is the first answer")
		require.Len(t, ids, 1, "every result is the first one")
		conflicts := 0
		for k, n := range codes {
			require.Equal(t, "CONFLICT idempotencyKey conflict: a request with this idempotency key is still in progress", k)
			conflicts += n
		}
		require.Equal(t, 10, sumValues(ids)+conflicts, "%v %v", ids, codes)
	})
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestIdempotencyReplay: a repeat with the same key and body replays the
// first answer and creates nothing; the key with another body is refused
// (REST 422, GraphQL CONFLICT on idempotencyKey); a request that failed
// frees its key; a key in progress is a 409; keys are per caller.
func TestIdempotencyReplay(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		ctx := context.Background()

		t.Run("REST", func(t *testing.T) {
			body := map[string]any{"phone": "79001110000", "tag": "x"}
			first, firstBody := keyedPOST(t, b, "/clients/", "k1", "", body)
			require.Equal(t, http.StatusCreated, first.StatusCode, "%s", firstBody)
			again, againBody := keyedPOST(t, b, "/clients", "k1", "", body)
			require.Equal(t, http.StatusCreated, again.StatusCode)
			require.Equal(t, string(firstBody), string(againBody))
			require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
			require.Empty(t, first.Header.Get("Idempotent-Replayed"))
			require.Equal(t, 1, b.clientsWithPhone(t, "79001110000"))

			other, otherBody := keyedPOST(t, b, "/clients/", "k1", "", map[string]any{"phone": "79001110001"})
			require.Equal(t, http.StatusUnprocessableEntity, other.StatusCode, "%s", otherBody)
			require.JSONEq(t, `{"detail": "This idempotency key was used with a different request."}`, string(otherBody))
			require.Zero(t, b.clientsWithPhone(t, "79001110001"))

			// A failed request frees its key.
			bad, badBody := keyedPOST(t, b, "/clients/", "k2", "", map[string]any{"phone": "1"})
			require.Equal(t, http.StatusBadRequest, bad.StatusCode, "%s", badBody)
			good, goodBody := keyedPOST(t, b, "/clients/", "k2", "", map[string]any{"phone": "79001110002"})
			require.Equal(t, http.StatusCreated, good.StatusCode, "%s", goodBody)

			// A key whose first request still runs.
			raw, err := json.Marshal(map[string]any{"phone": "79001110003"})
			require.NoError(t, err)
			claim, stored, err := b.app.work.ClaimIdempotencyKey(ctx, "k3", campaign.RequestHash([]byte("POST"), []byte("/clients"), raw))
			require.NoError(t, err)
			require.Nil(t, stored)
			busy, busyBody := keyedPOST(t, b, "/clients/", "k3", "", map[string]any{"phone": "79001110003"})
			require.Equal(t, http.StatusConflict, busy.StatusCode, "%s", busyBody)
			require.JSONEq(t, `{"detail": "A request with this idempotency key is still in progress."}`, string(busyBody))
			require.NoError(t, claim.Release(ctx))

			long, longBody := keyedPOST(t, b, "/clients/", string(bytes.Repeat([]byte("k"), 256)), "", map[string]any{"phone": "79001110004"})
			require.Equal(t, http.StatusBadRequest, long.StatusCode)
			require.JSONEq(t, `{"idempotency_key": ["Must be at most 255 bytes, got 256."]}`, string(longBody))
		})

		t.Run("GraphQL", func(t *testing.T) {
			start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			end := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
			vars := map[string]any{"in": map[string]any{"startAt": start, "endAt": end, "text": "hi"}}
			q := `mutation($in: CreateMailingInput!, $k: String) { createMailing(input: $in, idempotencyKey: $k) { id text status } }`
			vars["k"] = "m1"
			first := b.gql(t, q, vars)
			require.Empty(t, first.Errors)
			again := b.gql(t, q, vars)
			require.Empty(t, again.Errors)
			require.JSONEq(t, string(first.Data), string(again.Data))
			n, err := b.app.db.Ent.Mailing.Query().Where(mailing.Text("hi")).Count(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "one mailing")

			vars["in"].(map[string]any)["text"] = "other"
			r := b.gql(t, q, vars)
			requireCode(t, r, "CONFLICT")
			require.Equal(t, "idempotencyKey", r.Errors[0].Extensions["field"])

			// The same key on another mutation is another request too.
			r = b.gql(t, `mutation { createClient(input: {phone: "79001110010"}, idempotencyKey: "m1") { id } }`, nil)
			requireCode(t, r, "CONFLICT")

			// Without a key nothing is remembered; createClients takes one too.
			q = `mutation($k: String) { createClients(input: [{phone: "79001110011"}, {phone: "79001110012"}], idempotencyKey: $k) { id phone } }`
			first = b.gql(t, q, map[string]any{"k": "bulk"})
			require.Empty(t, first.Errors)
			again = b.gql(t, q, map[string]any{"k": "bulk"})
			require.JSONEq(t, string(first.Data), string(again.Data))
			require.Equal(t, 1, b.clientsWithPhone(t, "79001110012"))

			r = b.gql(t, `mutation { createClient(input: {phone: "79001110013"}, idempotencyKey: "") { id } }`, nil)
			requireBadInput(t, r, "idempotencyKey")
		})
	})
}

// TestIdempotencyKeysPerCaller: two callers using one key do not meet.
func TestIdempotencyKeysPerCaller(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t), setupOpts{env: map[string]string{"API_TOKENS": roleTokensEnv()}})
	r1, body1 := keyedPOST(t, b, "/clients/", "same", roleTokens[auth.Operator], map[string]any{"phone": "79001112000"})
	require.Equal(t, http.StatusCreated, r1.StatusCode, "%s", body1)
	r2, body2 := keyedPOST(t, b, "/clients/", "same", roleTokens[auth.Admin], map[string]any{"phone": "79001112001"})
	require.Equal(t, http.StatusCreated, r2.StatusCode, "%s", body2)
	require.Empty(t, r2.Header.Get("Idempotent-Replayed"))
}

// TestIdempotencyRetention: keys older than 24 hours are pruned, and such a
// key is claimed afresh even before the pruning.
func TestIdempotencyRetention(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		clock := testdb.NewClock(time.Now().UTC())
		b := setup(t, dbURL, setupOpts{options: appOptions{now: clock.Now}})
		ctx := context.Background()
		resp, _ := keyedPOST(t, b, "/clients/", "old", "", map[string]any{"phone": "79001113000"})
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		clock.Set(clock.Now().Add(campaign.IdempotencyTTL - time.Minute))
		resp, _ = keyedPOST(t, b, "/clients/", "old", "", map[string]any{"phone": "79001113001"})
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "still remembered")

		clock.Set(clock.Now().Add(2 * time.Minute))
		resp, _ = keyedPOST(t, b, "/clients/", "old", "", map[string]any{"phone": "79001113001"})
		require.Equal(t, http.StatusCreated, resp.StatusCode, "forgotten after 24 h")
		resp, _ = keyedPOST(t, b, "/clients/", "older", "", map[string]any{"phone": "79001113002"})
		require.Equal(t, http.StatusCreated, resp.StatusCode)

		clock.Set(clock.Now().Add(campaign.IdempotencyTTL + time.Minute))
		pruned, err := b.app.work.Prune(ctx, 0)
		require.NoError(t, err)
		require.Equal(t, campaign.Pruned{IdempotencyKeys: 2}, pruned)
		left, err := b.app.db.Ent.IdempotencyKey.Query().Count(ctx)
		require.NoError(t, err)
		require.Zero(t, left)
	})
}

// TestIdempotencyImports: a CSV import with a key runs once over REST and
// over GraphQL (the file counts by its content, the options too); another
// file or other options with the key are refused; an import refused for its
// lines frees its key for the corrected file.
func TestIdempotencyImports(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, dbURL string) {
		b := setup(t, dbURL, setupOpts{})
		file := csvOf(0, 20, "keyed")

		resp, first := sendRaw(t, b, http.MethodPost, "/clients/import/", "text/csv", "import-1", "", file)
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", first)
		resp, again := sendRaw(t, b, http.MethodPost, "/clients/import/", "text/csv", "import-1", "", file)
		require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", again)
		require.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
		require.JSONEq(t, string(first), string(again))
		require.Len(t, clientRows(t, b), 20)
		resp, body := sendRaw(t, b, http.MethodPost, "/clients/import/", "text/csv", "import-1", "", csvOf(100, 20, "keyed"))
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "another file: %s", body)
		resp, body = sendRaw(t, b, http.MethodPost, "/clients/import/?mode=upsert", "text/csv", "import-1", "", file)
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "other options: %s", body)

		bad := "phone\n79000000001\nnot-a-phone\n"
		resp, body = sendRaw(t, b, http.MethodPost, "/clients/import/", "text/csv", "import-2", "", bad)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", body)
		resp, body = sendRaw(t, b, http.MethodPost, "/clients/import/", "text/csv", "import-2", "", "phone\n79000000001\n")
		require.Equal(t, http.StatusCreated, resp.StatusCode, "the corrected file with the refused one's key: %s", body)
		require.Len(t, clientRows(t, b), 21)

		var out struct{ ImportClients gqlImport }
		r := uploadGQL(t, b, "", csvOf(200, 10, "gql"), `, idempotencyKey: "import-3"`)
		require.Empty(t, r.Errors)
		require.NoError(t, json.Unmarshal(r.Data, &out))
		firstID := out.ImportClients.ID
		require.Equal(t, "FINISHED", out.ImportClients.State)
		r = uploadGQL(t, b, "", csvOf(200, 10, "gql"), `, idempotencyKey: "import-3"`)
		require.Empty(t, r.Errors)
		require.NoError(t, json.Unmarshal(r.Data, &out))
		require.Equal(t, firstID, out.ImportClients.ID, "the repeat answers the first import")
		require.Len(t, clientRows(t, b), 31)
		r = uploadGQL(t, b, "", csvOf(300, 10, "gql"), `, idempotencyKey: "import-3"`)
		require.Len(t, r.Errors, 1)
		require.Equal(t, "CONFLICT", r.Errors[0].Extensions["code"])
		require.Len(t, clientRows(t, b), 31)
	})
}
