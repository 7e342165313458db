package campaign

import (
	"bytes"
	"fmt"
	"testing"
)

// benchImportFile is an import file of n clients as the import benchmark
// writes it (internal/bench: four time zones, 50 tags, 100 operator codes).
func benchImportFile(n int) []byte {
	var buf bytes.Buffer
	buf.WriteString("phone,tag,timezone,operator_code\n")
	zones := []string{"UTC", "Europe/Moscow", "Asia/Yekaterinburg", "Asia/Vladivostok"}
	for i := range n {
		fmt.Fprintf(&buf, "7%010d,tag%d,%s,%03d\n", 9000000000+i, i%50, zones[i%len(zones)], 900+i%100)
	}
	return buf.Bytes()
}

// BenchmarkImportRead is the service's side of an import without the
// database: the file parsed and every line validated (readFile).
func BenchmarkImportRead(b *testing.B) {
	const lines = 100_000
	file := benchImportFile(lines)
	s := &Service{}
	opts := ImportOptions{}.withDefaults()
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		var out importOutcome
		n := 0
		if _, _, err := s.readFile(bytes.NewReader(file), opts, &out, func(int) {}, func(importRow) error { n++; return nil }); err != nil || n != lines {
			b.Fatalf("read %d of %d lines: %v", n, lines, err)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
