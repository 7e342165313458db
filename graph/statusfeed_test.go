package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/stretchr/testify/require"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/event"
	"github.com/notifyhq/notify/internal/live"
	"github.com/notifyhq/notify/internal/status"
)

// bothWays runs subscription operations on one bus the two ways a shared
// status subscription may run: gqlgen's execution, set up as the handler
// sets it up, and the status feed.
type bothWays struct {
	bus   *event.Bus
	exec  *executor.Executor
	feeds func(context.Context, *graphql.OperationContext) graphql.ResponseHandler
}

func newBothWays(tb testing.TB, busCfg event.Config) *bothWays {
	bus := statusBus(tb, busCfg)
	cfg := HandlerConfig{Events: bus, Logger: slog.New(slog.DiscardHandler)}
	exec := executor.New(executableSchema(cfg))
	setUpExecution(exec, cfg)
	return &bothWays{bus: bus, exec: exec, feeds: live.NewHub(bus, cfg.Logger, 0).Direct}
}

// operation parses and validates query as the transports do.
func (b *bothWays) operation(tb testing.TB, query string, vars map[string]any) *graphql.OperationContext {
	tb.Helper()
	ctx := graphql.StartOperationTrace(context.Background())
	rc, errs := b.exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars, ReadTime: graphql.TraceTiming{Start: time.Now(), End: time.Now()}})
	require.Empty(tb, errs, query)
	return rc
}

// subscribe starts rc both ways: gqlgen's responses, then the feed's (nil
// when the feed does not take rc).
func (b *bothWays) subscribe(ctx context.Context, rc *graphql.OperationContext) (viaGqlgen, direct func() *graphql.Response) {
	responses, gctx := b.exec.DispatchOperation(ctx, rc)
	viaGqlgen = func() *graphql.Response { return responses(gctx) }
	if feed := b.feeds(ctx, rc); feed != nil {
		direct = func() *graphql.Response { return feed(ctx) }
	}
	return viaGqlgen, direct
}

// eventFieldNames are the fields the feed renders, in schema order.
var eventFieldNames = []string{"__typename", "messageID", "mailingID", "clientID", "status", "attempts", "at", "committedAt"}

// FuzzStatusFeed checks that an event gets the same response, byte for
// byte, from gqlgen's execution and from the feed. The operation selects
// some of the event's scalar fields (fields, one bit each), aliased or not
// (aliases), with the shape's variations: the root field aliased, the
// mailing as nothing, a literal or a variable, fields in a named or an
// inline fragment, a field selected twice. The event's values are the
// rest, but committedAt, which the bus sets (TestStatusPlanRendersNulls has
// it null, as from an instance that did not say).
func FuzzStatusFeed(f *testing.F) {
	f.Add(uint8(0b0111_0110), uint8(0), uint8(0), 12, 7, 3, uint8(1), 1, int64(1_795_000_000_123_456_789), int32(0))
	f.Add(uint8(0xff), uint8(0xa5), uint8(0xff), 1, 1, 0, uint8(2), 0, int64(0), int32(3*3600+1800))
	f.Add(uint8(0x01), uint8(0x01), uint8(0b0010_0101), -3, 0, 5, uint8(200), 1<<40, int64(-1), int32(-11*3600))
	ways := newBothWays(f, event.Config{})
	f.Fuzz(func(t *testing.T, fields, aliases, shape uint8, messageID, mailingID, clientID int, st uint8, attempts int, at int64, zone int32) {
		query, vars := statusOperation(fields, aliases, shape, mailingID)
		rc := ways.operation(t, query, vars)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		viaGqlgen, direct := ways.subscribe(ctx, rc)
		require.NotNil(t, direct, "the feed takes %s", query)

		c := campaign.StatusChange{
			MessageID: messageID, MailingID: mailingID, Attempts: attempts,
			At: time.Unix(0, at).In(time.FixedZone("", int(zone%(18*3600)))),
		}
		if clientID%5 != 0 {
			c.ClientID = &clientID
		}
		if all := status.Messages; int(st) < len(all) {
			c.Status = all[st]
		} else {
			c.Status = status.Message(fmt.Sprintf("unknown_%d", st))
		}
		ways.bus.MessagesChanged(ctx, []campaign.StatusChange{c})

		want, got := viaGqlgen(), direct()
		requireSameResponse(t, want, got, fmt.Sprintf("response to %+v of %s", c, query))
		require.Empty(t, got.Errors)
	})
}

// statusOperation builds FuzzStatusFeed's operation.
func statusOperation(fields, aliases, shape uint8, mailingID int) (string, map[string]any) {
	var sel []string
	for i, name := range eventFieldNames {
		if fields&(1<<i) == 0 {
			continue
		}
		if aliases&(1<<i) != 0 {
			name = "a_" + name + ": " + name
		}
		sel = append(sel, name)
	}
	if len(sel) == 0 {
		sel = []string{"messageID"}
	}
	if shape&(1<<5) != 0 { // selected again: merged with the first
		sel = append(sel, sel[0])
	}
	var fragment string
	if shape&(1<<3) != 0 && len(sel) > 1 { // the second half in a fragment
		half := len(sel) / 2
		fragment = "fragment rest on MessageStatusEvent { " + strings.Join(sel[half:], " ") + " }"
		sel = append(sel[:half:half], "...rest")
	}
	if shape&(1<<4) != 0 { // the first in an inline fragment
		sel[0] = "... on MessageStatusEvent { " + sel[0] + " }"
	}
	root := "messageStatusChanged"
	if shape&1 != 0 {
		root = "live: " + root
	}
	var vars map[string]any
	params := ""
	switch shape >> 1 & 3 {
	case 1:
		root += fmt.Sprintf(`(mailingID: "%d")`, mailingID)
	case 2:
		root += "(mailingID: $m)"
		params = "($m: ID)"
		vars = map[string]any{"m": json.Number(fmt.Sprint(mailingID))}
	case 3:
		root += fmt.Sprintf("(mailingID: %d)", mailingID)
	}
	return fmt.Sprintf("subscription%s { %s { %s } } %s", params, root, strings.Join(sel, " "), fragment), vars
}

