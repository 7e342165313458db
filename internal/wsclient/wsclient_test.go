package wsclient

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

// TestReadMessage reads what a server writes: data frames of every length
// encoding (7-bit, 16-bit and 64-bit), with control frames between them,
// then a close.
func TestReadMessage(t *testing.T) {
	var wire bytes.Buffer
	want := []string{"{}", strings.Repeat("a", 126), strings.Repeat("b", 70_000)}
	for i, msg := range want {
		require.NoError(t, ws.WriteFrame(&wire, ws.NewTextFrame([]byte(msg))))
		if i == 0 {
			require.NoError(t, ws.WriteFrame(&wire, ws.NewPingFrame([]byte("ping"))))
		}
	}
	require.NoError(t, ws.WriteFrame(&wire, ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, ""))))

	r := bufio.NewReaderSize(&wire, 128<<10)
	for _, msg := range want {
		got, n, err := ReadMessage(r)
		require.NoError(t, err)
		require.Equal(t, msg, string(got))
		_, err = r.Discard(n)
		require.NoError(t, err)
	}
	_, _, err := ReadMessage(r)
	require.ErrorIs(t, err, io.EOF)
}

// TestReadMessageRefusesWhatAServerDoesNotWrite: masked or fragmented
// frames, and frames larger than the reader's buffer.
func TestReadMessageRefusesWhatAServerDoesNotWrite(t *testing.T) {
	for name, frame := range map[string]ws.Frame{
		"masked":     ws.MaskFrame(ws.NewTextFrame([]byte("x"))),
		"fragmented": ws.NewFrame(ws.OpText, false, []byte("x")),
		"too large":  ws.NewTextFrame(make([]byte, 5000)),
	} {
		var wire bytes.Buffer
		require.NoError(t, ws.WriteFrame(&wire, frame))
		_, _, err := ReadMessage(bufio.NewReaderSize(&wire, 4096))
		require.Error(t, err, name)
	}
}

// TestFramesNoteWhenAMessageArrived: a message gets the time of the read
// that completed it, and messages that came in one read share it.
func TestFramesNoteWhenAMessageArrived(t *testing.T) {
	var wire bytes.Buffer
	for _, msg := range []string{"first", "second", "third"} {
		require.NoError(t, ws.WriteFrame(&wire, ws.NewTextFrame([]byte(msg))))
	}
	all := wire.Bytes()
	half := len(all) - 8 // the first frame and part of the second
	pr, pw := io.Pipe()
	defer pr.Close()
	write := func(b []byte) {
		go func() { _, _ = pw.Write(b) }()
	}
	f := NewFrames(pr)

	write(all[:half])
	msg, first, err := f.Next()
	require.NoError(t, err)
	require.Equal(t, "first", string(msg))

	between := time.Now()
	write(all[half:])
	msg, second, err := f.Next()
	require.NoError(t, err)
	require.Equal(t, "second", string(msg))
	require.False(t, between.Before(first), "the first message arrived with the first write")
	require.False(t, second.Before(between), "the second message was completed by the second write")

	msg, third, err := f.Next()
	require.NoError(t, err)
	require.Equal(t, "third", string(msg))
	require.Equal(t, second, third, "the third message came in the same read as the end of the second")
}
