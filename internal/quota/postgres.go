package quota

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// claimSQL grants up to $1 tokens of the current second without letting the
// second's total pass $2, nor the part of it released so far (Slices, the
// same sums as released), in one statement: the row of the second is created,
// or locked and updated, atomically, so concurrent claims from any number of
// instances never grant more than the limit. When nothing is left the
// update's WHERE leaves the row alone and nothing is granted. The second is
// read from Postgres's clock (clock_timestamp(), not the transaction's
// start), so instances on hosts whose clocks disagree still agree on it; $3,
// when not null, replaces it (tests). $4 is Slices. The clock's reading is returned with
// the grant so the claimer knows how much of the second is left.
const claimSQL = `
WITH now AS MATERIALIZED (
	SELECT t, floor(e)::bigint AS second,
		(($2::bigint * (floor((e - floor(e)) * $4::bigint)::bigint + 1) + $4::bigint - 1) / $4::bigint) AS released
	FROM (SELECT t, extract(epoch FROM t) AS e
		FROM (SELECT COALESCE($3::timestamptz, clock_timestamp()) AS t) c) e
), claimed AS (
	INSERT INTO quota_grants AS g (second, used, last_grant)
	SELECT second, LEAST($1::bigint, released), LEAST($1::bigint, released)
	FROM now
	ON CONFLICT (second) DO UPDATE
		SET used = LEAST(g.used + $1::bigint, (SELECT released FROM now)),
			last_grant = LEAST(g.used + $1::bigint, (SELECT released FROM now)) - g.used
		WHERE g.used < (SELECT released FROM now)
	RETURNING last_grant
)
SELECT now.t, COALESCE((SELECT last_grant FROM claimed), 0) FROM now`

// postgresStore shares the per-second counts of every instance through the
// quota_grants table. It claims on a connection of its own, taken from the
// pool at the first claim and kept: every request of the instance waits on
// the claims, and they must not queue behind a busy pool (nor wait for a
// connection held by an admission that waits for them). Its caller is the
// Limiter's one claimer at a time, so the connection is never shared.
type postgresStore struct {
	db   *sql.DB
	conn *sql.Conn // nil until the first claim, and after an error
	// clock, when set, replaces Postgres's clock (tests).
	clock func() time.Time
}

// connection returns the store's connection, taking one from the pool if it
// has none.
func (s *postgresStore) connection(ctx context.Context) (*sql.Conn, error) {
	if s.conn == nil {
		c, err := s.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		s.conn = c
	}
	return s.conn, nil
}

func (s *postgresStore) close() { s.drop() }

// drop gives the connection back after an error or at close: the next claim
// takes a fresh one (database/sql discards a broken one).
func (s *postgresStore) drop() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

func (s *postgresStore) claim(ctx context.Context, n, limit int) (grant, error) {
	if n < 1 || limit < 1 {
		return grant{}, errors.New("claim of no tokens")
	}
	var at any
	if s.clock != nil {
		at = s.clock()
	}
	conn, err := s.connection(ctx)
	if err != nil {
		return grant{}, err
	}
	var g grant
	if err := conn.QueryRowContext(ctx, claimSQL, n, limit, at, Slices).Scan(&g.at, &g.n); err != nil {
		s.drop()
		return grant{}, err
	}
	return g, nil
}

func (s *postgresStore) prune(ctx context.Context, before int64) error {
	conn, err := s.connection(ctx)
	if err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `DELETE FROM quota_grants WHERE second < $1`, before); err != nil {
		s.drop()
		return err
	}
	return nil
}
