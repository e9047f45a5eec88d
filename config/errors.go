package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one thing wrong with a config file. Path is the YAML path of the
// offending value ("source.resources[1].endpoint.path"), empty for file-level
// problems such as a YAML syntax error; Line is 1-based, 0 when unknown.
type Problem struct {
	Path string
	Line int
	Msg  string
}

// String renders "line 12: source.client.timeout: msg", dropping the parts that are
// unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is every problem found in one config file. It is returned for anything the
// user must fix in the file (syntax, unknown keys, types, missing environment
// variables, invalid values), so a CLI can map it to a usage exit code with
// errors.As. Messages never contain secret values.
type Error struct {
	File     string
	Problems []Problem
}

// Error renders one problem on one line, several as an indented list.
func (e *Error) Error() string {
	prefix := "config"
	if e.File != "" {
		prefix += " " + e.File
	}
	if len(e.Problems) == 1 {
		return fmt.Sprintf("%s: %s", prefix, e.Problems[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", prefix, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects Problems while a file is processed. lines maps every YAML path
// that was present in the file to its line, so that checks made after decoding
// (validation) can still point at a line.
type problems struct {
	list  []Problem
	lines map[string]int
}

func newProblems() *problems { return &problems{lines: map[string]int{}} }

// add records a problem at an exact line.
func (p *problems) add(path string, line int, format string, args ...any) {
	p.list = append(p.list, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// at records a problem found after decoding; its line is that of the path or, when
// the key is absent, of its nearest ancestor present in the file.
func (p *problems) at(path, format string, args ...any) {
	p.add(path, p.lineOf(path), format, args...)
}

// present reports whether the file set path to a non-null value.
func (p *problems) present(path string) bool {
	_, ok := p.lines[path]
	return ok
}

func (p *problems) lineOf(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		path = parentPath(path)
	}
	return 0
}

// parentPath strips the last ".key" or "[i]" of a path.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// under reports whether path is prefix itself or inside it.
func under(path, prefix string) bool {
	if !strings.HasPrefix(path, prefix) {
		return false
	}
	rest := path[len(prefix):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// err returns the collected problems as an *Error sorted by line (file-level
// problems first), or nil.
func (p *problems) err(file string) error {
	if len(p.list) == 0 {
		return nil
	}
	list := append([]Problem(nil), p.list...)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Line < list[j].Line })
	return &Error{File: file, Problems: list}
}

// joinPath appends a mapping key to a path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
