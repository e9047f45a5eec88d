package demoapi

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// epoch is the fixed base of every generated timestamp, so runs are reproducible.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Phase-2 sizes that do not depend on the options.
const (
	newCustomers = 25
	newEvents    = 100
	newOrders    = 20
)

// Ids of the malformed customers that carry one (see Options.Malformed).
const (
	LotsID   = 9_000_001 // balanceCents is the string "lots"
	BrokenID = 9_000_002 // the syntactically broken element
)

type word struct{ name, slug string }

var (
	firstNames = []word{{"Anna", "anna"}, {"Ben", "ben"}, {"Chloé", "chloe"}, {"David", "david"},
		{"Emma", "emma"}, {"Finn", "finn"}, {"José", "jose"}, {"Léa", "lea"}, {"Łukasz", "lukasz"},
		{"Mia", "mia"}, {"Noah", "noah"}, {"Søren", "soren"}, {"Yuki", "yuki"}, {"Zoë", "zoe"}}
	lastNames = []word{{"Müller", "mueller"}, {"Größe", "groesse"}, {"Café", "cafe"}, {"Smith", "smith"},
		{"Nowak", "nowak"}, {"García", "garcia"}, {"Rossi", "rossi"}, {"Jensen", "jensen"},
		{"Dubois", "dubois"}, {"O'Brien", "obrien"}, {"Tanaka", "tanaka"}, {"Svensson", "svensson"}}
	cities = []struct {
		name, country string
		lat, lon      float64
	}{{"Berlin", "DE", 52.52, 13.405}, {"Munich", "DE", 48.137, 11.575}, {"Paris", "FR", 48.857, 2.352},
		{"Lyon", "FR", 45.764, 4.836}, {"Madrid", "ES", 40.417, -3.704}, {"Lisbon", "PT", 38.722, -9.139},
		{"Amsterdam", "NL", 52.37, 4.895}, {"Warsaw", "PL", 52.23, 21.012}, {"Copenhagen", "DK", 55.676, 12.568},
		{"Dublin", "IE", 53.35, -6.26}, {"London", "GB", 51.507, -0.128}, {"New York", "US", 40.713, -74.006},
		{"Tokyo", "JP", 35.69, 139.692}, {"São Paulo", "BR", -23.551, -46.633}}
	tagWords   = []string{"vip", "newsletter", "beta", "churn-risk", "enterprise", "referral", "mobile", "eu"}
	plans      = []string{"free", "pro", "team"}
	eventTypes = []string{"signup", "login", "purchase"}
	currencies = []string{"EUR", "USD", "GBP"}
	skus       = []string{"SKU-MUG", "SKU-TEE", "SKU-CAP", "SKU-BAG", "SKU-PIN", "SKU-BOOK"}
	skuCents   = []int64{1299, 2499, 1999, 3999, 399, 2999}
)

// entry is one encoded element of a list endpoint, in serving order.
type entry struct {
	t   int64 // updatedAt in unix nanoseconds (customers only)
	id  int64 // record id; for malformed customers the id of the record they follow
	sub int   // 0 for records; 1..5 for malformed customers (orders after the anchor)
	raw []byte
}

// dataset is one immutable phase of the demo data.
type dataset struct {
	phase     int
	customers []entry // sorted by (updatedAt, id, sub), malformed entries included
	events    []entry // by eventId
	orders    []entry // by orderId
	// Records by id for Snapshot (no malformed entries).
	custRecs, eventRecs, orderRecs []map[string]any
}

func rng(seed int64, stream, id int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(stream)<<48^uint64(id)))
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func tags(r *rand.Rand) []any {
	n := 1 + r.IntN(3)
	out := make([]any, 0, n)
	for _, i := range r.Perm(len(tagWords))[:n] {
		out = append(out, tagWords[i])
	}
	return out
}

