package normalize

import (
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/eltdev/elt/schemaevo"
)

// kind is what one value of a record is, decided once when the record is read.
// Strings are classified for inference here so that no value is looked at twice.
type kind uint8

const (
	kNull   kind = iota
	kFalse       // JSON false
	kTrue        // JSON true
	kInt         // integer literal that fits int64
	kBigInt      // integer literal past int64 that fits DECIMAL(38,9)
	kFloat       // any other number literal
	kString      // string that is neither of the two below
	kDate        // string YYYY-MM-DD
	kTime        // string in RFC 3339 with a zone
	kJSON        // object or array, as compact JSON text
)

// inferred is the type a value alone suggests; columns widen over these.
var inferred = [...]schemaevo.Type{
	kNull: "", kFalse: schemaevo.Bool, kTrue: schemaevo.Bool, kInt: schemaevo.Int64,
	kBigInt: schemaevo.Decimal, kFloat: schemaevo.Float64, kString: schemaevo.String,
	kDate: schemaevo.Date, kTime: schemaevo.Timestamptz, kJSON: schemaevo.JSON,
}

// maxDecimalIntDigits is how many integer digits DECIMAL(38,9) holds.
const maxDecimalIntDigits = schemaevo.DecimalPrecision - schemaevo.DecimalScale

// classifyNumber checks a number literal against JSON's grammar (fastjson is lenient:
// it takes "1-2", "nan", "inf") and says which numeric kind it is. ok is false for a
// literal JSON does not allow.
func classifyNumber(b []byte) (kind, bool) {
	i, n := 0, len(b)
	if i < n && b[i] == '-' {
		i++
	}
	start := i
	for i < n && isDigit(b[i]) {
		i++
	}
	intDigits := i - start
	if intDigits == 0 || (intDigits > 1 && b[start] == '0') {
		return 0, false
	}
	isInt := true
	if i < n && b[i] == '.' {
		i++
		f := i
		for i < n && isDigit(b[i]) {
			i++
		}
		if i == f {
			return 0, false
		}
		isInt = false
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		f := i
		for i < n && isDigit(b[i]) {
			i++
		}
		if i == f {
			return 0, false
		}
		isInt = false
	}
	switch {
	case i != n:
		return 0, false
	case !isInt:
		return kFloat, true
	case intDigits < 19:
		return kInt, true
	}
	if _, ok := parseInt64(b); ok {
		return kInt, true
	}
	if intDigits <= maxDecimalIntDigits {
		return kBigInt, true
	}
	return kFloat, true
}

// isNumberText reports whether b is a JSON number literal.
func isNumberText(b []byte) bool {
	_, ok := classifyNumber(b)
	return ok
}

// parseInt64 reads an optionally signed run of decimal digits without allocating.
func parseInt64(b []byte) (int64, bool) {
	neg := len(b) > 0 && (b[0] == '-' || b[0] == '+')
	d := b
	if neg {
		neg = b[0] == '-'
		d = b[1:]
	}
	if len(d) == 0 || len(d) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range d {
		if !isDigit(c) {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u), true
	case !neg && u <= math.MaxInt64:
		return int64(u), true
	}
	return 0, false
}

// parseDecimal reads a number literal (or numeric string) into DECIMAL(38,9),
// rounding half away from zero past 9 fractional digits. ok is false when the text is
// not a number or its integer part does not fit.
func parseDecimal(b []byte) (decimal128.Num, bool) {
	if !isNumberText(b) {
		return decimal128.Num{}, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	// Split into mantissa digits and a power of ten.
	var mant [80]byte
	nd, exp, i, seenPoint := 0, 0, 0, false
	for ; i < len(b) && (isDigit(b[i]) || b[i] == '.'); i++ {
		c := b[i]
		switch {
		case c == '.':
			seenPoint = true
		case nd == 0 && c == '0': // leading zeros carry no digits, only position
			if seenPoint {
				exp--
			}
		case nd < len(mant):
			mant[nd] = c
			nd++
			if seenPoint {
				exp--
			}
		case !seenPoint: // past 80 significant digits: far beyond 38, only magnitude matters
			exp++
		}
	}
	if i < len(b) { // exponent: b[i] is 'e' or 'E'
		e, err := strconv.Atoi(string(b[i+1:]))
		switch {
		case (err != nil || e < -1000) && b[i+1] == '-':
			return decimal128.Num{}, true // vanishingly small: zero at scale 9
		case err != nil || e > 1000:
			return decimal128.Num{}, false
		}
		exp += e
	}
	shift := exp + schemaevo.DecimalScale // scale the value by 10^9
	digitsOut := nd + shift
	if nd == 0 || digitsOut <= 0 {
		if nd > 0 && digitsOut == 0 && mant[0] >= '5' { // rounds up to one unit
			return signed(0, 1, neg), true
		}
		return decimal128.Num{}, true
	}
	if digitsOut > schemaevo.DecimalPrecision {
		return decimal128.Num{}, false
	}
	var hi, lo uint64
	for k := 0; k < digitsOut; k++ {
		d := uint64(0)
		if k < nd {
			d = uint64(mant[k] - '0')
		}
		hi, lo = mulAdd10(hi, lo, d)
	}
	if digitsOut < nd && mant[digitsOut] >= '5' {
		hi, lo = add128(hi, lo, 1)
	}
	// Rounding 99..9 up can reach 10^38.
	if hi > maxHi || (hi == maxHi && lo > maxLo) {
		return decimal128.Num{}, false
	}
	return signed(hi, lo, neg), true
}

// 10^38 - 1, the largest DECIMAL(38,*) magnitude.
const (
	maxHi = 0x4B3B4CA85A86C47A
	maxLo = 0x098A223FFFFFFFFF
)

func mulAdd10(hi, lo, d uint64) (uint64, uint64) {
	h1, l1 := bits.Mul64(lo, 10)
	h1 += hi * 10
	return add128(h1, l1, d)
}

func add128(hi, lo, d uint64) (uint64, uint64) {
	l, c := bits.Add64(lo, d, 0)
	return hi + c, l
}

func signed(hi, lo uint64, neg bool) decimal128.Num {
	n := decimal128.New(int64(hi), lo)
	if neg {
		n = n.Negate()
	}
	return n
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst, s []byte) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendValidUTF8 appends s, replacing invalid UTF-8 with U+FFFD: Arrow strings and
// the destinations behind them require valid UTF-8, and fastjson passes bytes through.
func appendValidUTF8(dst, s []byte) []byte {
	if utf8.Valid(s) {
		return append(dst, s...)
	}
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return dst
}

// classifyString decides whether a string value could be a date or a timestamp.
func classifyString(s []byte) kind {
	if len(s) < 10 || !isDigit(s[0]) {
		return kString
	}
	if _, shape, ok := parseTime(s); ok {
		switch shape {
		case shapeDate:
			return kDate
		case shapeRFC3339:
			return kTime
		}
	}
	return kString
}

// truthy reports whether a delete-flag value marks a record deleted: true, 1, or the
// strings "true", "yes", "1" in any case.
func truthy(k kind, text []byte) bool {
	switch k {
	case kTrue:
		return true
	case kInt:
		return string(text) == "1"
	case kString:
		return len(text) <= 4 && (eqFold(text, "true") || eqFold(text, "yes") || string(text) == "1")
	}
	return false
}

func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
