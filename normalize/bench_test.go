package normalize

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// benchRecords makes n nested records of about 350 bytes, shaped like an API's users.
func benchRecords(n int) ([][]byte, int) {
	out := make([][]byte, n)
	size := 0
	cities := []string{"Oslo", "São Paulo", "Zürich", "New York", "Kraków"}
	for i := range out {
		out[i] = fmt.Appendf(nil, `{"id":%d,"name":"User Number %d","email":"user%d@example.com",`+
			`"createdAt":"2024-01-%02dT10:%02d:00Z","updatedAt":"2024-06-%02dT08:%02d:%02d.%03dZ",`+
			`"balanceCents":%d,"address":{"city":%q,"country":"NO","geo":{"lat":%d.5,"lon":%d.25}},`+
			`"tags":["a","b","vip"],"plan":{"name":"pro","seats":%d,"active":true}}`,
			i, i, i, i%28+1, i%60, i%28+1, i%24, i%60, i%1000,
			i*37, cities[i%len(cities)], i%90, i%180, i%50)
		size += len(out[i])
	}
	return out, size
}

func BenchmarkBatch(b *testing.B) {
	const n = 10_000
	recs, size := benchRecords(n)
	norm := New(Options{Stream: "users", PrimaryKey: []string{"id"}, CursorPath: "updatedAt",
		KeepRaw: true, Allocator: memory.NewGoAllocator()})
	at := time.Now()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := norm.Batch(recs, at)
		if err != nil {
			b.Fatal(err)
		}
		if res.Record.NumRows() != n {
			b.Fatalf("rows = %d", res.Record.NumRows())
		}
		res.Record.Release()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(size)/n, "bytes/record")
}
