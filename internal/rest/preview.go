package rest

import (
	"encoding/json"
	"net/http"

	"github.com/notifyhq/notify/internal/campaign"
)

// audiencePreview is POST /mailings/preview/'s answer.
type audiencePreview struct {
	Count          int            `json:"count"`
	ByOperatorCode map[string]int `json:"by_operator_code"`
	ByTag          map[string]int `json:"by_tag"`
	Sample         []client       `json:"sample"`
}

// previewFields are the members of a preview's body.
var previewFields = []string{"filter"}

// previewAudience is POST /mailings/preview/ {"filter": {...}} (a
// mailing's filter; omitted or null: every client): who a mailing created
// now would go to. Viewers may ask: it writes nothing.
func (a *API) previewAudience(r *http.Request) (int, any, error) {
	f, err := decode(r, func(in *input, raw json.RawMessage) (f campaign.Filter) {
		if m, ok := in.object(raw, nil, previewFields, nil); ok {
			if fr, ok := m["filter"]; ok && !isNull(fr) {
				if p := in.readFilter(fr, []string{"filter"}); p != nil {
					f = *p
				}
			}
		}
		return f
	})
	if err != nil {
		return 0, nil, err
	}
	p, err := a.service.PreviewAudience(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	out := audiencePreview{
		Count:          p.Count,
		ByOperatorCode: make(map[string]int, len(p.ByOperatorCode)),
		ByTag:          make(map[string]int, len(p.ByTag)),
		Sample:         make([]client, len(p.Sample)),
	}
	for _, c := range p.ByOperatorCode {
		out.ByOperatorCode[c.Value] = c.Count
	}
	for _, c := range p.ByTag {
		out.ByTag[c.Value] = c.Count
	}
	for i, c := range p.Sample {
		out.Sample[i] = clientOut(c)
	}
	return http.StatusOK, out, nil
}