func newCustomer(seed, id int64, updated time.Time) map[string]any {
	r := rng(seed, 1, id)
	f, l, c := pick(r, firstNames), pick(r, lastNames), pick(r, cities)
	created := updated.Add(-time.Duration(r.IntN(90*24)) * time.Hour)
	return map[string]any{
		"id":           id,
		"email":        fmt.Sprintf("%s.%s%d@example.com", f.slug, l.slug, id),
		"fullName":     f.name + " " + l.name,
		"Plan Type":    pick(r, plans),
		"balanceCents": int64(r.IntN(500_000)),
		"createdAt":    ts(created),
		"updatedAt":    ts(updated),
		"address": map[string]any{
			"city":    c.name,
			"country": c.country,
			"geo": map[string]any{
				"lat": math.Round((c.lat+r.Float64()/10-0.05)*1000) / 1000,
				"lon": math.Round((c.lon+r.Float64()/10-0.05)*1000) / 1000,
			},
		},
		"tags":      tags(r),
		"deleted":   false,
		"deletedAt": nil,
	}
}

func newEvent(seed, id int64, customers int, at time.Time) map[string]any {
	r := rng(seed, 2, id)
	typ := pick(r, eventTypes)
	payload := map[string]any{"amount": 0.0, "currency": pick(r, currencies), "items": []any{}}
	if typ == "purchase" {
		n := 1 + r.IntN(3)
		items := make([]any, n)
		for i := range items {
			items[i] = pick(r, skus)
		}
		payload["items"] = items
		payload["amount"] = float64(100+r.IntN(20_000)) / 4 // quarters: exact in binary
	}
	return map[string]any{
		"eventId":    fmt.Sprintf("evt_%06d", id),
		"type":       typ,
		"customerId": int64(1 + r.IntN(customers)),
		"occurredAt": ts(at),
		"payload":    payload,
	}
}

func newOrder(seed, id int64, customers int, status string, at time.Time) map[string]any {
	r := rng(seed, 3, id)
	n := 1 + r.IntN(3)
	lines := make([]any, n)
	var total int64
	for i := range lines {
		k, qty := r.IntN(len(skus)), int64(1+r.IntN(4))
		lines[i] = map[string]any{"sku": skus[k], "qty": qty}
		total += qty * skuCents[k]
	}
	if status == "" {
		status = pick(r, []string{"open", "open", "paid", "paid", "paid", "refunded"})
	}
	return map[string]any{
		"orderId":    id,
		"customerId": int64(1 + r.IntN(customers)),
		"status":     status,
		"totalCents": total,
		"updatedAt":  ts(at),
		"lines":      lines,
	}
}

