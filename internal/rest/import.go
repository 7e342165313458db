package rest

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/notifyhq/notify/ent"
	"github.com/notifyhq/notify/ent/clientimport"
	"github.com/notifyhq/notify/internal/auth"
	"github.com/notifyhq/notify/internal/campaign"
)

// CSV import of clients (README, "Importing and exporting clients"):
// POST /clients/import/ takes the file itself as the body (text/csv), up to
// campaign.MaxImportBytes, whatever MAX_BODY_BYTES says; GET
// /clients/import/{id}/ follows an import. Both are for operators and up.

// importResult is the answer of an import of at most
// campaign.SyncImportLines lines that imported something (201).
type importResult struct {
	ImportID   int                        `json:"import_id"`
	Imported   int                        `json:"imported"`
	Skipped    int                        `json:"skipped"`
	ErrorCount int                        `json:"error_count"`
	Errors     []campaign.ImportLineError `json:"errors"`
}

// importRefused is the answer of an import that imported nothing (400).
type importRefused struct {
	ImportID   int                        `json:"import_id"`
	ErrorCount int                        `json:"error_count"`
	Errors     []campaign.ImportLineError `json:"errors"`
}

// importQueued is the answer of an import left to a job (202).
type importQueued struct {
	ImportID int `json:"import_id"`
}

// importOut is an import as GET /clients/import/{id}/ shows it.
type importOut struct {
	ID          int                        `json:"id"`
	State       string                     `json:"state"`
	Mode        string                     `json:"mode"`
	SkipInvalid bool                       `json:"skip_invalid"`
	Lines       int                        `json:"lines"`
	Imported    int                        `json:"imported"`
	Skipped     int                        `json:"skipped"`
	ErrorCount  int                        `json:"error_count"`
	Errors      []campaign.ImportLineError `json:"errors"`
	CreatedAt   time.Time                  `json:"created_at"`
	StartedAt   *time.Time                 `json:"started_at"`
	FinishedAt  *time.Time                 `json:"finished_at"`
	UpdatedAt   time.Time                  `json:"updated_at"`
}

func importOf(imp *ent.ClientImport) importOut {
	return importOut{
		ID:          imp.ID,
		State:       string(imp.State),
		Mode:        string(imp.Mode),
		SkipInvalid: imp.SkipInvalid,
		Lines:       imp.Lines,
		Imported:    imp.Imported,
		Skipped:     imp.Skipped,
		ErrorCount:  imp.ErrorCount,
		Errors:      campaign.ImportErrors(imp),
		CreatedAt:   imp.CreatedAt.UTC(),
		StartedAt:   utc(imp.StartedAt),
		FinishedAt:  utc(imp.FinishedAt),
		UpdatedAt:   imp.UpdatedAt.UTC(),
	}
}

// handleStream registers h for pattern as handle does (with and without the
// trailing slash when it has one), without the JSON body handling: h reads
// and writes the body itself.
func (a *API) handleStream(pattern string, h http.HandlerFunc) {
	a.patterns = append(a.patterns, pattern)
	if a.served == nil {
		a.served = map[string]bool{}
	}
	ps := []string{pattern}
	if strings.HasSuffix(pattern, "/") {
		ps = []string{pattern + "{$}", strings.TrimSuffix(pattern, "/")}
	}
	for _, p := range ps {
		a.served[p] = true
		a.mux.HandleFunc(p, h)
	}
}

// operatorOnly answers 403 when the caller's role is below operator (a
// viewer reading an import). Without auth every caller passes.
func operatorOnly(r *http.Request) (int, any, bool) {
	if p := auth.PrincipalFrom(r.Context()); p != nil && !p.Can(auth.Operator) {
		return http.StatusForbidden, detail{"You do not have permission to perform this action."}, false
	}
	return 0, nil, true
}

