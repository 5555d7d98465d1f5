package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

const repsImportHelp = `Reads the CSV file FILE ("-" for stdin) and streams its rows to the server
in messages of up to 500 reps. Each row creates the rep or replaces the one
with the same id whole (its creation time kept); a new time zone or new
working hours derive the rep's recent days again. Rows the server rejects
(an unknown time zone, a team that does not exist) are listed with their line
and field errors; good rows are stored anyway, and the exit status is 1 if
any row failed. A malformed file is reported by line and nothing is sent.

CSV: a header row and the columns (any order)
  id, display_name (or name), time_zone, and optionally email, team (an id
  or teams/ID) and hours, in --hours syntax ("mon-fri 08:00-17:00, sat
  09:00-13:00": quote the field, it has commas).

The import is one RPC: --timeout bounds all of it (0 for no limit).`

func repsImportCommand() command {
	return command{
		name:    "reps import",
		args:    "FILE",
		summary: "bulk-load reps from a CSV file",
		help:    repsImportHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				return repsImport(ctx, e, g, args[0])
			}
		},
	}
}

// repRow is one rep read from an import file.
type repRow struct {
	Rep *dwellv1.Rep
	Src source
}

var repColumns = []string{"id", "display_name", "email", "time_zone", "team", "hours"}

// parseRepsCSV reads a reps import file. Like parseClientsCSV it checks
// syntax only (the hours must parse); the server judges the values.
func parseRepsCSV(r io.Reader) ([]repRow, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return nil, oneInputError(source{Line: 1}, "empty file: a header row is required (%s)", strings.Join(repColumns, ","))
	}
	if err != nil {
		return nil, csvError(err)
	}
	col, err := csvHeader(header, repColumns, map[string]string{"name": "display_name"})
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, c := range []string{"id", "display_name", "time_zone"} {
		if _, ok := col[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, oneInputError(source{Line: 1}, "header lacks column %s", strings.Join(missing, ", "))
	}
	var rows []repRow
	var errs errList
	err = eachCSVRow(cr, col, &errs, func(src source, get func(string) string) {
		wh, err := parseHours(get("hours"))
		if err != nil {
			errs.add(src, "hours: %v", err)
			return
		}
		rep := &dwellv1.Rep{
			Name:         resourceName("reps", get("id")),
			DisplayName:  get("display_name"),
			Email:        get("email"),
			TimeZone:     get("time_zone"),
			WorkingHours: wh,
		}
		if t := get("team"); t != "" {
			rep.Team = resourceName("teams", t)
		}
		rows = append(rows, repRow{Rep: rep, Src: src})
	})
	if err != nil {
		return nil, err
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return rows, nil
}

func repsImport(ctx context.Context, e *env, g *globals, path string) int {
	const name = "reps import"
	rows, err := readInput(e, path, parseRepsCSV)
	if err != nil {
		return e.inputFailed(name, path, err)
	}
	if len(rows) == 0 {
		return e.fail(name, fmt.Errorf("%s has no reps; nothing was sent", path))
	}
	conn, rctx, done, err := g.connect(ctx)
	if err != nil {
		return e.fail(name, err)
	}
	defer done()
	stream, err := dwellv1.NewDirectoryServiceClient(conn).ImportReps(rctx)
	if err != nil {
		return e.rpcError(name, g, err)
	}
	var sendErr error
	for i := 0; i < len(rows) && sendErr == nil; i += importBatch {
		batch := make([]*dwellv1.Rep, 0, importBatch)
		for _, r := range rows[i:min(i+importBatch, len(rows))] {
			batch = append(batch, r.Rep)
		}
		sendErr = stream.Send(&dwellv1.ImportRepsRequest{Reps: batch})
	}
	// After a failed Send (io.EOF), the status comes from CloseAndRecv.
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return e.rpcError(name, g, err)
	}
	if sendErr != nil && !errors.Is(sendErr, io.EOF) {
		return e.rpcError(name, g, sendErr)
	}
	return printImportSummary(e, g, resp.GetReceived(), resp.GetStored(), resp.GetErrors(), rowSource(rows, func(r repRow) source { return r.Src }))
}
