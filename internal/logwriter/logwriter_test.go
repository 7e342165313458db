package logwriter

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lockedBuffer lets the test read what the flusher goroutine wrote.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   chan struct{}
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case b.n <- struct{}{}:
	default:
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestWriterFlushesOnTimerAndClose(t *testing.T) {
	t.Parallel()
	out := &lockedBuffer{n: make(chan struct{}, 1)}
	w := New(out, 10*time.Millisecond)
	_, err := w.Write([]byte("one\n"))
	require.NoError(t, err)
	select {
	case <-out.n:
	case <-time.After(5 * time.Second):
		t.Fatal("the timer never flushed")
	}
	require.Equal(t, "one\n", out.String())

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				_, _ = w.Write([]byte("line\n"))
			}
		}()
	}
	wg.Wait()
	require.NoError(t, w.Close())
	require.Equal(t, 4+8*1000*5, len(out.String()), "every byte written once, in whole writes")
}
