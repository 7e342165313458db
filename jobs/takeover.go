package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/notifyhq/notify/internal/delivery"
)

// Taking over a killed instance's jobs (docs/design.md, "Instance kills").
//
// River rescues a running job only by its age: its rescuer runs every 30 s
// (not configurable in River v0.51) on the leader and retries jobs running
// for longer than RescueStuckJobsAfter. A kill -9 thus left a batch idle for
// up to RescueStuckJobsAfter + 30 s. Instead every instance holds a
// session-level advisory lock named after its River client ID for as long as
// it lives (Liveness), and every instance looks every TakeoverInterval for
// running jobs whose owner (the last of attempted_by) no longer holds its
// lock. Postgres releases the lock when the owner's connection ends: at once
// when the process dies on a live host (its socket is closed), within the
// TCP keepalive settings below when the host is gone. A job whose owner has
// been seen dead for TakeoverGrace is made available again.

const (
	// livenessLockClass is the first key of the liveness locks (the second
	// is hashtext of the client ID): "noti" in ASCII. The two-key form never
	// meets the one-key locks of campaign.LockSending.
	livenessLockClass = 0x6e6f7469
	// TakeoverInterval is how often each instance looks for orphaned jobs
	// and pings its own liveness session.
	TakeoverInterval = 2 * time.Second
)

// takeoverKinds are the job kinds taken over: each is fenced by the database
// (a batch's admission, a selection chunk, a resume and a close are transactions) and
// safe to run again. The daily report (an email) waits for River's rescuer.
var takeoverKinds = []string{SendBatchArgs{}.Kind(), StartMailingArgs{}.Kind(), CloseMailingArgs{}.Kind(), ResumeMailingArgs{}.Kind()}

// ClientID is a River client ID unique to this process: host, pid and a
// random part (River's default is the host and the start time).
func ClientID() string {
	host, _ := os.Hostname()
	host = strings.NewReplacer(".", "_", "-", "_", ":", "_").Replace(cmp.Or(host, "unknown_host"))
	host = host[:min(len(host), 60)]
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s_%d_%s", host, os.Getpid(), hex.EncodeToString(b))
}

// TakeoverGrace is how long an owner must be seen dead before its jobs are
// taken over. A live instance cut off from Postgres starts no request (each
// admission is a transaction), and its batch runs start none later than
// SendBatchTimeout − senderTimeout − delivery.RunMargin after they began:
// after max(that, senderTimeout) plus a tick, what it started has ended.
func TakeoverGrace(senderTimeout time.Duration) time.Duration {
	admitting := SendBatchTimeout(senderTimeout) - senderTimeout - delivery.RunMargin
	return max(admitting, senderTimeout) + TakeoverInterval
}

// Takeover is this instance's liveness session and its look for orphans.
type Takeover struct {
	db     *sql.DB
	id     string
	grace  time.Duration
	logger *slog.Logger

	// conn is the liveness session. Only one goroutine uses it at a time:
	// StartTakeover, then loop, then Stop (after loop ended).
	conn *sql.Conn
	// deadSince is when each owner was first seen without its lock (by
	// this instance, at its ticks, continuously).
	deadSince map[string]time.Time
	stop      context.CancelFunc
	done      chan struct{}
}

