package fakesender

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Defaults applied to zero-valued settings.
const (
	// DefaultRetryAfter is the Retry-After a 429 answer carries when Faults.RetryAfter
	// is zero.
	DefaultRetryAfter = time.Second

	// DefaultMaxHang caps how long a hung request is held when Faults.MaxHang is zero:
	// long enough to outlast any sane client timeout (the service's default is 10 s),
	// short enough that a forgotten client cannot pin a goroutine for ever.
	DefaultMaxHang = time.Minute
)

// rateSumSlack absorbs float rounding when rates such as 0.1+0.2+0.7 are summed.
const rateSumSlack = 1e-9

// Config configures a Fake. The zero value is a perfectly behaved, instant fake
// that accepts any bearer token.
type Config struct {
	// Token is the bearer token requests must carry. If empty, any non-empty bearer
	// token is accepted, but the Authorization header must still be present.
	Token string

	// Faults is the initial fault configuration; it can be changed at run time with
	// Fake.SetFaults, Fake.UpdateFaults, Fake.SetOutage or POST /admin/faults.
	Faults

	// Seed makes the fault dice and latencies reproducible: with the same seed, the
	// k-th request for a given msgId always gets the same outcome and latency, in
	// whatever order requests arrive. Zero picks a random seed.
	Seed int64

	// NowFunc is the clock used for outage windows and statistics timestamps.
	// Defaults to time.Now.
	NowFunc func() time.Time

	// Logger receives the fake's own (rare) log lines: admin changes and serving
	// errors, never one line per request. Defaults to discarding.
	Logger *slog.Logger
}

// Validate reports the first invalid setting of c, naming the field.
func (c Config) Validate() error {
	return c.Faults.Validate()
}

// Faults is the part of the configuration that can change at run time. Dice are
// rolled once per valid, authorized request outside an outage; each rate is the
// probability of its outcome, checked in the order hang, error, too-many,
// malformed, reject, so the rates must sum to at most 1.
type Faults struct {
	// LatencyMin and LatencyMax give a uniform latency in [LatencyMin, LatencyMax];
	// with LatencyMax <= LatencyMin the latency is a fixed LatencyMin.
	LatencyMin, LatencyMax time.Duration

	// LatencyMean and LatencyStddev, when LatencyMean > 0, replace the uniform
	// latency with a normal one, clipped at zero.
	LatencyMean, LatencyStddev time.Duration

	// ErrorRate is the rate of 5xx answers, chosen at random among 500, 502 and 503.
	ErrorRate float64

	// HangRate is the rate of requests that get no answer: the handler holds the
	// request until the client gives up (or MaxHang passes, or the Fake is closed)
	// and then drops the connection.
	HangRate float64

	// MaxHang caps a hang. Defaults to DefaultMaxHang.
	MaxHang time.Duration

	// MalformedRate is the rate of 200 answers whose body is wrong: half of them are
	// garbage (not JSON, or truncated JSON), half are JSON with a non-zero code 7.
	MalformedRate float64

	// TooManyRate is the rate of 429 answers carrying Retry-After.
	TooManyRate float64

	// RetryAfter is the Retry-After of 429 answers, rounded up to whole seconds.
	// Zero means DefaultRetryAfter; a negative value omits the header.
	RetryAfter time.Duration

	// RejectRate is the rate of permanent 400 rejections with a JSON reason.
	RejectRate float64

	// Outage, when true, is an open-ended outage that started when it was set.
	Outage bool

	// Outages are windows during which the fake is down.
	Outages []Outage

	// OutageDrop makes an outage drop connections without an answer instead of
	// answering 503.
	OutageDrop bool
}

// Outage is a window [From, To) during which the fake is down. A zero From means
// since for ever; a zero To means open-ended.
type Outage struct {
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// Contains reports whether t lies in the window [From, To).
func (o Outage) Contains(t time.Time) bool {
	return (o.From.IsZero() || !t.Before(o.From)) && (o.To.IsZero() || t.Before(o.To))
}

// Validate reports the first invalid setting of f, naming the field.
func (f Faults) Validate() error {
	rates := []struct {
		name string
		v    float64
	}{
		{"HangRate", f.HangRate},
		{"ErrorRate", f.ErrorRate},
		{"TooManyRate", f.TooManyRate},
		{"MalformedRate", f.MalformedRate},
		{"RejectRate", f.RejectRate},
	}
	sum := 0.0
	for _, r := range rates {
		if math.IsNaN(r.v) || r.v < 0 || r.v > 1 {
			return fmt.Errorf("%s must be between 0 and 1, got %v", r.name, r.v)
		}
		sum += r.v
	}
	if sum > 1+rateSumSlack {
		return fmt.Errorf("fault rates (HangRate+ErrorRate+TooManyRate+MalformedRate+RejectRate) must sum to at most 1, got %v", sum)
	}
	durations := []struct {
		name string
		v    time.Duration
	}{
		{"LatencyMin", f.LatencyMin},
		{"LatencyMax", f.LatencyMax},
		{"LatencyMean", f.LatencyMean},
		{"LatencyStddev", f.LatencyStddev},
		{"MaxHang", f.MaxHang},
	}
	for _, d := range durations {
		if d.v < 0 {
			return fmt.Errorf("%s must not be negative, got %v", d.name, d.v)
		}
	}
	if f.LatencyMax != 0 && f.LatencyMax < f.LatencyMin {
		return fmt.Errorf("LatencyMax (%v) must not be less than LatencyMin (%v)", f.LatencyMax, f.LatencyMin)
	}
	for i, o := range f.Outages {
		if !o.From.IsZero() && !o.To.IsZero() && !o.To.After(o.From) {
			return fmt.Errorf("outage %d: to (%v) must be after from (%v)", i, o.To, o.From)
		}
	}
	return nil
}

// withDefaults returns f with zero-valued settings replaced by their defaults.
func (f Faults) withDefaults() Faults {
	if f.MaxHang == 0 {
		f.MaxHang = DefaultMaxHang
	}
	if f.RetryAfter == 0 {
		f.RetryAfter = DefaultRetryAfter
	}
	return f
}

// inOutage reports whether the fake is down at t.
func (f *Faults) inOutage(t time.Time) bool {
	if f.Outage {
		return true
	}
	for _, o := range f.Outages {
		if o.Contains(t) {
			return true
		}
	}
	return false
}

// latency draws this request's latency.
func (f *Faults) latency(u01 func() float64, norm func() float64) time.Duration {
	switch {
	case f.LatencyMean > 0:
		d := float64(f.LatencyMean) + norm()*float64(f.LatencyStddev)
		return time.Duration(max(d, 0))
	case f.LatencyMax > f.LatencyMin:
		return f.LatencyMin + time.Duration(u01()*float64(f.LatencyMax-f.LatencyMin))
	default:
		return f.LatencyMin
	}
}
