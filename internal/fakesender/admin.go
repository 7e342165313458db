package fakesender

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// FaultsJSON is the JSON form of Faults used by GET and POST /admin/faults.
// Durations are Go duration strings ("250ms"). In a POST, an omitted field is
// unchanged, so {"outage": true} starts an open-ended outage and {"outage": false}
// ends it.
type FaultsJSON struct {
	LatencyMin    *Duration `json:"latency_min,omitempty"`
	LatencyMax    *Duration `json:"latency_max,omitempty"`
	LatencyMean   *Duration `json:"latency_mean,omitempty"`
	LatencyStddev *Duration `json:"latency_stddev,omitempty"`
	ErrorRate     *float64  `json:"error_rate,omitempty"`
	HangRate      *float64  `json:"hang_rate,omitempty"`
	MaxHang       *Duration `json:"max_hang,omitempty"`
	MalformedRate *float64  `json:"malformed_rate,omitempty"`
	TooManyRate   *float64  `json:"too_many_rate,omitempty"`
	RetryAfter    *Duration `json:"retry_after,omitempty"`
	RejectRate    *float64  `json:"reject_rate,omitempty"`
	Outage        *bool     `json:"outage,omitempty"`
	Outages       *[]Outage `json:"outages,omitempty"`
	OutageDrop    *bool     `json:"outage_drop,omitempty"`
	// Seed is reported by GET and ignored in a POST: the seed is fixed at start.
	Seed *int64 `json:"seed,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as a Go duration string.
type Duration time.Duration

// MarshalJSON writes d as a duration string such as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "1.5s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("error reading duration: want a string such as \"250ms\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("error reading duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}

func faultsToJSON(f Faults, seed int64) FaultsJSON {
	outages := f.Outages
	if outages == nil {
		outages = []Outage{}
	}
	return FaultsJSON{
		LatencyMin:    new(Duration(f.LatencyMin)),
		LatencyMax:    new(Duration(f.LatencyMax)),
		LatencyMean:   new(Duration(f.LatencyMean)),
		LatencyStddev: new(Duration(f.LatencyStddev)),
		ErrorRate:     new(f.ErrorRate),
		HangRate:      new(f.HangRate),
		MaxHang:       new(Duration(f.MaxHang)),
		MalformedRate: new(f.MalformedRate),
		TooManyRate:   new(f.TooManyRate),
		RetryAfter:    new(Duration(f.RetryAfter)),
		RejectRate:    new(f.RejectRate),
		Outage:        new(f.Outage),
		Outages:       &outages,
		OutageDrop:    new(f.OutageDrop),
		Seed:          new(seed),
	}
}

// apply copies the fields set in p onto f.
func (p FaultsJSON) apply(f *Faults) {
	setDuration := func(dst *time.Duration, src *Duration) {
		if src != nil {
			*dst = time.Duration(*src)
		}
	}
	setDuration(&f.LatencyMin, p.LatencyMin)
	setDuration(&f.LatencyMax, p.LatencyMax)
	setDuration(&f.LatencyMean, p.LatencyMean)
	setDuration(&f.LatencyStddev, p.LatencyStddev)
	setDuration(&f.MaxHang, p.MaxHang)
	setDuration(&f.RetryAfter, p.RetryAfter)
	for _, r := range []struct {
		dst *float64
		src *float64
	}{
		{&f.ErrorRate, p.ErrorRate},
		{&f.HangRate, p.HangRate},
		{&f.MalformedRate, p.MalformedRate},
		{&f.TooManyRate, p.TooManyRate},
		{&f.RejectRate, p.RejectRate},
	} {
		if r.src != nil {
			*r.dst = *r.src
		}
	}
	if p.Outage != nil {
		f.Outage = *p.Outage
	}
	if p.Outages != nil {
		f.Outages = *p.Outages
	}
	if p.OutageDrop != nil {
		f.OutageDrop = *p.OutageDrop
	}
}

// adminError is the JSON answer of a rejected admin request.
type adminError struct {
	Error string `json:"error"`
}

// handleStats serves GET /admin/stats[?since=RFC3339Nano][&messages=false].
func (f *Fake) handleStats(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if s := r.URL.Query().Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, adminError{Error: fmt.Sprintf("since must be an RFC 3339 time, got %q", s)})
			return
		}
		since = t
	}
	withMessages := true
	if s := r.URL.Query().Get("messages"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, adminError{Error: fmt.Sprintf("messages must be true or false, got %q", s)})
			return
		}
		withMessages = b
	}
	writeJSON(w, http.StatusOK, f.rec.snapshot(since, withMessages))
}

// handleReset serves POST /admin/reset.
func (f *Fake) handleReset(w http.ResponseWriter, _ *http.Request) {
	f.Reset()
	f.logger.Info("fake sender statistics reset")
	w.WriteHeader(http.StatusNoContent)
}

// handleGetFaults serves GET /admin/faults.
func (f *Fake) handleGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, faultsToJSON(f.Faults(), f.Seed()))
}

// handlePostFaults serves POST /admin/faults: a partial update, answered with the
// resulting faults.
func (f *Fake) handlePostFaults(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	var patch FaultsJSON
	if err := dec.Decode(&patch); err != nil {
		writeJSON(w, http.StatusBadRequest, adminError{Error: fmt.Sprintf("error reading faults: %v", err)})
		return
	}
	if err := f.UpdateFaults(patch.apply); err != nil {
		writeJSON(w, http.StatusBadRequest, adminError{Error: err.Error()})
		return
	}
	cur := f.Faults()
	f.logger.Info("fake sender faults updated",
		slog.Float64("error_rate", cur.ErrorRate), slog.Float64("hang_rate", cur.HangRate),
		slog.Float64("malformed_rate", cur.MalformedRate), slog.Float64("too_many_rate", cur.TooManyRate),
		slog.Float64("reject_rate", cur.RejectRate), slog.Bool("outage", cur.Outage),
		slog.Int("outage_windows", len(cur.Outages)))
	writeJSON(w, http.StatusOK, faultsToJSON(cur, f.Seed()))
}