// TestStatusFeedTakesPlainOperations: the feed takes a messageStatusChanged
// operation of scalar fields without directives, and leaves the rest to
// gqlgen.
func TestStatusFeedTakesPlainOperations(t *testing.T) {
	ways := newBothWays(t, event.Config{})
	for query, taken := range map[string]bool{
		`subscription { messageStatusChanged { messageID status at committedAt } }`:                                                        true,
		`subscription { s: messageStatusChanged(mailingID: 3) { __typename id: messageID ...f } } fragment f on MessageStatusEvent { at }`: true,
		`subscription { messageStatusChanged { messageID message { id } } }`:                                                               false,
		`subscription($x: Boolean!) { messageStatusChanged { messageID at @include(if: $x) } }`:                                            false,
		`subscription($x: Boolean!) { messageStatusChanged { messageID ... on MessageStatusEvent @skip(if: $x) { at } } }`:                 false,
		`subscription($x: Boolean!) { messageStatusChanged @include(if: $x) { messageID } }`:                                               false,
		`subscription($x: Boolean!) { messageStatusChanged { ...f } } fragment f on MessageStatusEvent { at @skip(if: $x) }`:               false,
		`subscription { messageStatusChanged { messageID } } # not @ all`:                                                                  false, // an @ anywhere: gqlgen's
		`subscription { mailingProgress(mailingID: 1) { total } }`:                                                                         false,
		`subscription { messageStatusChanged(mailingID: "x") { messageID } }`:                                                              false, // gqlgen reports the ID
	} {
		rc := ways.operation(t, query, map[string]any{"x": true})
		_, direct := ways.subscribe(t.Context(), rc)
		require.Equal(t, taken, direct != nil, query)
	}
}

// TestStatusFeedDropsAsGqlgen: a subscription that falls behind the bus's
// buffer ends with the same error event both ways.
func TestStatusFeedDropsAsGqlgen(t *testing.T) {
	ways := newBothWays(t, event.Config{Buffer: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc := ways.operation(t, `subscription { live: messageStatusChanged { messageID } }`, nil)
	viaGqlgen, direct := ways.subscribe(ctx, rc)
	// More than gqlgen's side holds (its forwarder's 256, one in hand, the
	// bus's 1) while nothing reads.
	changes := make([]campaign.StatusChange, 300)
	for i := range changes {
		changes[i] = campaign.StatusChange{MessageID: i + 1, MailingID: 1, Status: status.Sent, At: time.Now()}
	}
	ways.bus.MessagesChanged(ctx, changes)
	last := func(next func() *graphql.Response) *graphql.Response {
		var last *graphql.Response
		for r := next(); r != nil; r = next() {
			last = r
		}
		return last
	}
	want, got := last(viaGqlgen), last(direct)
	requireSameResponse(t, want, got, "the last response")
	require.Equal(t, `{"live":null}`, string(got.Data))
	require.Equal(t, live.CodeSubscriberTooSlow, got.Errors[0].Extensions["code"])
	require.NoError(t, ctx.Err(), "both ended")
}

// requireSameResponse requires the feed's response to be gqlgen's: the
// same data, byte for byte, and the same errors.
func requireSameResponse(t *testing.T, want, got *graphql.Response, what string) {
	t.Helper()
	require.NotNil(t, want, "gqlgen's %s", what)
	require.NotNil(t, got, "the feed's %s", what)
	require.Equal(t, string(want.Data), string(got.Data), what)
	wantErrs, err := json.Marshal(want.Errors)
	require.NoError(t, err)
	gotErrs, err := json.Marshal(got.Errors)
	require.NoError(t, err)
	require.JSONEq(t, string(wantErrs), string(gotErrs), what)
}

// TestStatusFeedEventsMissedAsGqlgen: the notice that events may have been
// missed (here, more were published at once than the bus may hold) is the
// same error event both ways, and the events after it go on.
func TestStatusFeedEventsMissedAsGqlgen(t *testing.T) {
	ways := newBothWays(t, event.Config{MaxPending: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc := ways.operation(t, `subscription { messageStatusChanged(mailingID: 1) { messageID status } }`, nil)
	viaGqlgen, direct := ways.subscribe(ctx, rc)
	changes := make([]campaign.StatusChange, 11)
	for i := range changes {
		changes[i] = campaign.StatusChange{MessageID: i + 1, MailingID: 1, Status: status.Sent, At: time.Now()}
	}
	ways.bus.MessagesChanged(ctx, changes) // more than MaxPending: lost
	ways.bus.MessagesChanged(ctx, changes[:1])
	for _, what := range []string{"the notice", "the event after it"} {
		want, got := viaGqlgen(), direct()
		requireSameResponse(t, want, got, what)
		if what == "the notice" {
			require.Equal(t, live.CodeEventsMissed, got.Errors[0].Extensions["code"])
		}
	}
}
