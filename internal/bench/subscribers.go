package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/notifyhq/notify/internal/wsclient"
)

// subscriberLoad is the live-events benchmark: progress subscribers and
// status subscribers on one mailing, over graphql-transport-ws, in this
// process (separate from the service).
type subscriberLoad struct {
	progress, status int
}

type subscriberResult struct {
	events   int           // status events received, all subscribers
	p50, p99 time.Duration // write-to-client latency of status events
	// commit-to-client latency of status events (from committedAt)
	commitP50, commitP99 time.Duration
	errs                 int
	dropped              int // subscriptions ended by the server (SUBSCRIBER_TOO_SLOW)
	// CPU seconds used from the mailing's creation until the subscribers
	// were done: by the service, and by this process (the subscribers, the
	// polling of the mailing's status).
	serviceCPU, clientCPU float64
	// How long after the mailing's creation every subscription was live
	// on the service (its subscriptions gauge); sending starts at 4 s.
	subscribed time.Duration

	// The latencies sampled, of which the percentiles above.
	latencies, commitLatencies []time.Duration
}

// latencySample: the subscribers time one status event in latencySample.
const latencySample = 4

// subscribedOnService waits until the service's subscriptions gauge counts
// the load: each subscription is then registered, not only connected.
func (l subscriberLoad) subscribedOnService(ctx context.Context, svcURL string) error {
	want := []string{
		fmt.Sprintf(`notify_graphql_subscriptions{kind="mailing_progress"} %d`, l.progress),
		fmt.Sprintf(`notify_graphql_subscriptions{kind="message_status"} %d`, l.status),
	}
	for ctx.Err() == nil {
		resp, err := http.Get(svcURL + "/metrics")
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if strings.Contains(string(body), want[0]) && strings.Contains(string(body), want[1]) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return ctx.Err()
}

// cpuSeconds is the user and system CPU time a process used so far.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces): utime and stime
	// are the 12th and 13th, in clock ticks of 1/100 s.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (u + st) / 100
}

// selfCPUSeconds is the CPU time this process used so far.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// subscribe connects the subscribers to mailingID and returns a function that
// waits until they are done (progress completed, status saw every SENT) or
// ctx ends, and reports.
func (l subscriberLoad) subscribe(ctx context.Context, svcURL, mailingID string, recipients int) (func() subscriberResult, error) {
	wsURL := "ws" + strings.TrimPrefix(svcURL, "http") + "/query"
	var (
		mu    sync.Mutex
		res   subscriberResult
		wg    sync.WaitGroup
		ready sync.WaitGroup
	)
	start := func(query string, onNext func(frame []byte, at time.Time) bool, done func()) {
		wg.Add(1)
		ready.Add(1)
		go func() {
			defer wg.Done()
			defer done()
			readied := false
			defer func() {
				if !readied {
					ready.Done()
				}
			}()
			conn, frames, err := wsclient.Dial(ctx, wsURL)
			if err != nil {
				mu.Lock()
				res.errs++
				mu.Unlock()
				return
			}
			defer conn.Close()
			defer context.AfterFunc(ctx, func() { conn.Close() })()
			send := func(v any) error {
				b, _ := json.Marshal(v)
				return wsutil.WriteClientText(conn, b)
			}
			if wsclient.Subscribe(conn, query) != nil {
				return
			}
			for {
				// Messages are read in place, in the connection's read
				// buffer, and those that came in one read share one
				// arrival time: the client shares the machine with the
				// service it measures, so it takes as little CPU as it can.
				b, at, err := frames.Next()
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
						mu.Lock()
						res.errs++
						mu.Unlock()
					}
					return
				}
				// Most frames are events: pick the fields out instead of
				// decoding every frame. gqlgen writes a data message as
				// {"payload":{"errors":…,"data":…},"id":…,"type":"next"}.
				if bytes.HasSuffix(b, []byte(`"type":"next"}`)) {
					if bytes.HasPrefix(b, []byte(`{"payload":{"errors"`)) {
						mu.Lock()
						res.errs++
						mu.Unlock()
					}
					if !onNext(b, at) {
						_ = wsutil.WriteClientMessage(conn, ws.OpClose, ws.NewCloseFrameBody(ws.StatusNormalClosure, "done"))
						return
					}
					continue
				}
				var msg struct {
					Type string `json:"type"`
				}
				if json.Unmarshal(b, &msg) != nil {
					continue
				}
				switch msg.Type {
				case "connection_ack":
					readied = true
					ready.Done()
				case "complete":
					return
				case "error":
					mu.Lock()
					res.dropped++
					mu.Unlock()
					return
				case "ping":
					_ = send(map[string]any{"type": "pong"})
				}
			}
		}()
	}
	for range l.progress {
		start(fmt.Sprintf(`subscription { mailingProgress(mailingID: %s) { total byStatus { status count } } }`, mailingID),
			func([]byte, time.Time) bool { return true }, func() {})
	}
	for i := range l.status {
		// Each subscriber keeps its own figures and adds them up at the
		// end, instead of taking a lock per event. The latencies are of
		// one event in latencySample (a different one for each
		// subscriber), which spares the parsing of most timestamps.
		sent, events := 0, 0
		lats := make([]time.Duration, 0, recipients/latencySample+1)
		commitLats := make([]time.Duration, 0, recipients/latencySample+1)
		start(fmt.Sprintf(`subscription { messageStatusChanged(mailingID: %s) { messageID status at committedAt } }`, mailingID),
			func(frame []byte, now time.Time) bool {
				// The fields come in the order the query selects them.
				st, rest, ok := field(frame, `"status":"`)
				if !ok {
					return true
				}
				events++
				if string(st) == "SENT" {
					sent++
				}
				if (events+i)%latencySample == 0 {
					var t time.Time
					if at, rest, ok := field(rest, `"at":"`); ok && t.UnmarshalText(at) == nil {
						lats = append(lats, now.Sub(t))
						if c, _, ok := field(rest, `"committedAt":"`); ok && t.UnmarshalText(c) == nil {
							commitLats = append(commitLats, now.Sub(t))
						}
					}
				}
				return sent < recipients
			},
			func() {
				mu.Lock()
				res.latencies = append(res.latencies, lats...)
				res.commitLatencies = append(res.commitLatencies, commitLats...)
				res.events += events
				mu.Unlock()
			})
	}
	ready.Wait()
	return func() subscriberResult {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return res
	}, nil
}

