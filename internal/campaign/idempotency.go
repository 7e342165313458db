package campaign

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"entgo.io/ent/dialect"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/idempotencykey"
	"github.com/notifyhq/notify/internal/database"
)

// Idempotency keys (docs/product.md, "Idempotency keys"; docs/design.md,
// "Idempotency keys"): a caller sends a key with a create; the first request
// with it claims it by inserting its row (unique per caller and key), runs,
// and stores its response; a repeat with the same request within
// IdempotencyTTL gets that response back and creates nothing. The
// transports (graph, internal/rest) wrap their creates with Claim, Complete
// and Release; the domain knows nothing of HTTP or GraphQL.

// IdempotencyTTL is how long a key is remembered.
const IdempotencyTTL = 24 * time.Hour

// MaxIdempotencyKey is the longest key taken, in bytes.
const MaxIdempotencyKey = 255

// IdempotencyField is the name of the key in errors ("idempotencyKey"; the
// REST layer names its header instead).
const IdempotencyField = "idempotencyKey"

// IdempotencyError refuses a request whose key is taken: by another request
// (Mismatch), or by the same one still running (InProgress). It is an
// ErrConflict.
type IdempotencyError struct {
	InProgress bool
}

func (e *IdempotencyError) Error() string {
	if e.InProgress {
		return "conflict: a request with this idempotency key is still in progress"
	}
	return "conflict: this idempotency key was used with a different request"
}

// Unwrap makes an IdempotencyError an ErrConflict.
func (e *IdempotencyError) Unwrap() error { return ErrConflict }

// Field names the input the error is about.
func (e *IdempotencyError) Field() string { return IdempotencyField }

// claimKey inserts a key's row unless the caller has it already, and
// returns its id. Args: principal, key, request hash, now.
const claimKey = `INSERT INTO idempotency_keys (principal, key, request_hash, state, response_status, created_at)
VALUES ($1, $2, $3, 'in_progress', 0, $4)
ON CONFLICT (principal, key) DO NOTHING
RETURNING id`

// rebindParams spells $N parameters as SQLite's ?N.
func rebindParams(dialectName, query string) string {
	if dialectName == dialect.SQLite {
		return dollarParam.ReplaceAllString(query, "?$1")
	}
	return query
}

var dollarParam = regexp.MustCompile(`\$(\d+)`)

// StoredResponse is the first response to a key: an HTTP status and body
// for REST, 200 and the result's JSON for GraphQL.
type StoredResponse struct {
	Status int
	Body   []byte
}

// Claim is a key claimed for one request. The caller runs the request and
// then calls Complete with its response, or Release when it failed (a
// failed request does not use its key up).
type Claim struct {
	s  *Service
	id int
}

// RequestHash is the hash Claim compares: what the request asks, in the
// transport's terms (the route or operation, then the body).
func RequestHash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ClaimIdempotencyKey claims key for the caller (the audit log's actor) and
// the request whose hash is requestHash. It returns either a Claim, when
// this request is the first, or the stored response of the first, when it
// is a repeat that completed. Returns a *ValidationError naming
// idempotencyKey for an unusable key, and an *IdempotencyError when the key
// is taken by another request or by this one still running. A key older
// than IdempotencyTTL is claimed afresh.
func (s *Service) ClaimIdempotencyKey(ctx context.Context, key, requestHash string) (*Claim, *StoredResponse, error) {
	if err := checkIdempotencyKey(key); err != nil {
		return nil, nil, err
	}
	principal, _ := s.actorOf(ctx)
	now := dbTime(s.now())
	var (
		claim  *Claim
		stored *StoredResponse
	)
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		// A stale row stands in the way of a fresh claim: gone first.
		_, err := tx.Ent.IdempotencyKey.Delete().Where(
			idempotencykey.Principal(principal), idempotencykey.Key(key),
			idempotencykey.CreatedAtLT(now.Add(-IdempotencyTTL)),
		).Exec(ctx)
		if err != nil {
			return fmt.Errorf("error expiring idempotency key: %w", err)
		}
		// ON CONFLICT DO NOTHING: the unique (principal, key) decides who
		// claims it, without an error that would end a Postgres
		// transaction; a concurrent claim waits for the first to commit.
		var id int
		err = tx.QueryRowContext(ctx, rebindParams(s.db.Dialect, claimKey), principal, key, requestHash, now).Scan(&id)
		if err == nil {
			claim = &Claim{s: s, id: id}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("error claiming idempotency key: %w", err)
		}
		cur, err := tx.Ent.IdempotencyKey.Query().Where(idempotencykey.Principal(principal), idempotencykey.Key(key)).Only(ctx)
		if err != nil {
			return fmt.Errorf("error loading idempotency key: %w", err)
		}
		switch {
		case cur.RequestHash != requestHash:
			return &IdempotencyError{}
		case cur.State == idempotencykey.StateInProgress:
			return &IdempotencyError{InProgress: true}
		}
		stored = &StoredResponse{Status: cur.ResponseStatus}
		if cur.ResponseBody != nil {
			stored.Body = *cur.ResponseBody
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return claim, stored, nil
}

// checkIdempotencyKey validates a key: a *ValidationError naming
// idempotencyKey, or nil.
func checkIdempotencyKey(key string) error {
	v := &ValidationError{}
	switch {
	case key == "":
		v.add(IdempotencyField, "must not be empty")
	case len(key) > MaxIdempotencyKey:
		v.add(IdempotencyField, "must be at most %d bytes, got %d", MaxIdempotencyKey, len(key))
	case !ValidFilterText(key):
		v.add(IdempotencyField, "must be valid UTF-8 text without NUL characters")
	}
	return v.err()
}

// Complete stores the response of the claimed request, for its repeats.
func (c *Claim) Complete(ctx context.Context, resp StoredResponse) error {
	err := c.s.db.Ent.IdempotencyKey.UpdateOneID(c.id).
		SetState(idempotencykey.StateDone).
		SetResponseStatus(resp.Status).
		SetResponseBody(resp.Body).
		Exec(context.WithoutCancel(ctx))
	if err != nil {
		return fmt.Errorf("error storing the response of idempotency key %d: %w", c.id, err)
	}
	return nil
}

// Release frees the key of a request that failed: it may be used again.
func (c *Claim) Release(ctx context.Context) error {
	err := c.s.db.Ent.IdempotencyKey.DeleteOneID(c.id).Exec(context.WithoutCancel(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return fmt.Errorf("error releasing idempotency key %d: %w", c.id, err)
	}
	return nil
}
