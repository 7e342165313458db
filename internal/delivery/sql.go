package delivery

import (
	"regexp"

	"entgo.io/ent/dialect"

	"github.com/notifyhq/notify/internal/campaign"
)

// The raw SQL of the sending engine, per dialect: the statements ent cannot
// express (INSERT … SELECT, bulk updates from arrays, RETURNING). Everything
// else goes through ent.

// The clients of a selection chunk: the recipients (campaign's conditions,
// which the audience preview counts with: the filter's operator codes ($1)
// and tags ($2), opted-out phones left out) with ids in (after $3, upto $4].
const (
	clientsPostgres = `
FROM clients c
WHERE c.id > $3 AND c.id <= $4
  AND ` + campaign.RecipientsPostgres

	clientsSQLite = `
FROM clients c
WHERE c.id > ?3 AND c.id <= ?4
  AND ` + campaign.RecipientsSQLite
)

// chunkBounds counts the clients of the next chunk and finds the highest id
// among them. Extra arg: the chunk size ($5).
const (
	chunkBoundsPostgres = `SELECT count(*), max(id) FROM (SELECT c.id` + clientsPostgres + ` ORDER BY c.id LIMIT $5) AS chunk`
	chunkBoundsSQLite   = `SELECT count(*), max(id) FROM (SELECT c.id` + clientsSQLite + ` ORDER BY c.id LIMIT ?5) AS chunk`
)

// selectRecipients inserts one queued message per client of a chunk; ON
// CONFLICT makes a re-run harmless (one message per pair, ever). Extra args:
// mailing id ($5), now ($6).
const (
	selectRecipientsPostgres = `
INSERT INTO messages (mailing_id, customer_id, phone, timezone, status, attempts, created_at, updated_at)
SELECT $5, c.id, c.phone, c.timezone, 'queued', 0, $6, $6` + clientsPostgres + `
ORDER BY c.id
ON CONFLICT (mailing_id, customer_id) DO NOTHING`

	selectRecipientsSQLite = `
INSERT INTO messages (mailing_id, customer_id, phone, timezone, status, attempts, created_at, updated_at)
SELECT ?5, c.id, c.phone, c.timezone, 'queued', 0, ?6, ?6` + clientsSQLite + `
ORDER BY c.id
ON CONFLICT (mailing_id, customer_id) DO NOTHING`
)

// chunkSpan reads the id range of the messages of a chunk (found by their
// clients, through the (mailing_id, customer_id) index). Args: mailing id,
// after, upto.
const chunkSpan = `SELECT min(id), max(id) FROM messages WHERE mailing_id = $1 AND customer_id > $2 AND customer_id <= $3`

// messageSpan reads the id range of a mailing's messages and the highest
// client id among them. Args: mailing id.
const messageSpan = `SELECT min(id), max(id), max(customer_id) FROM messages WHERE mailing_id = $1`

// batchIndexes lists the batches (id ranges of batchSize from the mailing's
// first message id) that still hold unsent messages.
// Args: mailing id, first id, batch size.
const batchIndexes = `
SELECT DISTINCT (id - $2) / $3
FROM messages
WHERE mailing_id = $1 AND status IN ('queued', 'retrying')
ORDER BY 1`

// dueMessages loads the unsent messages of one batch that are due.
// Args: mailing id, first id, last id, now, limit.
const dueMessages = `
SELECT id, customer_id, phone, timezone, text, status, attempts, last_error
FROM messages
WHERE mailing_id = $1 AND id BETWEEN $2 AND $3
  AND status IN ('queued', 'retrying')
  AND (next_attempt_at IS NULL OR next_attempt_at <= $4)
ORDER BY id
LIMIT $5`

// nextDue finds when the next unsent message of a batch is due; no row means
// the batch has no unsent message left. Args: mailing id, first id, last id.
const nextDue = `
SELECT next_attempt_at
FROM messages
WHERE mailing_id = $1 AND id BETWEEN $2 AND $3 AND status IN ('queued', 'retrying')
ORDER BY next_attempt_at
LIMIT 1`

// admitMailing reads a mailing's status for a selection chunk, after the
// caller took the mailing's sending lock (campaign.LockSending): a cancel or
// delete that commits first stops the selection, one that comes later waits
// for the lock and settles the chunk's messages. A batch's requests read
// more (admitRequests). Args: mailing id.
const admitMailing = `SELECT status FROM mailings WHERE id = $1`

// applyUpdates writes the outcomes of a batch at once. A message that is no
// longer unsent is left alone — except that a success is always recorded
// (the request started before the mailing was cancelled or expired).
// RETURNING names the rows written, for the live status feed. $9 (again)
// also matches rows that already hold the update's status and attempts: an
// earlier try committed but its reply was lost (a database outage), and its
// events are still to be published.
const (
	applyUpdatesPostgres = `
UPDATE messages AS m SET
  status = v.status,
  attempts = v.attempts,
  next_attempt_at = v.next_attempt_at,
  last_error = v.last_error,
  sent_at = v.sent_at,
  text = COALESCE(m.text, v.text),
  updated_at = $8
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::timestamptz[], $5::text[], $6::timestamptz[], $7::text[])
  AS v(id, status, attempts, next_attempt_at, last_error, sent_at, text)
WHERE m.id = v.id
  AND (m.status IN ('queued', 'retrying') OR (v.status = 'sent' AND m.status IN ('cancelled', 'expired'))
       OR ($9::boolean AND m.status = v.status AND m.attempts = v.attempts))
RETURNING m.id`

	applyUpdateSQLite = `
UPDATE messages SET
  status = ?2,
  attempts = ?3,
  next_attempt_at = ?4,
  last_error = ?5,
  sent_at = ?6,
  text = COALESCE(text, ?7),
  updated_at = ?8
WHERE id = ?1
  AND (status IN ('queued', 'retrying') OR (?2 = 'sent' AND status IN ('cancelled', 'expired'))
       OR (?9 AND status = ?2 AND attempts = ?3))
RETURNING id`
)

var dollarParam = regexp.MustCompile(`\$(\d+)`)

// rebind spells a Postgres query's $N parameters as SQLite's ?N.
func rebind(dialectName, query string) string {
	if dialectName == dialect.SQLite {
		return dollarParam.ReplaceAllString(query, "?$1")
	}
	return query
}
