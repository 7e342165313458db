package jobs

import (
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/notifyhq/notify/internal/delivery"
)

// TestTakeoverArithmetic checks the timeouts' arithmetic of docs/design.md
// ("Instance kills") for sender timeouts around the default.
func TestTakeoverArithmetic(t *testing.T) {
	const admitWindow = 20 * time.Millisecond // delivery.admitWindow
	cfg := RiverConfig("", nil, river.NewWorkers(), nil, 4)
	for _, ts := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second} {
		job := SendBatchTimeout(ts)
		// A run stops admitting A after its start (the engine's stopAt,
		// with the default 30 s slice and its 1 s floor).
		admitting := max(min(30*time.Second, job-ts-delivery.RunMargin), time.Second)
		grace := TakeoverGrace(ts)
		// What a run starts has ended, written, before its deadline.
		if admitting+admitWindow+ts > job-delivery.RunMargin+admitWindow {
			t.Errorf("SENDER_TIMEOUT %s: last request ends at %s, job timeout %s", ts, admitting+admitWindow+ts, job)
		}
		// A live instance cut off from Postgres has nothing on the wire,
		// and its runs admit nothing more, when the grace has passed.
		if grace < ts+admitWindow || grace < admitting {
			t.Errorf("SENDER_TIMEOUT %s: grace %s under %s or %s", ts, grace, ts+admitWindow, admitting)
		}
		// River's age-based rescue never meets an honest batch run.
		if cfg.RescueStuckJobsAfter < 2*job {
			t.Errorf("SENDER_TIMEOUT %s: RescueStuckJobsAfter %s is not well over the batch timeout %s", ts, cfg.RescueStuckJobsAfter, job)
		}
	}
	// With the default SENDER_TIMEOUT a dead instance's jobs are available
	// again within 20 s of the kill: seen at a tick, seen again after the
	// grace (rounded up to a tick), fetched within River's 1 s poll.
	if worst := TakeoverInterval + TakeoverGrace(10*time.Second) + TakeoverInterval + time.Second; worst > 20*time.Second {
		t.Errorf("worst takeover %s", worst)
	}
	if cfg.RescueStuckJobsAfter < cfg.JobTimeout {
		t.Error("River requires RescueStuckJobsAfter ≥ JobTimeout")
	}
}