// importClients is POST /clients/import/?mode=insert|upsert&skip_invalid=true.
// With an Idempotency-Key the file is spooled (and hashed) first, then the
// key claimed: it covers the options and the file's content.
func (a *API) importClients(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "text/csv" {
		a.writeError(w, r, &mediaTypeError{mediaType: r.Header.Get("Content-Type")})
		return
	}
	if r.ContentLength > campaign.MaxImportBytes {
		a.write(w, r, http.StatusRequestEntityTooLarge, detail{campaign.ErrImportTooLarge.Error() + "."})
		return
	}
	opts, err := importOptions(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	answer := func(imp *ent.ClientImport, err error) (int, any, error) {
		if status, body, ok := a.spoolFailure(w, err); ok {
			return status, body, nil
		}
		if err != nil {
			return 0, nil, err
		}
		switch imp.State {
		case clientimport.StateFinished:
			return http.StatusCreated, importResult{ImportID: imp.ID, Imported: imp.Imported, Skipped: imp.Skipped, ErrorCount: imp.ErrorCount, Errors: campaign.ImportErrors(imp)}, nil
		case clientimport.StateFailed:
			return http.StatusBadRequest, importRefused{ImportID: imp.ID, ErrorCount: imp.ErrorCount, Errors: campaign.ImportErrors(imp)}, nil
		}
		w.Header().Set("Location", fmt.Sprintf("/clients/import/%d/", imp.ID))
		return http.StatusAccepted, importQueued{ImportID: imp.ID}, nil
	}
	reply := func(status int, body any, err error) {
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.write(w, r, status, body)
	}
	if r.Header.Get(idempotencyHeader) == "" {
		reply(answer(a.service.ImportClients(r.Context(), r.Body, opts)))
		return
	}
	file, err := campaign.SpoolImport(r.Body)
	if err != nil {
		reply(answer(nil, err))
		return
	}
	defer file.Remove() // unless the import took it
	hash := campaign.RequestHash([]byte(r.Method), []byte("/clients/import"), []byte(opts.Mode), []byte(strconv.FormatBool(opts.SkipInvalid)), file.SHA256)
	a.once(w, r, hash, func() (int, any, error) {
		return answer(a.service.ImportSpooled(r.Context(), file, opts))
	})
}

// spoolFailure maps the errors of taking an import's file that are the
// caller's: 413 for a file over campaign.MaxImportBytes (the connection
// closed: the rest of the body is not read), 400 for an upload that broke
// off. Any other error (writing the spool file, the database) is not
// mapped here: writeError answers 500.
func (a *API) spoolFailure(w http.ResponseWriter, err error) (int, any, bool) {
	switch {
	case errors.Is(err, campaign.ErrImportTooLarge):
		w.Header().Set("Connection", "close")
		return http.StatusRequestEntityTooLarge, detail{err.Error() + "."}, true
	case errors.Is(err, campaign.ErrImportUnreadable):
		return http.StatusBadRequest, detail{err.Error() + "."}, true
	}
	return 0, nil, false
}

// importOptions reads mode and skip_invalid.
func importOptions(r *http.Request) (campaign.ImportOptions, error) {
	mode, _, err := choice(r, "mode", []campaign.ImportMode{campaign.ImportInsert, campaign.ImportUpsert})
	if err != nil {
		return campaign.ImportOptions{}, err
	}
	opts := campaign.ImportOptions{Mode: mode}
	if v, ok := queryValue(r, "skip_invalid"); ok {
		switch strings.ToLower(v) {
		case "true", "1":
			opts.SkipInvalid = true
		case "false", "0":
		default:
			return opts, queryError("skip_invalid", "Must be true or false.")
		}
	}
	return opts, nil
}

// getImport is GET /clients/import/{id}/.
func (a *API) getImport(r *http.Request) (int, any, error) {
	if status, body, ok := operatorOnly(r); !ok {
		return status, body, nil
	}
	return byID(r, a.service.ClientImport, importOf)
}
