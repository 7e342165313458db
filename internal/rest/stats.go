package rest

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/message"
	"github.com/notifyhq/notify/internal/campaign"
	"github.com/notifyhq/notify/internal/status"
)

// byStatus is the counts of messages per status. It marshals as an object
// with every status as a key, zeros included, in enum order.
type byStatus []campaign.StatusCount

// MarshalJSON implements json.Marshaler.
func (b byStatus) MarshalJSON() ([]byte, error) {
	counts := make(map[status.Message]int, len(b))
	for _, c := range b {
		counts[c.Status] = c.Count
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, s := range status.Messages {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.Quote(string(s)))
		buf.WriteByte(':')
		buf.WriteString(strconv.Itoa(counts[s]))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// mailingStats are the counts of one mailing in general_statistics.
type mailingStats struct {
	MailingID int            `json:"mailing_id"`
	Status    status.Mailing `json:"status"`
	Total     int            `json:"total"`
	ByStatus  byStatus       `json:"by_status"`
}

// generalStatistics is the body of GET /mailings/general_statistics/.
type generalStatistics struct {
	Mailings   int            `json:"mailings"`
	Messages   int            `json:"messages"`
	ByStatus   byStatus       `json:"by_status"`
	PerMailing []mailingStats `json:"per_mailing"`
}

// detailStatistics is the body of GET /mailings/{id}/detail_statistics/.
type detailStatistics struct {
	Mailing  mailingJSON        `json:"mailing"`
	Total    int                `json:"total"`
	ByStatus byStatus           `json:"by_status"`
	Messages *page[messageJSON] `json:"messages"`
}

// messageJSON is a message in detail_statistics; id is the msgId the
// sending API saw, client_id is null once the client is deleted.
type messageJSON struct {
	ID        int            `json:"id"`
	ClientID  *int           `json:"client_id"`
	Phone     string         `json:"phone"`
	Status    status.Message `json:"status"`
	CreatedAt time.Time      `json:"created_at"`
	SentAt    *time.Time     `json:"sent_at"`
	Attempts  int            `json:"attempts"`
	LastError *string        `json:"last_error"`
}

func messageOut(m *ent.Message) messageJSON {
	return messageJSON{
		ID:        m.ID,
		ClientID:  m.CustomerID,
		Phone:     m.Phone,
		Status:    m.Status,
		CreatedAt: m.CreatedAt.UTC(),
		SentAt:    utc(m.SentAt),
		Attempts:  m.Attempts,
		LastError: m.LastError,
	}
}

// generalStatistics is GET /mailings/general_statistics/: the counts over
// all mailings and those of the limit most recent ones (default 100).
func (a *API) generalStatistics(r *http.Request) (int, any, error) {
	limit := campaign.DefaultRecentMailings
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, nil, queryError("limit", "A valid integer is required.")
		}
		limit = n
	}
	ctx := r.Context()
	general, err := a.service.GeneralStatistics(ctx)
	if err != nil {
		return 0, nil, err
	}
	recent, err := a.service.RecentMailingStats(ctx, limit)
	if err != nil {
		return 0, nil, err
	}
	out := generalStatistics{
		Mailings:   general.Mailings,
		Messages:   general.Messages,
		ByStatus:   general.ByStatus,
		PerMailing: make([]mailingStats, len(recent)),
	}
	for i, s := range recent {
		out.PerMailing[i] = mailingStats{MailingID: s.MailingID, Status: s.Status, Total: s.Total, ByStatus: s.ByStatus}
	}
	return http.StatusOK, out, nil
}

// detailStatistics is GET /mailings/{id}/detail_statistics/: the mailing,
// its counts and a page of its messages by id, filtered by status.
func (a *API) detailStatistics(r *http.Request) (int, any, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	q := a.ent.Message.Query().Where(message.MailingID(id))
	st, ok, err := choice(r, "status", status.Messages)
	if err != nil {
		return 0, nil, err
	}
	if ok {
		q.Where(message.StatusEQ(st))
	}
	ctx := r.Context()
	m, err := a.service.Mailing(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	stats, err := a.service.MailingStats(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	messages, err := paginate(r, q.Order(ent.Asc(message.FieldID)), messageOut)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, detailStatistics{
		Mailing:  mailingOut(ctx, m),
		Total:    stats.Total,
		ByStatus: stats.ByStatus,
		Messages: messages,
	}, nil
}
