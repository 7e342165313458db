// Opt-outs against messages a batch has already loaded (docs/product.md,
// "Opt-outs"): an opt-out cancels its phone's unsent messages in its own
// transaction, under the sending lock of each mailing concerned, but a batch
// may have loaded them before it committed. Each loaded message carries the
// highest opt-out id seen before the load; an admission that sees a higher
// one (under the lock, so after the opt-out committed) re-reads the status
// of what it is about to send and skips what is no longer unsent.

package delivery

import (
	"context"
	"encoding/json"
	"fmt"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"github.com/notifyhq/notify/internal/database"
)

// admitRequests reads, for a batch's requests, what admitMailing (sql.go)
// reads for a selection chunk and more: the mailing's end and text, and the
// highest opt-out id (an admission seeing one higher than its messages'
// mark re-reads them). Args: mailing id.
const admitRequests = `SELECT status, end_at, text, (SELECT COALESCE(MAX(id), 0) FROM opt_outs) FROM mailings WHERE id = $1`

// optOutMark reads the highest opt-out id (0 without any): opt-out ids only
// grow (an identity column on Postgres, AUTOINCREMENT on SQLite).
const optOutMark = `SELECT COALESCE(MAX(id), 0) FROM opt_outs`

// settledAmong lists which of the messages $1 are no longer unsent.
const (
	settledAmongPostgres = `SELECT id FROM messages WHERE id = ANY($1::bigint[]) AND status NOT IN ('queued', 'retrying')`
	settledAmongSQLite   = `SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?1)) AND status NOT IN ('queued', 'retrying')`
)

// loadOptOutMark returns the highest opt-out id now, to be taken before
// messages are loaded.
func (e *Engine) loadOptOutMark(ctx context.Context) (int64, error) {
	var mark int64
	if err := e.db.SQL.QueryRowContext(ctx, optOutMark).Scan(&mark); err != nil {
		return 0, fmt.Errorf("error reading the latest opt-out: %w", err)
	}
	return mark, nil
}

// rereadAfterOptOut re-reads, in tx, the status of the messages of pending
// loaded (or last re-read) before an opt-out later than their mark, and
// marks settled those that are no longer unsent.
func (e *Engine) rereadAfterOptOut(ctx context.Context, tx *database.Tx, pending []*pending, latest int64) error {
	var ids []int64
	for _, p := range pending {
		if p.optOutMark < latest {
			ids = append(ids, int64(p.id))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	query, arg := settledAmongSQLite, any(nil)
	if e.db.Dialect == dialect.Postgres {
		query, arg = settledAmongPostgres, pq.Array(ids)
	} else {
		raw, _ := json.Marshal(ids)
		arg = string(raw)
	}
	rows, err := tx.QueryContext(ctx, query, arg)
	if err != nil {
		return fmt.Errorf("error re-reading messages after an opt-out: %w", err)
	}
	defer rows.Close()
	settled := map[int]bool{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("error re-reading messages after an opt-out: %w", err)
		}
		settled[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("error re-reading messages after an opt-out: %w", err)
	}
	for _, p := range pending {
		if p.optOutMark < latest {
			p.optOutMark = latest
			p.settled = p.settled || settled[p.id]
		}
	}
	return nil
}
