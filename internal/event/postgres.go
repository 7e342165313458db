package event

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/lib/pq"
)

// notifySQL sends several payloads in one statement, so one flush is one
// round trip and one commit whatever the number of payloads; Postgres
// delivers them in this order (measured on Postgres 15).
const notifySQL = `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`

// Listener reconnection delays (lib/pq doubles from min to max).
const (
	minReconnect = 100 * time.Millisecond
	maxReconnect = 5 * time.Second
	// pingEvery checks an idle LISTEN connection, so that a silently dead
	// one is noticed and replaced (subscribers then get a notice).
	pingEvery = 30 * time.Second
	// listenTimeout bounds New's wait for the LISTEN connection.
	listenTimeout = 15 * time.Second
)

// ChannelName returns the NOTIFY channel of the service living in schema:
// one per schema, so that services (and parallel tests) sharing a Postgres
// server in different schemas do not hear each other. Channel names are
// identifiers, at most 63 bytes; a long schema name is hashed.
func ChannelName(schema string) string {
	const prefix = "notify_events"
	if schema == "" || schema == "public" {
		return prefix
	}
	name := prefix + "." + schema
	if len(name) > 63 {
		sum := sha256.Sum256([]byte(schema))
		name = prefix + "." + hex.EncodeToString(sum[:])[:40]
	}
	return name
}

// listen opens the LISTEN connection and starts receiving.
func (b *Bus) listen(ctx context.Context) error {
	// The connection is named after its channel in pg_stat_activity
	// (operators and tests find it there).
	dsn, err := url.Parse(b.cfg.DB.DSN())
	if err != nil {
		return fmt.Errorf("error parsing the database URL for the event listener: %w", err)
	}
	q := dsn.Query()
	q.Set("application_name", b.channel)
	dsn.RawQuery = q.Encode()
	b.listener = pq.NewListener(dsn.String(), minReconnect, maxReconnect, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventDisconnected:
			b.logger.Warn("live event listener disconnected", "channel", b.channel, "error", err)
		case pq.ListenerEventReconnected:
			b.logger.Info("live event listener reconnected", "channel", b.channel)
		case pq.ListenerEventConnectionAttemptFailed:
			b.logger.Warn("live event listener cannot connect", "channel", b.channel, "error", err)
		}
	})
	// Listen waits for the connection; do not wait forever for a database
	// that is not there.
	listened := make(chan error, 1)
	go func() { listened <- b.listener.Listen(b.channel) }()
	select {
	case err = <-listened:
	case <-time.After(listenTimeout):
		err = errors.New("timed out")
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = b.listener.Close() // also ends a Listen still waiting
		b.listener = nil
		return fmt.Errorf("error listening on channel %s for live events: %w", b.channel, err)
	}
	b.wg.Add(2)
	go b.receive()
	go b.ping()
	return nil
}

// receive hands every notification to the local subscribers, in order. A nil
// notification follows a reconnection: what was sent meanwhile is lost.
func (b *Bus) receive() {
	defer b.wg.Done()
	notifications := b.listener.NotificationChannel()
	for {
		select {
		case n, ok := <-notifications:
			if !ok {
				return
			}
			if n == nil {
				b.logger.Warn("live event feed interrupted: telling subscribers events may have been missed", "channel", b.channel)
				b.deliver(batch{reset: true})
				continue
			}
			bt, err := decode(n.Extra)
			if err != nil {
				b.logger.Error("undecodable live event payload", "channel", b.channel, "error", err)
				continue
			}
			b.deliver(bt)
		case <-b.ctx.Done():
			return
		}
	}
}

// ping checks the LISTEN connection now and then.
func (b *Bus) ping() {
	defer b.wg.Done()
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := b.listener.Ping(); err != nil {
				b.logger.Warn("live event listener ping failed", "channel", b.channel, "error", err)
			}
		case <-b.ctx.Done():
			return
		}
	}
}

// notify sends a batch as NOTIFYs of at most maxPayload bytes each, in one
// statement.
func (b *Bus) notify(ctx context.Context, bt batch) error {
	payloads := encode(bt, maxPayload)
	if _, err := b.cfg.DB.SQL.ExecContext(ctx, notifySQL, b.channel, pq.Array(payloads)); err != nil {
		return fmt.Errorf("error sending %d notifications on %s: %w", len(payloads), b.channel, err)
	}
	return nil
}
