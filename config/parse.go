package config

import (
	"errors"
	"os"
	"reflect"
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the pipeline file at path, taking ${VAR}s from the process
// environment. Every problem in the file, including an unreadable file, is an
// *Error.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{File: path, Problems: []Problem{{Msg: "cannot read: " + err.Error()}}}
	}
	return Parse(data, path, os.LookupEnv)
}

// Parse decodes a pipeline file. filename is only used in messages; lookupEnv
// resolves ${VAR}s (os.LookupEnv in production, a map in tests).
//
// The steps, in order: YAML syntax; ${VAR} interpolation (stops here if a variable
// is missing, since everything after would be noise); merging resource_defaults
// into each resource; strict typed decoding; defaults; validation. All problems of
// a step are collected and returned together as an *Error.
func Parse(data []byte, filename string, lookupEnv func(string) (string, bool)) (*Config, error) {
	p := newProblems()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.list = append(p.list, syntaxProblem(err))
		return nil, p.err(filename)
	}
	if len(doc.Content) == 0 {
		p.add("", 0, "the file is empty")
		return nil, p.err(filename)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		p.add("", root.Line, "want a mapping with pipeline, source and destination, got %s", kindName(root))
		return nil, p.err(filename)
	}

	orig := interpolate(root, "", lookupEnv, p)
	if len(p.list) > 0 {
		return nil, p.err(filename)
	}

	d := &decoder{p: p, orig: orig, inherited: mergeResourceDefaults(root)}
	var cfg Config
	d.decode(root, reflect.ValueOf(&cfg).Elem(), "")
	if defs := lookup(root, "source", "resource_defaults"); defs != nil && defs.Kind == yaml.MappingNode {
		// Check the defaults once, where they are written; their copies in each
		// resource are not reported again.
		var scratch Resource
		(&decoder{p: p, orig: orig, defaults: true}).decode(defs, reflect.ValueOf(&scratch).Elem(), "source.resource_defaults")
	}
	skip := append([]string(nil), d.suggested...)
	for _, q := range p.list {
		skip = append(skip, q.Path)
	}

	applyDefaults(&cfg, p.present)
	v := newProblems()
	v.lines = p.lines
	validate(&cfg, v)
	// A value that failed to decode is zero; do not also complain that it is
	// missing or out of range.
	for _, vp := range v.list {
		if !underAny(vp.Path, skip) {
			p.list = append(p.list, vp)
		}
	}
	if err := p.err(filename); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func underAny(path string, prefixes []string) bool {
	for _, q := range prefixes {
		if q != "" && under(path, q) {
			return true
		}
	}
	return false
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns a yaml.v3 parse error into a Problem with its line.
func syntaxProblem(err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return Problem{Line: line, Msg: "YAML syntax: " + m[2]}
	}
	return Problem{Msg: "YAML syntax: " + msg}
}

// lookup follows mapping keys from n; nil if any is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = resolveAlias(n)
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return resolveAlias(n)
}

// mergeResourceDefaults deep-merges source.resource_defaults into every mapping in
// source.resources: nested mappings merge key by key, anything else a resource sets
// wins whole (lists are replaced, not appended). Default nodes are shared, never
// modified; the returned set holds them so that their problems are reported once.
// Shape errors (defaults not a mapping, a resource not a mapping) are left to the
// decoder.
func mergeResourceDefaults(root *yaml.Node) map[*yaml.Node]bool {
	inherited := map[*yaml.Node]bool{}
	defs, list := lookup(root, "source", "resource_defaults"), lookup(root, "source", "resources")
	if defs == nil || defs.Kind != yaml.MappingNode || list == nil || list.Kind != yaml.SequenceNode {
		return inherited
	}
	markAll(defs, inherited)
	for _, r := range list.Content {
		mergeMapping(resolveAlias(r), defs)
	}
	return inherited
}

func mergeMapping(dst, src *yaml.Node) {
	if dst.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(src.Content); i += 2 {
		k, v := src.Content[i], resolveAlias(src.Content[i+1])
		own := lookup(dst, k.Value)
		switch {
		case own == nil:
			dst.Content = append(dst.Content, k, v)
		case own.Kind == yaml.MappingNode && v.Kind == yaml.MappingNode:
			mergeMapping(own, v)
		}
	}
}

func markAll(n *yaml.Node, set map[*yaml.Node]bool) {
	set[n] = true
	for _, c := range n.Content {
		markAll(c, set)
	}
}

// Resource returns the resource with that name.
func (c *Config) Resource(name string) (*Resource, bool) {
	for i := range c.Source.Resources {
		if c.Source.Resources[i].Name == name {
			return &c.Source.Resources[i], true
		}
	}
	return nil, false
}

// DeclaredType returns the normalized data_type declared for a source field in
// columns (one of text, bigint, double, bool, decimal, date, timestamp, json), and
// false if the field has no declaration.
func (r Resource) DeclaredType(field string) (string, bool) {
	spec, ok := r.Columns[field]
	if !ok {
		return "", false
	}
	t, ok := dataTypes[spec.DataType]
	return t, ok
}

// StopsAfterEmptyPage reports whether pagination ends at the first page without
// records: stop_after_empty_page, true when unset.
func (p *Paginator) StopsAfterEmptyPage() bool {
	return p == nil || p.StopAfterEmptyPage == nil || *p.StopAfterEmptyPage
}
