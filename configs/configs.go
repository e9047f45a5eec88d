// Package configs holds the example pipeline files. demo.yaml is embedded so that
// `elt demo` runs from any directory with nothing but the binary.
package configs

import _ "embed"

// Demo is configs/demo.yaml.
//
//go:embed demo.yaml
var Demo []byte