// runSubscribed runs an instant fan-out of a scheduled mailing, with the
// subscriber load attached when l is not zero, and returns messages/s from
// the first recipient selected to the last status written.
func runSubscribed(admin *sql.DB, dbURL, bin string, recipients, concurrency int, l subscriberLoad) (float64, subscriberResult, error) {
	var sres subscriberResult
	env, cleanup, err := startStack(admin, dbURL, bin, scenario{recipients: recipients, concurrency: concurrency})
	if err != nil {
		return 0, sres, err
	}
	defer cleanup()
	start := time.Now().Add(4 * time.Second)
	var created struct{ CreateMailing struct{ ID string } }
	err = gql(env.url, fmt.Sprintf(`mutation { createMailing(input: {startAt: %q, endAt: %q, text: "Benchmark"}) { id } }`,
		start.UTC().Format(time.RFC3339Nano), start.Add(time.Hour).UTC().Format(time.RFC3339)), &created)
	if err != nil {
		return 0, sres, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	svc0, self0 := cpuSeconds(env.svc.Process.Pid), selfCPUSeconds()
	var wait func() subscriberResult
	if l.progress+l.status > 0 {
		if wait, err = l.subscribe(ctx, env.url, created.CreateMailing.ID, recipients); err != nil {
			return 0, sres, err
		}
		if err := l.subscribedOnService(ctx, env.url); err != nil {
			return 0, sres, err
		}
	}
	subscribed := time.Until(start) // before the start; negative when after
	if err := waitFinished(ctx, env.url, created.CreateMailing.ID); err != nil {
		return 0, sres, err
	}
	if wait != nil {
		done := make(chan subscriberResult, 1)
		go func() { done <- wait() }()
		select {
		case sres = <-done:
		case <-time.After(30 * time.Second):
			cancel()
			sres = <-done
		}
	}
	sres.serviceCPU, sres.clientCPU = cpuSeconds(env.svc.Process.Pid)-svc0, selfCPUSeconds()-self0
	sres.p50, sres.p99 = percentiles(sres.latencies)
	sres.commitP50, sres.commitP99 = percentiles(sres.commitLatencies)
	sres.subscribed = 4*time.Second - subscribed
	var first, last time.Time
	if err := env.db.QueryRow(`SELECT min(created_at), max(updated_at) FROM messages`).Scan(&first, &last); err != nil {
		return 0, sres, err
	}
	return float64(recipients) / last.Sub(first).Seconds(), sres, nil
}

func waitFinished(ctx context.Context, svcURL, id string) error {
	for ctx.Err() == nil {
		var st struct{ MailingStatistics struct{ Status string } }
		if err := gql(svcURL, fmt.Sprintf(`{ mailingStatistics(id: %s) { status } }`, id), &st); err != nil {
			return err
		}
		if st.MailingStatistics.Status == "FINISHED" {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ctx.Err()
}

// field returns the string value that follows key in a JSON frame, and the
// rest of the frame after it.
func field(frame []byte, key string) (value, rest []byte, ok bool) {
	i := bytes.Index(frame, []byte(key))
	if i < 0 {
		return nil, frame, false
	}
	rest = frame[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil, frame, false
	}
	return rest[:j], rest[j+1:], true
}
