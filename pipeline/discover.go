package pipeline

import (
	"context"
	"fmt"

	"github.com/eltdev/elt/config"
	"github.com/eltdev/elt/extract"
	"github.com/eltdev/elt/normalize"
	"github.com/eltdev/elt/schemaevo"
)

// Discovery is what one stream's first page looks like as a table.
type Discovery struct {
	Stream   string
	Table    string
	Records  int                   // records on the first page
	Columns  []schemaevo.Column    // the table the page would create
	Rejected []normalize.Rejection // records of the page that would be dead letters
	Err      error                 // the source could not be read
}

// Discover reads the first page of each selected stream (from the initial value of
// its cursor) and infers the table it would load into. Nothing is written.
func Discover(ctx context.Context, cfg *config.Config, opts Options) ([]Discovery, error) {
	opts = withDefaults(opts)
	resources, err := Select(cfg, opts.Streams)
	if err != nil {
		return nil, err
	}
	client, err := newClient(cfg, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Discovery, 0, len(resources))
	for _, res := range resources {
		out = append(out, discoverOne(ctx, client, res, opts))
	}
	return out, nil
}

func discoverOne(ctx context.Context, client *extract.Client, res config.Resource, opts Options) Discovery {
	d := Discovery{Stream: res.Name, Table: normalize.SnakeCase(res.Name)}
	stream, err := extract.NewStream(client, res)
	if err != nil {
		d.Err = err
		return d
	}
	start := ""
	if inc := res.Endpoint.Incremental; inc != nil {
		start = inc.InitialValue
	}
	page, err := stream.FirstPage(ctx, start)
	if err != nil {
		d.Err = err
		return d
	}
	d.Records = len(page.Records)
	result, err := normalize.New(normalizeOptions(res, opts)).Batch(page.Records, opts.Now().UTC())
	if err != nil {
		d.Err = fmt.Errorf("normalize: %w", err)
		return d
	}
	d.Rejected = result.Rejected
	if result.Record != nil {
		defer result.Record.Release()
		t, err := schemaevo.TableFromArrow(d.Table, result.Record.Schema())
		if err != nil {
			d.Err = err
			return d
		}
		d.Columns = t.Columns
	}
	return d
}
