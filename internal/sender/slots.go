package sender

import (
	"context"
	"fmt"
)

// Acquire blocks until one of the Concurrency slots is free and takes it, or
// returns the context's error. Each slot taken by Acquire or TryAcquire must
// be given back with Release once its Send has returned.
//
// The batch worker takes one slot with Acquire (waiting for capacity), then
// up to k more with TryAcquire(k) without waiting, and starts that many
// requests.
func (c *Client) Acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("error waiting for a sender slot: %w", context.Cause(ctx))
	}
}

// TryAcquire takes up to n free slots without blocking and returns how many
// it took (0 to n).
func (c *Client) TryAcquire(n int) int {
	for i := range n {
		select {
		case c.slots <- struct{}{}:
		default:
			return i
		}
	}
	return max(n, 0)
}

// Release gives back n slots. It panics if more slots are released than are
// held, which is a bug in the caller.
func (c *Client) Release(n int) {
	for range n {
		select {
		case <-c.slots:
		default:
			panic("sender: Release of a slot that is not held")
		}
	}
}

// InFlight returns the number of slots currently held, for metrics.
func (c *Client) InFlight() int {
	return len(c.slots)
}

// Concurrency returns the number of slots.
func (c *Client) Concurrency() int {
	return cap(c.slots)
}
