package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/eltdev/elt/config"
	"github.com/eltdev/elt/load/duckdb"
	"github.com/eltdev/elt/pipeline"
)

// openDestination opens the configured destination.
func openDestination(ctx context.Context, cfg *config.Config) (*duckdb.Destination, error) {
	switch cfg.Destination.Type {
	case "duckdb":
		path := cfg.Destination.Path
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, fmt.Errorf("destination.path: cannot create %s: %w", dir, err)
			}
		}
		return duckdb.Open(ctx, path, cfg.Destination.Dataset)
	}
	return nil, &config.Error{Problems: []config.Problem{{Path: "destination.type", Msg: fmt.Sprintf("unknown destination %q (want duckdb)", cfg.Destination.Type)}}}
}

// parseCommand parses a config-reading command's flags (the common ones, plus any
// that extra registers) and loads its config.
func parseCommand(name string, args []string, extra func(*flag.FlagSet)) (common, *config.Config, error) {
	var c common
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c.register(fs, true)
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return c, nil, err
	}
	cfg, err := c.load()
	return c, cfg, err
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var fullRefresh bool
	c, cfg, err := parseCommand("run", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&fullRefresh, "full-refresh", false, "ignore committed cursors and read everything again")
	})
	if err != nil {
		return err
	}
	_, err = syncOnce(ctx, cfg, c, fullRefresh, stdout, stderr)
	return err
}

// syncOnce runs the pipeline once and prints its summary.
func syncOnce(ctx context.Context, cfg *config.Config, c common, fullRefresh bool, stdout, stderr io.Writer) (pipeline.Summary, error) {
	log, err := c.logger(stderr)
	if err != nil {
		return pipeline.Summary{}, err
	}
	dest, err := openDestination(ctx, cfg)
	if err != nil {
		return pipeline.Summary{}, err
	}
	defer dest.Close()
	opts := pipeline.Options{Streams: c.streams, FullRefresh: fullRefresh, Logger: log}
	if !c.quiet {
		opts.Progress = stderr
	}
	sum, err := pipeline.Run(ctx, cfg, dest, opts)
	printSummary(stdout, sum)
	return sum, err
}

func printSummary(w io.Writer, sum pipeline.Summary) {
	if sum.RunID == "" {
		return
	}
	fmt.Fprintf(w, "run %s %s\n", sum.RunID, sum.Status)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stream\ttable\tpages\tread\twritten\tskipped\tduplicates\tdead letters\tmigrations\tcursor\t")
	for _, s := range sum.Streams {
		cursor := s.Cursor
		if cursor == "" {
			cursor = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", s.Stream, s.Table, s.Pages, s.RowsRead,
			s.RowsWritten, s.Skipped, s.Duplicates, s.DeadLetters, s.Migrations, cursor)
	}
	tw.Flush()
}

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, cfg, err := parseCommand("check", args, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "config %s: ok (pipeline %s, %d streams)\n", c.configPath, cfg.Pipeline, len(cfg.Source.Resources))
	dest, err := openDestination(ctx, cfg)
	if err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	defer dest.Close()
	if err := dest.Setup(ctx); err != nil {
		return fmt.Errorf("destination not writable: %w", err)
	}
	fmt.Fprintf(stdout, "destination %s %s (dataset %s): writable\n", cfg.Destination.Type, cfg.Destination.Path, cfg.Destination.Dataset)
	found, err := pipeline.Discover(ctx, cfg, pipeline.Options{Streams: c.streams})
	if err != nil {
		return err
	}
	var failed []error
	for _, d := range found {
		if d.Err != nil {
			fmt.Fprintf(stdout, "source %s: FAILED: %v\n", d.Stream, d.Err)
			failed = append(failed, fmt.Errorf("stream %s: %w", d.Stream, d.Err))
			continue
		}
		fmt.Fprintf(stdout, "source %s: reachable (%d records on the first page)\n", d.Stream, d.Records)
	}
	return errors.Join(failed...)
}

func cmdDiscover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, cfg, err := parseCommand("discover", args, nil)
	if err != nil {
		return err
	}
	found, err := pipeline.Discover(ctx, cfg, pipeline.Options{Streams: c.streams})
	if err != nil {
		return err
	}
	var failed []error
	for _, d := range found {
		if d.Err != nil {
			failed = append(failed, fmt.Errorf("stream %s: %w", d.Stream, d.Err))
			continue
		}
		fmt.Fprintf(stdout, "%s → table %s.%s (%d records on the first page)\n", d.Stream, cfg.Destination.Dataset, d.Table, d.Records)
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		for _, col := range d.Columns {
			fmt.Fprintf(tw, "    %s\t%s\n", col.Name, col.Type)
		}
		tw.Flush()
		for _, r := range d.Rejected {
			fmt.Fprintf(stdout, "    dead letter: record %d: %s: %s\n", r.Index, r.Code, r.Reason)
		}
	}
	return errors.Join(failed...)
}

func cmdState(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "reset") {
		return usageError{"state: say 'show' or 'reset', e.g. elt state show -c FILE"}
	}
	action := args[0]
	c, cfg, err := parseCommand("state "+action, args[1:], nil)
	if err != nil {
		return err
	}
	if _, err := pipeline.Select(cfg, c.streams); err != nil {
		return err
	}
	dest, err := openDestination(ctx, cfg)
	if err != nil {
		return err
	}
	defer dest.Close()
	if err := dest.Setup(ctx); err != nil {
		return err
	}
	if action == "reset" {
		if err := dest.ResetState(ctx, cfg.Pipeline, c.streams); err != nil {
			return err
		}
		what := "every stream"
		if len(c.streams) > 0 {
			what = fmt.Sprint(c.streams)
		}
		fmt.Fprintf(stdout, "state reset for %s of pipeline %s: the next run reads from the initial values\n", what, cfg.Pipeline)
		return nil
	}
	cps, err := dest.Checkpoints(ctx, cfg.Pipeline)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "stream\tcursor\tbatch\trun\tcommitted")
	for _, cp := range cps {
		if len(c.streams) > 0 && !contains(c.streams, cp.Stream) {
			continue
		}
		cursor := cp.Cursor
		if cursor == "" {
			cursor = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", cp.Stream, cursor, cp.Batch, cp.RunID, cp.CommittedAt.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