// StartTakeover takes this instance's liveness lock (before River fetches
// any job in its name) and starts looking for orphaned jobs. Stop releases
// the lock: call it after River stopped.
func StartTakeover(ctx context.Context, db *sql.DB, clientID string, senderTimeout time.Duration, logger *slog.Logger) (*Takeover, error) {
	t := &Takeover{
		db: db, id: clientID, grace: TakeoverGrace(senderTimeout),
		logger: cmp.Or(logger, slog.Default()), deadSince: map[string]time.Time{}, done: make(chan struct{}),
	}
	if err := t.lock(ctx); err != nil {
		return nil, fmt.Errorf("error taking the liveness lock of %s: %w", clientID, err)
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	t.stop = cancel
	go t.loop(loopCtx)
	return t, nil
}

// lock opens the liveness session and takes the lock. The session's TCP
// keepalives make Postgres notice a vanished host in about 15 s (ignored on
// a Unix socket, where a dead process is seen at once).
func (t *Takeover) lock(ctx context.Context) error {
	conn, err := t.db.Conn(ctx)
	if err != nil {
		return err
	}
	for _, set := range []string{"SET tcp_keepalives_idle = 5", "SET tcp_keepalives_interval = 2", "SET tcp_keepalives_count = 3", "SET tcp_user_timeout = 10000"} {
		_, _ = conn.ExecContext(ctx, set) // best effort (older servers, sockets)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, livenessLockClass, t.id); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // drop it
		conn.Close()
		return err
	}
	t.conn = conn
	return nil
}

func (t *Takeover) loop(ctx context.Context) {
	defer close(t.done)
	tick := time.NewTicker(TakeoverInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t.keepAlive(ctx)
		if err := t.rescue(ctx); err != nil && ctx.Err() == nil {
			t.logger.Warn("looking for orphaned jobs failed", "error", err)
		}
	}
}

// keepAlive pings the liveness session (so that no idle timeout ends it) and
// opens a new one when it broke.
func (t *Takeover) keepAlive(ctx context.Context) {
	if conn := t.conn; conn != nil {
		pctx, cancel := context.WithTimeout(ctx, TakeoverInterval)
		err := conn.PingContext(pctx)
		cancel()
		if err == nil {
			return
		}
		t.logger.Warn("liveness session lost; taking the lock again", "client_id", t.id, "error", err)
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		conn.Close()
		t.conn = nil
	}
	lctx, cancel := context.WithTimeout(ctx, TakeoverInterval)
	defer cancel()
	if err := t.lock(lctx); err != nil {
		t.logger.Warn("liveness lock not taken", "client_id", t.id, "error", err)
	}
}

// rescue makes available again the running jobs whose owner has been seen
// without its liveness lock for the grace period.
func (t *Takeover) rescue(ctx context.Context) error {
	rows, err := t.db.QueryContext(ctx, `SELECT DISTINCT attempted_by[array_length(attempted_by, 1)] FROM river_job
		WHERE state = 'running' AND kind = ANY($1) AND attempted_by IS NOT NULL`, pq.Array(takeoverKinds))
	if err != nil {
		return err
	}
	defer rows.Close() // on a Scan error; Next closes them at the end
	var owners []string
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return err
		}
		if o != t.id {
			owners = append(owners, o)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	now := time.Now()
	for _, o := range owners {
		n, err := t.takeOver(ctx, o, now)
		if err != nil {
			return err
		}
		if n > 0 {
			t.logger.Warn("took over the jobs of a dead instance", "dead_client_id", o, "jobs", n,
				"dead_for", now.Sub(t.deadSince[o]).Round(time.Millisecond))
			delete(t.deadSince, o)
		}
	}
	maps.DeleteFunc(t.deadSince, func(o string, _ time.Time) bool { return !slices.Contains(owners, o) })
	return nil
}

// takeOver checks owner's liveness lock and, once it has been free for the
// grace period, makes its running jobs available; in one transaction whose
// lock on the owner's key keeps two instances from doing it at once.
func (t *Takeover) takeOver(ctx context.Context, owner string, now time.Time) (int64, error) {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	var free bool
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1, hashtext($2))`, livenessLockClass, owner).Scan(&free); err != nil {
		return 0, err
	}
	if !free {
		delete(t.deadSince, owner)
		return 0, nil
	}
	since, ok := t.deadSince[owner]
	if !ok {
		t.deadSince[owner] = now
		return 0, nil
	}
	if now.Sub(since) < t.grace {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now(),
			errors = array_append(errors, jsonb_build_object('at', now(), 'attempt', attempt,
				'error', 'instance ' || $2 || ' is gone (no liveness lock): taken over by ' || $3, 'trace', ''))
		WHERE state = 'running' AND kind = ANY($1) AND attempted_by[array_length(attempted_by, 1)] = $2`,
		pq.Array(takeoverKinds), owner, t.id)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return n, tx.Commit()
}

// Stop ends the look for orphans and releases the liveness lock.
func (t *Takeover) Stop() {
	t.stop()
	<-t.done
	if t.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = t.conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, livenessLockClass, t.id)
		t.conn.Close()
		t.conn = nil
	}
}
