package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/notifyhq/notify/internal/campaign"
)

// CSV exports (README, "Importing and exporting clients"), for viewers and
// up: GET /clients/export.csv with the filters of GET /clients/ (tag,
// operator_code), and GET /mailings/{id}/messages.csv. Rows stream as they
// are read; an error after the first byte cuts the response off (the
// client sees an incomplete transfer, never a short file that looks whole).

// exportClients is GET /clients/export.csv.
func (a *API) exportClients(w http.ResponseWriter, r *http.Request) {
	if err := textParams(r, "tag", "operator_code"); err != nil {
		a.writeError(w, r, err)
		return
	}
	var f campaign.ClientExportFilter
	if tag, ok := queryValue(r, "tag"); ok {
		f.Tag = &tag
	}
	if code, ok := queryValue(r, "operator_code"); ok {
		f.OperatorCode = &code
	}
	a.stream(w, r, "clients.csv", func(ctx context.Context, sw *startedWriter) error {
		_, err := a.service.ExportClients(ctx, sw, sw, f)
		return err
	})
}

// exportMessages is GET /mailings/{id}/messages.csv.
func (a *API) exportMessages(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.stream(w, r, "messages.csv", func(ctx context.Context, sw *startedWriter) error {
		_, err := a.service.ExportMessages(ctx, sw, sw, id)
		return err
	})
}

// startedWriter sends the CSV headers before its first write, so that an
// error before any row (a mailing that does not exist) is still answered
// as an error.
type startedWriter struct {
	w        http.ResponseWriter
	filename string
	started  bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		h := s.w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+s.filename+`"`)
		h.Set("Cache-Control", "no-store")
		s.w.WriteHeader(http.StatusOK)
	}
	return s.w.Write(p)
}

// Flush sends what is written so far.
func (s *startedWriter) Flush() {
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

// stream runs an export into w. An export outlives the request deadline
// (OPERATION_TIMEOUT): it runs for as long as its client reads, each page
// one short query under the API pool's statement timeout, and stops when
// the client goes away.
func (a *API) stream(w http.ResponseWriter, r *http.Request, filename string, export func(context.Context, *startedWriter) error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	stop := context.AfterFunc(r.Context(), func() {
		if !errors.Is(r.Context().Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	defer stop()
	sw := &startedWriter{w: w, filename: filename}
	err := export(ctx, sw)
	switch {
	case err == nil:
	case !sw.started:
		a.writeError(w, r, err)
	default:
		if !errors.Is(err, context.Canceled) {
			a.logger.WarnContext(r.Context(), "export cut off", "path", r.URL.Path, "error", err)
		}
		panic(http.ErrAbortHandler)
	}
}
