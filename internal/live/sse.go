package live

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// SSE returns the SSE transport: gqlgen's, with a keep-alive every 10 s,
// that never serves a request carrying Upgrade (such a request is a
// WebSocket's or nothing's) and serves at most maxStreams streams at once on
// this instance (one more is refused: 503, TOO_MANY_SUBSCRIPTIONS). Wrapped
// by Hub.Transport, its shared subscriptions run once.
func SSE(maxStreams int) graphql.Transport {
	return sseTransport{SSE: transport.SSE{KeepAlivePingInterval: 10 * time.Second}, open: new(atomic.Int64), max: int64(maxStreams)}
}

type sseTransport struct {
	transport.SSE
	open *atomic.Int64
	max  int64
}

func (t sseTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && t.SSE.Supports(r)
}

func (t sseTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if t.open.Add(1) > t.max {
		t.open.Add(-1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(graphql.Response{Errors: gqlerror.List{
			codedError(CodeTooManyStreams, fmt.Sprintf("this instance serves %d SSE streams already; try again later", t.max)),
		}})
		return
	}
	defer t.open.Add(-1)
	t.SSE.Do(w, r, exec)
}
