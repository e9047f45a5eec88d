package config

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder turns a yaml.Node tree into the config structs by reflection, following
// the yaml tags. Unlike yaml.v3's KnownFields it reports every problem, each with
// its YAML path, and it knows the config's own scalar syntaxes (durations, sizes,
// the paginator shorthand).
type decoder struct {
	p *problems
	// orig holds the text before interpolation of substituted scalars; messages
	// quote it instead of the value, which may come from a secret variable.
	orig map[*yaml.Node]string
	// inherited marks nodes merged in from resource_defaults. Their problems are
	// reported once, at source.resource_defaults, not once per resource.
	inherited map[*yaml.Node]bool
	// defaults is set while checking resource_defaults on its own: a paginator
	// there may be completed by a resource, so its keys are checked per resource.
	defaults bool
	// suggested holds the paths of keys proposed by "did you mean"; validation
	// does not also call them missing.
	suggested []string
}

var (
	durationType   = reflect.TypeOf(Duration(0))
	byteSizeType   = reflect.TypeOf(ByteSize(0))
	stringListType = reflect.TypeOf(StringList(nil))
	paginatorType  = reflect.TypeOf(Paginator{})
)

// problem records a problem about node n unless n was inherited.
func (d *decoder) problem(n *yaml.Node, path, format string, args ...any) {
	if d.inherited[n] {
		return
	}
	d.p.add(path, n.Line, format, args...)
}

// show quotes a scalar for a message.
func (d *decoder) show(n *yaml.Node) string {
	if o, ok := d.orig[n]; ok {
		return strconv.Quote(o) + " (after interpolation)"
	}
	return strconv.Quote(n.Value)
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// decode stores n into v. A null leaves v at its zero value (nil for pointers), so
// "absent" and "key: ~" mean the same.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = resolveAlias(n)
	if isNull(n) {
		return
	}
	switch v.Type() {
	case durationType:
		d.scalar(n, v, path, "a duration (write e.g. 30s or 500ms)", func(s string) (int64, bool) {
			t, err := time.ParseDuration(s)
			return int64(t), err == nil
		})
		return
	case byteSizeType:
		d.scalar(n, v, path, "a size (write e.g. 64MiB, 512KiB, 1GB or a number of bytes)", parseByteSize)
		return
	case stringListType:
		if n.Kind == yaml.ScalarNode {
			v.Set(reflect.ValueOf(StringList{n.Value}))
			return
		}
	case paginatorType:
		if n.Kind == yaml.ScalarNode {
			v.Set(reflect.ValueOf(Paginator{Type: n.Value}))
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		d.decode(n, e.Elem(), path)
		v.Set(e)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.sequence(n, v, path)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.problem(n, path, "%v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.problem(n, path, "want a single value, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		d.scalar(n, v, path, "true or false", parseBool)
	case reflect.Int, reflect.Int64:
		d.scalar(n, v, path, "an integer", func(s string) (int64, bool) {
			i, err := strconv.ParseInt(s, 10, 64)
			return i, err == nil
		})
	default:
		d.problem(n, path, "cannot decode into %s (a bug in elt)", v.Type())
	}
}

// scalar parses a scalar with parse and stores the result in an integer or bool v.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path, want string, parse func(string) (int64, bool)) {
	if n.Kind != yaml.ScalarNode {
		d.problem(n, path, "want %s, got %s", strings.SplitN(want, " (", 2)[0], kindName(n))
		return
	}
	x, ok := parse(strings.TrimSpace(n.Value))
	if !ok {
		d.problem(n, path, "%s is not %s", d.show(n), want)
		return
	}
	if v.Kind() == reflect.Bool {
		v.SetBool(x != 0)
		return
	}
	v.SetInt(x)
}

// fieldsByKey maps each yaml key of struct type t to its field index.
func fieldsByKey(t reflect.Type) (map[string]int, []string) {
	idx := map[string]int{}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		idx[key] = i
		keys = append(keys, key)
	}
	return idx, keys
}

// structure decodes a mapping into a struct; unknown and duplicate keys are
// problems.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	idx, keys := fieldsByKey(v.Type())
	d.eachKey(n, path, func(k, val *yaml.Node, p string) {
		i, ok := idx[k.Value]
		if !ok {
			hint, key := suggest(k.Value, keys)
			if key != "" {
				d.suggested = append(d.suggested, joinPath(path, key))
			}
			d.problem(k, p, "unknown key (%s)", hint)
			return
		}
		d.decode(val, v.Field(i), p)
	})
	if v.Type() == paginatorType && !d.defaults {
		d.paginatorKeys(n, v.Addr().Interface().(*Paginator), path)
	}
}

// paginatorKeys rejects keys that exist on Paginator but not for its type, which
// would otherwise be silently ignored. It reports inherited keys too: the mismatch
// only exists once the resource picks the type.
func (d *decoder) paginatorKeys(n *yaml.Node, pg *Paginator, path string) {
	allowed, ok := paginatorKeys[pg.Type]
	if !ok {
		return // an unknown type is reported by validation
	}
	idx, _ := fieldsByKey(paginatorType)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, known := idx[k.Value]; !known || k.Value == "type" || slices.Contains(allowed, k.Value) {
			continue
		}
		keys := "it takes no other keys"
		if len(allowed) > 0 {
			keys = "its keys: " + strings.Join(allowed, ", ")
		}
		d.p.add(joinPath(path, k.Value), k.Line, "not a key of the %s paginator (%s)", pg.Type, keys)
	}
}

// mapping decodes a mapping into a map with string keys. For map[string]string any
// scalar is taken as its text, so `limit: 500` gives "500".
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.eachKey(n, path, func(k, val *yaml.Node, p string) {
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, p)
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	})
}

// eachKey calls f for every key of a mapping, recording the key's line under its
// path, and reports non-scalar and duplicate keys.
func (d *decoder) eachKey(n *yaml.Node, path string, f func(k, v *yaml.Node, path string)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolveAlias(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.problem(k, path, "a key must be a single value, got %s", kindName(k))
			continue
		}
		p := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.problem(k, p, "duplicate key (first set at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		if !isNull(resolveAlias(val)) {
			d.p.lines[p] = k.Line
		}
		f(k, val, p)
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problem(n, path, "want a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.p.lines[p] = c.Line
		d.decode(c, s.Index(i), p)
	}
	v.Set(s)
}

var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// parseByteSize reads "1048576", "64MiB", "1.5GiB", "10 MB".
func parseByteSize(s string) (int64, bool) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	mult, ok := byteUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || num == "" {
		return 0, false
	}
	b := math.Round(f * mult)
	if b > math.MaxInt64 {
		return 0, false
	}
	return int64(b), true
}

// suggest names the closest known key, or lists them all when none is close.
func suggest(key string, known []string) (hint, closest string) {
	best, bestD := "", 1<<30
	for _, k := range known {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	if bestD <= min(3, 1+len(key)/5) {
		return fmt.Sprintf("did you mean %q?", best), best
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return "known keys: " + strings.Join(sorted, ", "), ""
}

// editDistance is the optimal-string-alignment distance: insertions, deletions,
// substitutions and adjacent transpositions ("tpye" is one edit from "type").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// parseBool accepts YAML 1.2's spellings of true and false only; "yes" or "1" are
// more likely mistakes than intent.
func parseBool(s string) (int64, bool) {
	switch s {
	case "true", "True", "TRUE":
		return 1, true
	case "false", "False", "FALSE":
		return 0, true
	}
	return 0, false
}
