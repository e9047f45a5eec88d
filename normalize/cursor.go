package normalize

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Cursor is an incremental cursor value: its text as the source wrote it (a JSON
// string's contents or a number literal) and, when the text parses, the instant it
// stands for. Numbers are Unix epoch seconds, or milliseconds when above 1e12.
type Cursor struct {
	Text   string
	micros int64 // microseconds since the epoch, UTC; meaningful when ok
	ok     bool
}

// IsZero reports whether c is the zero Cursor (no cursor seen).
func (c Cursor) IsZero() bool { return c.Text == "" && !c.ok }

// Time is the instant the cursor stands for, in UTC; the zero time when the text does
// not parse.
func (c Cursor) Time() time.Time {
	if !c.ok {
		return time.Time{}
	}
	return time.UnixMicro(c.micros).UTC()
}

// ParseCursor reads back a cursor value, e.g. from saved state. A text that is
// neither a number nor a supported date/time keeps its text and has a zero Time.
func ParseCursor(text string) Cursor {
	b := []byte(text)
	if us, ok := parseCursorBytes(b, isNumberText(b)); ok {
		return Cursor{Text: text, micros: us, ok: true}
	}
	return Cursor{Text: text}
}

// CompareCursors orders cursors by the instant they stand for (at microsecond
// precision). The zero Cursor sorts first; cursors whose text does not parse sort
// after the zero Cursor and before parsed ones, among themselves by text.
func CompareCursors(a, b Cursor) int {
	switch {
	case a.IsZero() || b.IsZero():
		return boolCmp(!a.IsZero(), !b.IsZero())
	case a.ok && b.ok:
		switch {
		case a.micros < b.micros:
			return -1
		case a.micros > b.micros:
			return 1
		}
		return 0
	case a.ok != b.ok:
		return boolCmp(a.ok, b.ok)
	}
	return strings.Compare(a.Text, b.Text)
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// parseCursorBytes reads a cursor: a number (epoch seconds, or milliseconds when
// above 1e12) or a date/time string in any of the lenient formats parseTime takes.
func parseCursorBytes(b []byte, number bool) (int64, bool) {
	if number {
		return epochMicros(b)
	}
	if us, _, ok := parseTime(b); ok {
		return us, true
	}
	// A string holding only a number is an epoch too: APIs do quote them.
	if isNumberText(b) {
		return epochMicros(b)
	}
	return 0, false
}

// epochMicros converts an epoch number literal to microseconds.
func epochMicros(b []byte) (int64, bool) {
	if v, ok := parseInt64(b); ok {
		if v > 1e12 || v < -1e12 {
			return mulMicros(v, 1000)
		}
		return mulMicros(v, 1_000_000)
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	if math.Abs(f) > 1e12 {
		f *= 1e3
	} else {
		f *= 1e6
	}
	if math.Abs(f) >= 9.2e18 {
		return 0, false
	}
	return int64(math.Round(f)), true
}

func mulMicros(v, by int64) (int64, bool) {
	if v > math.MaxInt64/by || v < math.MinInt64/by {
		return 0, false
	}
	return v * by, true
}

// timeShape says what parseTime found.
type timeShape uint8

const (
	shapeDate    timeShape = iota + 1 // YYYY-MM-DD
	shapeLocal                        // date and time without a zone (read as UTC)
	shapeRFC3339                      // date, time with seconds, and a zone: RFC 3339
)

// parseTime reads YYYY-MM-DD, or a date and time "YYYY-MM-DD[T ]HH:MM[:SS[.frac]]"
// optionally followed by Z or an offset (±HH:MM, ±HHMM, ±HH). A time without a zone
// is UTC. It returns microseconds since the epoch (fractions below a microsecond are
// cut) and which shape the text had. It does not allocate: it runs once per
// string value during inference.
func parseTime(b []byte) (int64, timeShape, bool) {
	if len(b) < 10 || !digits(b[0:4]) || b[4] != '-' || !digits(b[5:7]) || b[7] != '-' || !digits(b[8:10]) {
		return 0, 0, false
	}
	y, mo, d := num(b[0:4]), num(b[5:7]), num(b[8:10])
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return 0, 0, false
	}
	days := daysFromCivil(y, mo, d)
	if len(b) == 10 {
		return days * 86_400_000_000, shapeDate, true
	}
	if (b[10] != 'T' && b[10] != 't' && b[10] != ' ') || len(b) < 16 ||
		!digits(b[11:13]) || b[13] != ':' || !digits(b[14:16]) {
		return 0, 0, false
	}
	h, mi, s, frac := num(b[11:13]), num(b[14:16]), int64(0), int64(0)
	rest := b[16:]
	hasSeconds := false
	if len(rest) >= 3 && rest[0] == ':' && digits(rest[1:3]) {
		s, rest, hasSeconds = num(rest[1:3]), rest[3:], true
		if len(rest) > 1 && (rest[0] == '.' || rest[0] == ',') && isDigit(rest[1]) {
			i, scale := 1, int64(100_000)
			for ; i < len(rest) && isDigit(rest[i]); i++ {
				frac += int64(rest[i]-'0') * scale
				scale /= 10
			}
			rest = rest[i:]
		}
	}
	if h > 23 || mi > 59 || s > 59 {
		return 0, 0, false
	}
	offset, zoned, ok := parseZone(rest)
	if !ok {
		return 0, 0, false
	}
	us := days*86_400_000_000 + (h*3600+mi*60+s-offset)*1_000_000 + frac
	shape := shapeLocal
	if zoned && hasSeconds && b[10] != ' ' {
		shape = shapeRFC3339
	}
	return us, shape, true
}

// parseZone reads "", "Z", or an offset ±HH:MM / ±HHMM / ±HH, returning seconds east.
func parseZone(z []byte) (int64, bool, bool) {
	switch {
	case len(z) == 0:
		return 0, false, true
	case len(z) == 1 && (z[0] == 'Z' || z[0] == 'z'):
		return 0, true, true
	case z[0] != '+' && z[0] != '-':
		return 0, false, false
	}
	var h, m int64
	switch {
	case len(z) == 3 && digits(z[1:3]):
		h = num(z[1:3])
	case len(z) == 5 && digits(z[1:5]):
		h, m = num(z[1:3]), num(z[3:5])
	case len(z) == 6 && digits(z[1:3]) && z[3] == ':' && digits(z[4:6]):
		h, m = num(z[1:3]), num(z[4:6])
	default:
		return 0, false, false
	}
	if h > 23 || m > 59 {
		return 0, false, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return off, true, true
}

// daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date (Howard
// Hinnant's algorithm), avoiding time.Date on the hot path.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// num reads a run of ASCII digits the caller has checked.
func num(b []byte) int64 {
	var v int64
	for _, c := range b {
		v = v*10 + int64(c-'0')
	}
	return v
}
