// Command elt syncs HTTP APIs into warehouses. It only parses flags and wires the
// packages together; the run loop is package pipeline.
//
// Exit codes: 0 success, 1 the run failed, 2 usage or config error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/eltdev/elt/config"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `elt syncs HTTP APIs into DuckDB, exactly once per batch.

Usage:
  elt run      -c FILE [--stream NAME]... [--full-refresh]   sync the pipeline
  elt check    -c FILE                                       config valid, source reachable, destination writable
  elt discover -c FILE [--stream NAME]...                    the table each stream's first page would make
  elt state    show|reset -c FILE [--stream NAME]...         committed cursors; reset forgets them
  elt demo     [--db FILE]                                   sync a built-in demo API into ./demo.duckdb
  elt version

Common flags: --log-level debug|info|warn|error (default warn), --log-format text|json, -q (no progress)
Exit codes: 0 ok, 1 run failed, 2 usage or config error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is a mistake in how elt was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "run":
		err = cmdRun(ctx, rest, stdout, stderr)
	case "check":
		err = cmdCheck(ctx, rest, stdout, stderr)
	case "discover":
		err = cmdDiscover(ctx, rest, stdout, stderr)
	case "state":
		err = cmdState(ctx, rest, stdout, stderr)
	case "demo":
		err = cmdDemo(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "elt", version)
		return exitOK
	default:
		err = usageError{fmt.Sprintf("unknown command %q; run 'elt help' for the list", cmd)}
	}
	return report(err, stderr)
}

// report prints err for a person and picks the exit code.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	var ce *config.Error
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "elt: %v\n", err)
		return exitUsage
	case errors.As(err, &ce):
		fmt.Fprintf(stderr, "elt: %v\nFix the config and run again.\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "elt: %v\n", err)
		return exitFailed
	}
}

var version = "dev"

// common are the flags every command that reads a config takes.
type common struct {
	configPath string
	streams    stringsFlag
	logLevel   string
	logFormat  string
	quiet      bool
}

func (c *common) register(fs *flag.FlagSet, withStreams bool) {
	fs.StringVar(&c.configPath, "c", "", "pipeline config file (YAML)")
	fs.StringVar(&c.configPath, "config", "", "pipeline config file (YAML)")
	if withStreams {
		fs.Var(&c.streams, "stream", "only this stream (repeatable)")
	}
	fs.StringVar(&c.logLevel, "log-level", "warn", "debug|info|warn|error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text|json")
	fs.BoolVar(&c.quiet, "q", false, "no progress lines")
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return err
		}
		return usageError{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return nil
}

func (c *common) load() (*config.Config, error) {
	if c.configPath == "" {
		return nil, usageError{"missing -c FILE: the pipeline config to use (see configs/demo.yaml)"}
	}
	return config.Load(c.configPath)
}

func (c *common) logger(stderr io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usageError{fmt.Sprintf("--log-level: %q is not one of debug, info, warn, error", c.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, opts)), nil
	}
	return nil, usageError{fmt.Sprintf("--log-format: %q is not text or json", c.logFormat)}
}

// stringsFlag collects a repeatable flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}
