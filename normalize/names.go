package normalize

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DefaultMaxLen is the longest column name SnakeCase and Namer produce unless told
// otherwise. DuckDB takes longer names; Postgres and Snowflake tooling is happier at 63.
const DefaultMaxLen = 63

// PathSeparator joins the normalized keys of a nested field into one column name.
// SnakeCase never yields "__" itself, so a flattened name cannot be mistaken for a
// normalized top-level key.
const PathSeparator = "__"

// System column names (DESIGN.md section 3). A source field never takes one of them.
const (
	ColIngestedAt = "ingested_at"
	ColUpdatedAt  = "updated_at"
	ColIsDeleted  = "is_deleted"
	ColDeletedAt  = "deleted_at"
	ColRaw        = "_raw"
)

// SystemColumns lists the system columns in the order a batch carries them.
var SystemColumns = []string{ColIngestedAt, ColUpdatedAt, ColIsDeleted, ColDeletedAt, ColRaw}

// The regular expressions are dlt's (dlt/common/normalizers/naming/snake_case.py):
// matching them exactly is what keeps ASCII names compatible with tables dlt wrote.
var (
	reNonAlnum    = regexp.MustCompile(`[^a-zA-Z0-9_]+`)
	reBreak1      = regexp.MustCompile(`([^_])([A-Z][a-z]+)`)
	reBreak2      = regexp.MustCompile(`([a-z0-9])([A-Z])`)
	reUnderscores = regexp.MustCompile(`__+`)
	// dlt's reduced alphabet: a few symbols carry meaning worth keeping.
	reduceAlphabet = strings.NewReplacer("+", "x", "-", "_", "*", "x", "@", "a", "|", "l")
)

// SnakeCase normalizes one source key into a column name, cut to DefaultMaxLen.
//
// For ASCII input it follows dlt's snake_case convention: surrounding spaces trimmed,
// "+*" -> "x", "-" -> "_", "@" -> "a", "|" -> "l", any other symbol run -> "_",
// camelCase and acronyms broken with "_", lower-cased, a leading digit prefixed with
// "_", every trailing "_" replaced by "x" (so "__x__" -> "_xxx"), runs of "_" collapsed.
// Beyond dlt: letters are transliterated to ASCII first ("Größe" -> "grosse"), and an
// empty or blank key becomes "_empty" (dlt refuses it).
func SnakeCase(s string) string { return snakeCase(s, DefaultMaxLen) }

func snakeCase(s string, maxLen int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "_empty"
	}
	s = transliterate(s)
	s = reduceAlphabet.Replace(s)
	s = reNonAlnum.ReplaceAllString(s, "_")
	s = reBreak1.ReplaceAllString(s, "${1}_${2}")
	s = strings.ToLower(reBreak2.ReplaceAllString(s, "${1}_${2}"))
	if s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	trimmed := strings.TrimRight(s, "_")
	s = trimmed + strings.Repeat("x", len(s)-len(trimmed))
	s = reUnderscores.ReplaceAllString(s, "_")
	return shorten(s, maxLen)
}