// build generates the data of a phase. It is a pure function of the options, so phase
// 2 always extends the same phase 1.
func build(o Options, phase int) *dataset {
	d := &dataset{phase: phase}
	nc, ne, no := o.Customers, o.Events, o.Orders

	// Phase 1 customers: the one at rank k of a seeded permutation has updatedAt
	// epoch + k/2 hours, so pairs share a timestamp and id order != updatedAt order.
	perm := rand.New(rand.NewPCG(uint64(o.Seed), 42)).Perm(nc)
	cust := make([]map[string]any, nc) // by id-1
	for rank, p := range perm {
		cust[p] = newCustomer(o.Seed, int64(p+1), epoch.Add(time.Duration(rank/2)*time.Hour))
	}
	var malformed []entry
	if o.Malformed {
		malformed = malformedEntries(o, perm)
	}
	// Everything that changes in phase 2 happens after the last phase-1 timestamp.
	p2 := epoch.Add(time.Duration(nc/2+1)*time.Hour + 7*24*time.Hour)

	evAt := func(i int) time.Time { return epoch.Add(time.Duration(i) * 7 * time.Minute) }
	ordAt := func(i int) time.Time { return epoch.Add(time.Duration(i) * 90 * time.Minute) }
	events := make([]map[string]any, ne)
	for i := range events {
		events[i] = newEvent(o.Seed, int64(i+1), nc, evAt(i+1))
	}
	orders := make([]map[string]any, no)
	for i := range orders {
		orders[i] = newOrder(o.Seed, int64(i+1), nc, "", ordAt(i+1))
	}

	if phase >= 2 {
		r := rand.New(rand.NewPCG(uint64(o.Seed), 43))
		order := r.Perm(nc)
		nUpd, nDel := nc/10, nc/25
		step := 0
		bump := func(c map[string]any) {
			step++
			c["updatedAt"] = ts(p2.Add(time.Duration(step) * time.Minute))
			c["loyaltyTier"] = pick(r, []string{"gold", "silver"})
		}
		for _, i := range order[:nUpd] {
			c := clone(cust[i])
			c["balanceCents"] = c["balanceCents"].(int64) + int64(1+r.IntN(100_000))
			c["Plan Type"] = plans[(slices.Index(plans, c["Plan Type"].(string))+1)%len(plans)]
			bump(c)
			cust[i] = c
		}
		for _, i := range order[nUpd : nUpd+nDel] {
			c := clone(cust[i])
			bump(c)
			c["deleted"], c["deletedAt"] = true, c["updatedAt"]
			cust[i] = c
		}
		for i := range newCustomers {
			step++
			c := newCustomer(o.Seed, int64(nc+i+1), p2.Add(time.Duration(step)*time.Minute))
			c["loyaltyTier"] = pick(r, []string{"gold", "silver"})
			cust = append(cust, c)
		}
		for i := range newEvents {
			events = append(events, newEvent(o.Seed, int64(ne+i+1), nc, evAt(ne+i+1)))
		}
		changed := 0
		for _, i := range r.Perm(no) {
			if changed == no/10 {
				break
			}
			if s := orders[i]["status"]; s != "refunded" {
				c := clone(orders[i])
				c["status"] = map[any]string{"open": "paid", "paid": "refunded"}[s]
				c["updatedAt"] = ts(p2.Add(time.Duration(changed) * time.Minute))
				orders[i] = c
				changed++
			}
		}
		for i := range newOrders {
			orders = append(orders, newOrder(o.Seed, int64(no+i+1), nc, "open", p2.Add(time.Duration(i)*time.Minute)))
		}
	}

	for _, c := range cust {
		t, _ := time.Parse(time.RFC3339, c["updatedAt"].(string))
		d.customers = append(d.customers, entry{t: t.UnixNano(), id: c["id"].(int64), raw: mustJSON(c)})
	}
	d.customers = append(d.customers, malformed...)
	slices.SortFunc(d.customers, func(a, b entry) int {
		if a.t != b.t {
			return cmpInt(a.t, b.t)
		}
		if a.id != b.id {
			return cmpInt(a.id, b.id)
		}
		return a.sub - b.sub
	})
	for i, e := range events {
		d.events = append(d.events, entry{id: int64(i + 1), raw: mustJSON(e)})
	}
	for i, e := range orders {
		d.orders = append(d.orders, entry{id: int64(i + 1), raw: mustJSON(e)})
	}
	d.custRecs, d.eventRecs, d.orderRecs = cust, events, orders
	return d
}

// malformedEntries returns the five bad customer elements documented on
// Options.Malformed. Element k (1..5) directly follows the phase-1 customer at 0-based
// position ⌊k·Customers/6⌋ of the updatedAt order and shares its updatedAt.
func malformedEntries(o Options, perm []int) []entry {
	var out []entry
	for k := 1; k <= 5; k++ {
		rank := min(k*o.Customers/6, o.Customers-1)
		at := epoch.Add(time.Duration(rank/2) * time.Hour)
		var raw []byte
		switch k {
		case 1, 2:
			c := newCustomer(o.Seed, int64(-k), at)
			delete(c, "id")
			c["email"] = fmt.Sprintf("nobody%d@example.com", k)
			raw = mustJSON(c)
		case 3:
			c := newCustomer(o.Seed, LotsID, at)
			c["balanceCents"] = "lots"
			raw = mustJSON(c)
		case 4:
			raw = []byte("42")
		case 5:
			raw = fmt.Appendf(nil, `{"id": %d, "email": }`, BrokenID)
		}
		out = append(out, entry{t: at.UnixNano(), id: int64(perm[rank] + 1), sub: k, raw: raw})
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// clone deep-copies a record made of maps, slices and scalars.
func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return clone(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = cloneValue(x)
		}
		return out
	}
	return v
}
