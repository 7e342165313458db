package sendwindow

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrInvalidZone is wrapped by every error LoadZone returns.
var ErrInvalidZone = errors.New("invalid time zone")

// zoneCache maps zone names to loaded *time.Location values. It is package-level
// because LoadZone runs per message at high rates and time.LoadLocation reads and
// parses tz data on every call; a process-wide cache is safe because a Location is
// immutable, and it stays small because only names that load are stored, which the
// tz database bounds to a few hundred.
var zoneCache sync.Map // string -> *time.Location

// LoadZone returns the location for an IANA time zone name such as "Europe/Moscow"
// or "UTC". Results are cached, so it is cheap to call per message.
//
// Returns an error wrapping ErrInvalidZone for "", "Local" and "localtime" (which mean
// the host's zone, not the client's), for names with leading or trailing white space,
// and for any name time.LoadLocation rejects.
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zoneCache.Load(name); ok {
		return loc.(*time.Location), nil
	}
	switch {
	case name == "":
		return nil, fmt.Errorf("%w: empty name", ErrInvalidZone)
	case name == "Local" || name == "localtime":
		return nil, fmt.Errorf("%w: %q is the host's zone, not an IANA zone name", ErrInvalidZone, name)
	case strings.TrimSpace(name) != name:
		return nil, fmt.Errorf("%w: %q has leading or trailing white space", ErrInvalidZone, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: error loading %q: %w", ErrInvalidZone, name, err)
	}
	actual, _ := zoneCache.LoadOrStore(name, loc)
	return actual.(*time.Location), nil
}
