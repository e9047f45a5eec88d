package demoapi

import (
	"bufio"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Bench records are a pure function of their index i (0-based; id = i+1), independent
// of Options.Seed, so /v1/bench and WriteBenchNDJSON agree byte for byte. updatedAt is
// epoch + i seconds (ascending with id). They are written with append-style encoding
// into pooled buffers: nothing is stored.

var (
	benchStreets = []string{"Hauptstraße", "Rue de la Paix", "Calle Mayor", "Baker Street", "Main Street", "Nørregade"}
	benchTiers   = []string{"free", "pro", "team", "enterprise"}
)

// mix is splitmix64's finaliser: a fast, well-spread hash of the index.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

func appendQuoted(b []byte, s string) []byte { // s never needs escaping (fixed words)
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendFixed appends v/10^4 with four decimals.
func appendFixed(b []byte, v int64) []byte {
	if v < 0 {
		b, v = append(b, '-'), -v
	}
	b = strconv.AppendInt(b, v/10000, 10)
	frac := v % 10000
	return append(b, '.', byte('0'+frac/1000), byte('0'+frac/100%10), byte('0'+frac/10%10), byte('0'+frac%10))
}

func appendBenchRecord(b []byte, i int) []byte {
	h, g := mix(uint64(i)), mix(uint64(i)^0x5bd1e995)
	id := int64(i) + 1
	f, l := firstNames[h%uint64(len(firstNames))], lastNames[h>>8%uint64(len(lastNames))]
	c := cities[h>>16%uint64(len(cities))]
	updated := epoch.Add(time.Duration(i) * time.Second)
	created := updated.Add(-time.Duration(h>>24%(365*24)) * time.Hour)

	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"name":"`...)
	b = append(b, f.name...)
	b = append(b, ' ')
	b = append(b, l.name...)
	b = append(b, `","email":"`...)
	b = append(b, f.slug...)
	b = append(b, '.')
	b = append(b, l.slug...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `@example.com","createdAt":"`...)
	b = created.AppendFormat(b, time.RFC3339)
	b = append(b, `","updatedAt":"`...)
	b = updated.AppendFormat(b, time.RFC3339)
	b = append(b, `","balanceCents":`...)
	b = strconv.AppendUint(b, g%10_000_000, 10)
	b = append(b, `,"address":{"street":"`...)
	b = strconv.AppendUint(b, 1+g>>24%200, 10)
	b = append(b, ' ')
	b = append(b, benchStreets[g>>32%uint64(len(benchStreets))]...)
	b = append(b, `","city":`...)
	b = appendQuoted(b, c.name)
	b = append(b, `,"country":`...)
	b = appendQuoted(b, c.country)
	b = append(b, `,"geo":{"lat":`...)
	b = appendFixed(b, int64(c.lat*10000)+int64(g>>40%1000)-500)
	b = append(b, `,"lon":`...)
	b = appendFixed(b, int64(c.lon*10000)+int64(g>>50%1000)-500)
	b = append(b, `}},"tags":[`...)
	for k, n := 0, 1+int(h>>32%3); k < n; k++ {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, tagWords[(h>>36+uint64(k)*3)%uint64(len(tagWords))])
	}
	b = append(b, `],"plan":{"name":`...)
	b = appendQuoted(b, benchTiers[h>>40%uint64(len(benchTiers))])
	b = append(b, `,"seats":`...)
	b = strconv.AppendUint(b, 1+h>>44%50, 10)
	b = append(b, `},"active":`...)
	b = strconv.AppendBool(b, h>>52%5 != 0)
	return append(b, '}')
}

// WriteBenchNDJSON writes bench records 0..n-1, one per line: the same bytes that
// /v1/bench serves inside its data arrays.
func WriteBenchNDJSON(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	b := make([]byte, 0, 1024)
	for i := range n {
		b = append(appendBenchRecord(b[:0], i), '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}

type benchPool struct{ p sync.Pool }

func (p *benchPool) get() *[]byte {
	if b, ok := p.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

// appendBenchPage appends the page of records [start, end) of total.
func appendBenchPage(b []byte, start, end, total int) []byte {
	b = append(b, `{"data":[`...)
	for i := start; i < end; i++ {
		if i > start {
			b = append(b, ',')
		}
		b = appendBenchRecord(b, i)
	}
	b = append(b, ']')
	if end >= total {
		return appendPageTail(b, "")
	}
	return appendPageTail(b, base64.RawURLEncoding.EncodeToString(strconv.AppendInt(nil, int64(end), 10)))
}

// benchPage serves /v1/bench. The cursor is base64url of the next index.
func (s *Server) benchPage(r *http.Request) response {
	limit, err := intParam(r, "limit", 1000, 1, 5000)
	if err != nil {
		return errResp(http.StatusBadRequest, err.Error())
	}
	start, total := 0, s.opts.BenchRecords
	if v := r.URL.Query().Get("cursor"); v != "" {
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err == nil {
			start, err = strconv.Atoi(string(raw))
		}
		if err != nil || start < 0 {
			return errResp(http.StatusBadRequest, "invalid cursor")
		}
	}
	start = min(start, total)
	buf := s.bench.get()
	*buf = appendBenchPage((*buf)[:0], start, min(start+limit, total), total)
	return response{status: http.StatusOK, body: *buf, release: func() {
		if cap(*buf) <= 4<<20 {
			s.bench.p.Put(buf)
		}
	}}
}
