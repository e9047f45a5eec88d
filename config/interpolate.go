package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// interpolate replaces ${VAR} and ${VAR:-default} in every scalar value (never in
// keys) of the tree, before typed decoding, so that `port: ${PORT}` can still be an
// integer. $${ is a literal ${. Every missing variable is recorded, not just the
// first, so one run tells the user everything to export. It returns the original
// text of each substituted node, so that later messages can show "${PORT}" rather
// than a value that may be secret.
func interpolate(n *yaml.Node, path string, lookup func(string) (string, bool), p *problems) map[*yaml.Node]string {
	orig := map[*yaml.Node]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], joinPath(path, n.Content[i].Value))
			}
		case yaml.ScalarNode:
			if !strings.Contains(n.Value, "${") {
				return
			}
			v, ok := expand(n.Value, lookup, func(format string, args ...any) {
				p.add(path, n.Line, format, args...)
			})
			if !ok || v == n.Value {
				return
			}
			orig[n] = n.Value
			n.Value = v
			if n.Style&(yaml.TaggedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
				n.Tag = "" // plain scalar: let YAML resolve the new text (int, bool, null...)
			}
		}
		// Alias nodes are skipped: their anchor is interpolated where it is defined.
	}
	walk(n, path)
	return orig
}

// expand substitutes variables in s; it reports each problem through report and
// returns ok=false if there was any.
func expand(s string, lookup func(string) (string, bool), report func(string, ...any)) (string, bool) {
	var b strings.Builder
	ok := true
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				report("unterminated ${ (close it with }, or write $${ for a literal ${)")
				return "", false
			}
			name, def, hasDef := strings.Cut(s[i+2:i+2+end], ":-")
			i += 2 + end + 1
			if !envName.MatchString(name) {
				report("%s is not a valid environment variable name (letters, digits and _; ${NAME} or ${NAME:-default})", strconv.Quote(name))
				ok = false
				continue
			}
			v, set := lookup(name)
			if hasDef && v == "" {
				v, set = def, true
			}
			if !set {
				report("missing environment variable %s (export it, or write ${%s:-default})", name, name)
				ok = false
				continue
			}
			b.WriteString(v)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), ok
}
