package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/mailing"
	"github.com/notifyhq/notify/internal/status"
)

// StatusCount is how many messages have one status.
type StatusCount struct {
	Status status.Message
	Count  int
}

// MailingStats are the counts of one mailing's messages.
type MailingStats struct {
	MailingID int
	Status    status.Mailing
	// Total is the number of messages (recipients) of the mailing.
	Total int
	// ByStatus lists every message status in enum order, zeros included.
	ByStatus []StatusCount
	// Rate is the messages finished per second over the last RateWindow,
	// nil until the counts have been watched long enough; ETA is when the
	// unsent ones should be done at that rate, nil when unknown, paused or
	// finished (rate.go).
	Rate *float64
	ETA  *time.Time
}

// GeneralStatistics are the counts over a set of mailings: all of them, or
// those of a report.
type GeneralStatistics struct {
	Mailings int
	Messages int
	ByStatus []StatusCount
	// PerMailing, when set, lists the statistics of exactly the mailings
	// counted (a report's); when nil, perMailing lists the most recent
	// mailings of the service.
	PerMailing []*MailingStats
}

// DefaultRecentMailings is how many mailings statistics list by default.
const DefaultRecentMailings = 100

// counts turns a status → count map into the full, ordered list and its total.
func counts(m map[status.Message]int) ([]StatusCount, int) {
	out := make([]StatusCount, len(status.Messages))
	total := 0
	for i, s := range status.Messages {
		out[i] = StatusCount{Status: s, Count: m[s]}
		total += m[s]
	}
	return out, total
}

// generalCounts reads the number of mailings (the row without a status)
// and the messages by status, in one round trip.
const generalCounts = `
SELECT NULL, count(*) FROM mailings
UNION ALL
SELECT status, CAST(sum(count) AS bigint) FROM message_counts GROUP BY status`

// GeneralStatistics counts mailings and messages by status. Messages are
// counted from message_counts, which triggers keep per (mailing, status), so
// the cost grows with the number of mailings, not of messages. One query:
// the endpoint is polled by dashboards, also while a fan-out keeps the
// machine busy.
func (s *Service) GeneralStatistics(ctx context.Context) (*GeneralStatistics, error) {
	rows, err := s.db.SQL.QueryContext(ctx, generalCounts)
	if err != nil {
		return nil, fmt.Errorf("error counting messages by status: %w", err)
	}
	defer rows.Close()
	var mailings int
	m := map[status.Message]int{}
	for rows.Next() {
		var (
			st sql.NullString
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("error counting messages by status: %w", err)
		}
		if st.Valid {
			m[status.Message(st.String)] = n
		} else {
			mailings = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("error counting messages by status: %w", err)
	}
	byStatus, total := counts(m)
	return &GeneralStatistics{Mailings: mailings, Messages: total, ByStatus: byStatus}, nil
}

// RecentMailingStats returns the statistics of the limit most recent
// mailings, newest first, with one aggregate query. limit must be 1–1000.
func (s *Service) RecentMailingStats(ctx context.Context, limit int) ([]*MailingStats, error) {
	if limit < 1 || limit > 1000 {
		return nil, invalid("limit", "must be between 1 and 1000")
	}
	ids, err := s.db.Ent.Mailing.Query().Order(ent.Desc(mailing.FieldID)).Limit(limit).IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("error listing recent mailings: %w", err)
	}
	return s.MailingStatsOf(ctx, ids)
}

// MailingStats returns the statistics of one mailing. Returns ErrNotFound.
func (s *Service) MailingStats(ctx context.Context, id int) (*MailingStats, error) {
	stats, err := s.MailingStatsOf(ctx, []int{id})
	if err != nil {
		return nil, err
	}
	if stats[0] == nil {
		return nil, notFound("mailing", id)
	}
	return stats[0], nil
}

// MailingStatsOf returns the statistics of the mailings ids, in the same
// order (nil for an unknown id), with two small queries whatever their number.
func (s *Service) MailingStatsOf(ctx context.Context, ids []int) ([]*MailingStats, error) {
	mailings, err := s.db.Ent.Mailing.Query().
		Where(mailing.IDIn(ids...)).
		Select(mailing.FieldID, mailing.FieldStatus).
		WithMessageCounts().
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("error loading mailings and their message counts: %w", err)
	}
	byID := make(map[int]*MailingStats, len(mailings))
	for _, m := range mailings {
		n := make(map[status.Message]int, len(m.Edges.MessageCounts))
		for _, c := range m.Edges.MessageCounts {
			n[c.Status] = int(c.Count)
		}
		byStatus, total := counts(n)
		byID[m.ID] = &MailingStats{MailingID: m.ID, Status: m.Status, Total: total, ByStatus: byStatus}
		s.rates.observe(byID[m.ID])
	}
	out := make([]*MailingStats, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}