// shorten cuts a name longer than maxLen and appends "_" and 6 hex digits of a hash of
// the whole name, so two long names sharing a prefix stay apart and the cut is the
// same on every run.
func shorten(name string, maxLen int) string {
	if maxLen <= 0 || len(name) <= maxLen {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	tag := hex.EncodeToString(sum[:3])
	keep := maxLen - len(tag) - 1
	if keep < 1 {
		keep = 1
	}
	head := strings.TrimRight(name[:keep], "_")
	if head == "" {
		head = "x"
	}
	return head + "_" + tag
}

// translit spells letters that Unicode decomposition leaves alone. Upper-case
// multi-letter spellings are title case here; transliterate upper-cases them when the
// next letter is upper case too ("ÆRØ" -> "AERO", "Ærø" -> "Aero").
var translit = map[rune]string{
	'ß': "ss", 'ẞ': "Ss", 'æ': "ae", 'Æ': "Ae", 'ø': "o", 'Ø': "O",
	'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'þ': "th", 'Þ': "Th",
	'ð': "d", 'Ð': "D", 'œ': "oe", 'Œ': "Oe", 'ı': "i", 'ħ': "h", 'Ħ': "H",
	'ŋ': "ng", 'Ŋ': "Ng", 'ĸ': "k", 'ŀ': "l", 'Ŀ': "L", 'ŧ': "t", 'Ŧ': "T",
}

// transliterate maps letters to ASCII: the table above first, then compatibility
// decomposition with combining marks dropped ("é" -> "e", "ﬁ" -> "fi"). What has no
// ASCII spelling is left for the symbol filter to turn into "_".
func transliterate(s string) string {
	if isASCII(s) {
		return s
	}
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if t, ok := translit[r]; ok {
			if len(t) > 1 && unicode.IsUpper(r) && i+1 < len(rs) && unicode.IsUpper(rs[i+1]) {
				t = strings.ToUpper(t)
			}
			b.WriteString(t)
			continue
		}
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		for _, d := range norm.NFKD.String(string(r)) {
			if !unicode.Is(unicode.Mn, d) {
				b.WriteRune(d)
			}
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Namer assigns column names to source paths and never changes an assignment during
// its lifetime, so a column keeps its name across batches. Seed it with a previous
// run's Mapping to keep names across runs.
//
// Collisions are resolved per table in order of first sight: the first path that
// normalizes onto a name keeps it, later ones get "_2", "_3", ... A path that
// normalizes onto a system column becomes "<name>_src". A Namer is not safe for
// concurrent use.
type Namer struct {
	// MaxLen caps column names (DefaultMaxLen when 0).
	MaxLen int

	bySource map[string]string // source key (see SourceKey) -> column
	taken    map[string]bool   // columns already given out
}

// NewNamer returns a Namer that keeps every assignment of seed (a Mapping from an
// earlier Namer).
func NewNamer(seed map[string]string) *Namer {
	n := &Namer{bySource: make(map[string]string, len(seed)), taken: make(map[string]bool, len(seed))}
	for src, col := range seed {
		n.bySource[src] = col
		n.taken[col] = true
	}
	return n
}

// SourceKey joins a path of source keys with "."; a "." or "\" inside a key is escaped
// with "\" so that {"a.b":1} and {"a":{"b":1}} stay different keys.
func SourceKey(path []string) string {
	if len(path) == 1 && !strings.ContainsAny(path[0], `.\`) {
		return path[0]
	}
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		for j := 0; j < len(p); j++ {
			if p[j] == '.' || p[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p[j])
		}
	}
	return b.String()
}

func (n *Namer) maxLen() int {
	if n.MaxLen > 0 {
		return n.MaxLen
	}
	return DefaultMaxLen
}

// Column returns the column name for a source path (the nested keys of a field),
// assigning one on first sight.
func (n *Namer) Column(path []string) string {
	key := SourceKey(path)
	if col, ok := n.bySource[key]; ok {
		return col
	}
	base := n.normalizePath(path)
	if isSystemColumn(base) {
		base = shorten(base+"_src", n.maxLen())
	}
	col := base
	for i := 2; n.taken[col] || isSystemColumn(col); i++ {
		col = shorten(base+"_"+strconv.Itoa(i), n.maxLen())
	}
	n.bySource[key] = col
	n.taken[col] = true
	return col
}

// normalizePath is the name a path would get with no collision to resolve.
func (n *Namer) normalizePath(path []string) string {
	parts := make([]string, len(path))
	for i, p := range path {
		parts[i] = snakeCase(p, 0)
	}
	return shorten(strings.Join(parts, PathSeparator), n.maxLen())
}

// Mapping returns a copy of every assignment: source key (SourceKey) -> column.
func (n *Namer) Mapping() map[string]string {
	m := make(map[string]string, len(n.bySource))
	for k, v := range n.bySource {
		m[k] = v
	}
	return m
}

func isSystemColumn(name string) bool {
	for _, s := range SystemColumns {
		if s == name {
			return true
		}
	}
	return false
}
