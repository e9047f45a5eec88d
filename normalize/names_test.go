package normalize

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func TestSnakeCaseGolden(t *testing.T) {
	f, err := os.Open("testdata/names.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	cases := 0
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.HasPrefix(text, "#") || text == "" {
			continue
		}
		in, want, ok := strings.Cut(text, "\t")
		if !ok {
			t.Fatalf("names.txt:%d: no tab", line)
		}
		cases++
		if got := SnakeCase(in); got != want {
			t.Errorf("names.txt:%d: SnakeCase(%q) = %q, want %q", line, in, got, want)
		}
		if got := SnakeCase(in); len(got) > DefaultMaxLen {
			t.Errorf("names.txt:%d: %q is longer than %d", line, got, DefaultMaxLen)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cases < 40 {
		t.Fatalf("only %d golden name cases", cases)
	}
}

func TestSnakeCaseIdempotent(t *testing.T) {
	for _, in := range []string{"createdAt", "HTTPStatusCode", "Größe", "123abc", "__x__", "a+b"} {
		once := SnakeCase(in)
		if twice := SnakeCase(once); twice != once {
			t.Errorf("SnakeCase(SnakeCase(%q)) = %q, want %q", in, twice, once)
		}
	}
}

func TestNamerCollisionsFirstSeenWins(t *testing.T) {
	n := NewNamer(nil)
	steps := []struct {
		path []string
		want string
	}{
		{[]string{"userId"}, "user_id"},
		{[]string{"user_id"}, "user_id_2"},
		{[]string{"UserID"}, "user_id_3"},
		{[]string{"userId"}, "user_id"}, // stable on second sight
		{[]string{"address", "city"}, "address__city"},
		{[]string{"address.city"}, "address_city"},
		{[]string{"updatedAt"}, "updated_at_src"},
		{[]string{"updated_at"}, "updated_at_src_2"},
		{[]string{"_raw"}, "_raw_src"},
		{[]string{"isDeleted"}, "is_deleted_src"},
		{[]string{"ingested_at"}, "ingested_at_src"},
		{[]string{"deleted_at"}, "deleted_at_src"},
	}
	for _, s := range steps {
		if got := n.Column(s.path); got != s.want {
			t.Errorf("Column(%q) = %q, want %q", s.path, got, s.want)
		}
	}
	m := n.Mapping()
	if m["address.city"] != "address__city" || m[`address\.city`] != "address_city" {
		t.Errorf("Mapping keys do not tell nested from dotted keys: %v", m)
	}
}

func TestNamerSeedKeepsNames(t *testing.T) {
	first := NewNamer(nil)
	first.Column([]string{"user_id"})
	first.Column([]string{"userId"}) // user_id_2
	// A later run sees the fields in the other order: names must not swap.
	second := NewNamer(first.Mapping())
	if got := second.Column([]string{"userId"}); got != "user_id_2" {
		t.Errorf("seeded userId = %q, want user_id_2", got)
	}
	if got := second.Column([]string{"userID"}); got != "user_id_3" {
		t.Errorf("new colliding field = %q, want user_id_3", got)
	}
}

func TestNamerLongNestedPath(t *testing.T) {
	n := NewNamer(nil)
	n.MaxLen = 20
	a := n.Column([]string{"averyverylongparent", "childfieldnumberone"})
	b := n.Column([]string{"averyverylongparent", "childfieldnumbertwo"})
	if len(a) > 20 || len(b) > 20 || a == b {
		t.Fatalf("long nested names %q and %q must be distinct and at most 20 bytes", a, b)
	}
	if !strings.HasPrefix(a, "averyverylong") {
		t.Errorf("cut name %q lost its prefix", a)
	}
}
