package sender

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// BenchmarkSend measures requests per second against a loopback server that
// answers OK, with 64 requests in flight.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, okBody)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Token: "bench-token", Concurrency: 64})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := Request{ID: 1, Phone: "79001234567", Text: "Your code is 123456. Do not share it."}

	b.ReportAllocs()
	// About Concurrency goroutines, as the batch worker runs them.
	b.SetParallelism(max(1, (64+runtime.GOMAXPROCS(0)-1)/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		ctx := b.Context()
		for pb.Next() {
			if res := c.Send(ctx, req, func() {}); res.Outcome != Sent {
				b.Errorf("send: %v", res.Err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkEncodeBody compares the appending encoder with encoding/json.
func BenchmarkEncodeBody(b *testing.B) {
	req := Request{ID: 123456789, Phone: "79001234567", Text: "Привет! Your code is \"123456\".\nDo not share it."}
	b.Run("Append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			body, _ := appendBody(make([]byte, 0, 64+len(req.Text)), req)
			_ = body
		}
	})
	b.Run("EncodingJSON", func(b *testing.B) {
		type wire struct {
			ID    int64       `json:"id"`
			Phone json.Number `json:"phone"`
			Text  string      `json:"text"`
		}
		b.ReportAllocs()
		for b.Loop() {
			body, _ := json.Marshal(wire{req.ID, json.Number(req.Phone), req.Text})
			_ = body
		}
	})
}
