package event

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/status"
)

// maxPayload keeps each NOTIFY payload under Postgres's limit (an 8000-byte
// payload fails, 7999 passes, measured on Postgres 15), with room to spare.
const maxPayload = 7900

// The payload format, version 1: a header line "v1", then one record per
// line, fields separated by spaces, ids only (subscribers load the rest):
//
//	c <message id> <mailing id> <client id or -> <status> <attempts> <at, Unix ns>
//	m <mailing id>     counts of the mailing may have changed
//	r                  events before this one may have been missed
//	t <Unix ns or ->   the commit time of the changes that follow (- unknown)
//
// A decoder skips record types it does not know: instances that predate
// "t" read the changes without their commit time.
//
// About 55 bytes a change: some 140 changes per NOTIFY (a "t" record adds
// about 21 bytes per publication, and a publication is usually a batch).
const header = "v1"

// encode splits a batch into payloads of at most limit bytes, keeping its
// order: the reset first, then the changes, then the mailings. Each payload
// states the commit time of its changes before the first of them and
// wherever it changes.
func encode(bt batch, limit int) []string {
	var (
		out     []string
		sb      strings.Builder
		rec, tr []byte
		stated  time.Time // the commit time the current payload stated last
	)
	flush := func() {
		out = append(out, sb.String())
		sb.Reset()
	}
	write := func(r []byte) {
		if sb.Len() == 0 {
			sb.WriteString(header)
		}
		sb.WriteByte('\n')
		sb.Write(r)
	}
	// add adds a record; a change's carries its commit time (zero when
	// unknown), other records nil.
	add := func(r []byte, committed *time.Time) {
		state := committed != nil && (sb.Len() == 0 || !committed.Equal(stated))
		need := 1 + len(r)
		if committed != nil {
			if committed.IsZero() {
				tr = append(tr[:0], "t -"...)
			} else {
				tr = strconv.AppendInt(append(tr[:0], "t "...), committed.UnixNano(), 10)
			}
			if state {
				need += 1 + len(tr)
			}
		}
		if sb.Len() > 0 && sb.Len()+need > limit {
			flush()
			state = committed != nil // a new payload states it again
		}
		if state {
			write(tr)
			stated = *committed
		}
		write(r)
	}
	if bt.reset {
		add([]byte("r"), nil)
	}
	for _, c := range bt.changes {
		rec = append(rec[:0], "c "...)
		rec = strconv.AppendInt(rec, int64(c.MessageID), 10)
		rec = append(rec, ' ')
		rec = strconv.AppendInt(rec, int64(c.MailingID), 10)
		rec = append(rec, ' ')
		if c.ClientID != nil {
			rec = strconv.AppendInt(rec, int64(*c.ClientID), 10)
		} else {
			rec = append(rec, '-')
		}
		rec = append(rec, ' ')
		rec = append(rec, c.Status...)
		rec = append(rec, ' ')
		rec = strconv.AppendInt(rec, int64(c.Attempts), 10)
		rec = append(rec, ' ')
		rec = strconv.AppendInt(rec, c.At.UnixNano(), 10)
		add(rec, &c.CommittedAt)
	}
	for _, id := range bt.mailings {
		rec = strconv.AppendInt(append(rec[:0], "m "...), int64(id), 10)
		add(rec, nil)
	}
	if sb.Len() > 0 {
		out = append(out, sb.String())
	}
	return out
}

// decode reads one payload written by encode.
func decode(payload string) (batch, error) {
	lines := strings.Split(payload, "\n")
	if lines[0] != header {
		return batch{}, fmt.Errorf("unknown payload version %q", lines[0])
	}
	var (
		bt        batch
		committed time.Time
	)
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "r":
			bt.reset = true
		case "m":
			if len(f) != 2 {
				return batch{}, fmt.Errorf("malformed mailing record %q", line)
			}
			id, err := strconv.Atoi(f[1])
			if err != nil {
				return batch{}, fmt.Errorf("malformed mailing record %q: %w", line, err)
			}
			bt.mailings = append(bt.mailings, id)
		case "t":
			if len(f) != 2 {
				return batch{}, fmt.Errorf("malformed commit time record %q", line)
			}
			committed = time.Time{}
			if f[1] != "-" {
				ns, err := strconv.ParseInt(f[1], 10, 64)
				if err != nil {
					return batch{}, fmt.Errorf("malformed commit time record %q: %w", line, err)
				}
				committed = time.Unix(0, ns).UTC()
			}
		case "c":
			c, err := decodeChange(f)
			if err != nil {
				return batch{}, fmt.Errorf("malformed change record %q: %w", line, err)
			}
			c.CommittedAt = committed
			bt.changes = append(bt.changes, c)
		default:
			// A record type from a newer version: skip it.
		}
	}
	return bt, nil
}

func decodeChange(f []string) (campaign.StatusChange, error) {
	if len(f) != 7 {
		return campaign.StatusChange{}, errors.New("want 7 fields")
	}
	var (
		c    campaign.StatusChange
		errs []error
		atoi = func(s string) int {
			n, err := strconv.Atoi(s)
			errs = append(errs, err)
			return n
		}
	)
	c.MessageID = atoi(f[1])
	c.MailingID = atoi(f[2])
	if f[3] != "-" {
		id := atoi(f[3])
		c.ClientID = &id
	}
	c.Status = status.Message(f[4])
	c.Attempts = atoi(f[5])
	ns, err := strconv.ParseInt(f[6], 10, 64)
	errs = append(errs, err)
	c.At = time.Unix(0, ns).UTC()
	return c, errors.Join(errs...)
}
