package graph

import (
	"context"
	"encoding/binary"
	"io"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/status"
)

// TestFramesDoNotInterleaveWithPongs streams status events to a subscriber
// that pings the server as fast as it can meanwhile: coder/websocket answers
// each ping with a pong while the adapter writes the events' frames itself
// (writeText). Every frame the client reads must be whole: each event once,
// in order, and a pong for each ping, carrying its payload.
func TestFramesDoNotInterleaveWithPongs(t *testing.T) {
	const events, pings = 5000, 2000
	ctx := context.Background()
	bus, shared, srv := statusServer(t)
	conn, frames := dialStatusSubscriber(t, srv.URL)
	defer conn.Close()
	waitWriters(t, shared, 1)

	pinged := make(chan error, 1)
	go func() {
		for i := range pings {
			payload := binary.BigEndian.AppendUint64(nil, uint64(i))
			if err := wsutil.WriteClientMessage(conn, ws.OpPing, payload); err != nil {
				pinged <- err
				return
			}
		}
		pinged <- nil
	}()
	// The events go out in bursts of 250, as the engine publishes them, at
	// most four bursts ahead of the client (the subscriber's buffer holds
	// 4096): the reader gives a credit back for every burst it has read.
	credits := make(chan struct{}, events/250)
	for range 4 {
		credits <- struct{}{}
	}
	go func() {
		for id := 1; id <= events; id += 250 {
			<-credits
			changes := make([]campaign.StatusChange, 0, 250)
			for i := id; i < id+250; i++ {
				changes = append(changes, campaign.StatusChange{MessageID: i, MailingID: 1, Status: status.Sent, Attempts: 1, At: time.Now()})
			}
			bus.MessagesChanged(ctx, changes)
		}
	}()

	require.NoError(t, conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	messageID := regexp.MustCompile(`^\{"payload":\{"data":\{"messageStatusChanged":\{"messageID":"(\d+)","status":"SENT","at":"[^"]+","committedAt":"[^"]+"\}\}\},"id":"1","type":"next"\}$`)
	nextEvent, nextPong := 1, 0
	for nextEvent <= events || nextPong < pings {
		h, err := ws.ReadHeader(frames)
		require.NoError(t, err)
		require.True(t, h.Fin && !h.Masked, "a fragment, or a masked frame from the server")
		payload := make([]byte, h.Length)
		_, err = io.ReadFull(frames, payload)
		require.NoError(t, err)
		switch h.OpCode {
		case ws.OpPong:
			require.Equal(t, binary.BigEndian.AppendUint64(nil, uint64(nextPong)), payload, "pong %d", nextPong)
			nextPong++
		case ws.OpText:
			m := messageID.FindSubmatch(payload)
			if m == nil {
				require.Regexp(t, `^\{"type":"(connection_ack|ping)"\}$`, string(payload), "not an event, the ack nor a keepalive")
				continue
			}
			require.Equal(t, strconv.Itoa(nextEvent), string(m[1]), "events out of order")
			if nextEvent%250 == 0 {
				credits <- struct{}{}
			}
			nextEvent++
		default:
			t.Fatalf("unexpected frame %v: %q", h.OpCode, payload)
		}
	}
	require.NoError(t, <-pinged)
}
