package rest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
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

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
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
		StartedAt:   utcPtr(imp.StartedAt),
		FinishedAt:  utcPtr(imp.FinishedAt),
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
// With an Idempotency-Key the file is spooled first, to hash it: the key
// covers the options and the file's content.
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
	run := func(body io.Reader) (int, any, error) {
		imp, err := a.service.ImportClients(r.Context(), body, opts)
		switch {
		case errors.Is(err, campaign.ErrImportTooLarge):
			w.Header().Set("Connection", "close")
			return http.StatusRequestEntityTooLarge, detail{err.Error() + "."}, nil
		case errors.Is(err, campaign.ErrImportUnreadable):
			return 0, nil, badRequest("%s.", err.Error())
		case err != nil:
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
	if r.Header.Get(idempotencyHeader) == "" {
		status, body, err := run(r.Body)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.write(w, r, status, body)
		return
	}
	file, sum, err := spoolHashed(r.Body)
	if file != nil {
		defer func() { file.Close(); os.Remove(file.Name()) }()
	}
	switch {
	case errors.Is(err, campaign.ErrImportTooLarge):
		w.Header().Set("Connection", "close")
		a.write(w, r, http.StatusRequestEntityTooLarge, detail{err.Error() + "."})
		return
	case err != nil:
		a.writeError(w, r, err)
		return
	}
	hash := campaign.RequestHash([]byte(r.Method), []byte("/clients/import"), []byte(opts.Mode), []byte(strconv.FormatBool(opts.SkipInvalid)), sum)
	a.once(w, r, hash, func() (int, any, error) { return run(file) })
}

// spoolHashed copies body, up to campaign.MaxImportBytes, into a file of
// its own (named as the import's spool files, so that the orphans of a
// dead process are removed alike), rewound, and returns its SHA-256.
func spoolHashed(body io.Reader) (*os.File, []byte, error) {
	f, err := os.CreateTemp("", "notify-import-*.csv")
	if err != nil {
		return nil, nil, fmt.Errorf("error spooling an import: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(body, campaign.MaxImportBytes+1))
	switch {
	case err != nil:
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return f, nil, campaign.ErrImportTooLarge
		}
		return f, nil, badRequest("%s.", campaign.ErrImportUnreadable.Error())
	case n > campaign.MaxImportBytes:
		return f, nil, campaign.ErrImportTooLarge
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return f, nil, fmt.Errorf("error spooling an import: %w", err)
	}
	return f, h.Sum(nil), nil
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
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	imp, err := a.service.ClientImport(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, importOf(imp), nil
}
