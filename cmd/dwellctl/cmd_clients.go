package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// Import stream chunking: at most importBatch rows per message, and fewer
// when polygons are large, so that no message nears the server's 4 MiB
// limit.
const (
	importBatch    = 500
	importMaxBytes = 2 << 20
)

// maxTableErrors bounds the failed rows or fixes listed in table output;
// -o json lists them all.
const maxTableErrors = 50

// resourceName returns "coll/id" for an id, and leaves a name that already
// has the collection prefix alone.
func resourceName(coll, id string) string {
	if strings.HasPrefix(id, coll+"/") {
		return id
	}
	return coll + "/" + id
}

const clientsImportHelp = `Reads FILE ("-" for stdin) and streams its rows to the server in messages
of up to 500 clients. Each row creates the client or replaces the one with
the same id. Rows the server rejects are listed with their line (CSV) or
feature (GeoJSON) and field errors; good rows are stored anyway, and the exit
status is 1 if any row failed. A malformed file (bad CSV, a word where a
number belongs, an unknown kind) is reported by line and nothing is sent.

CSV: a header row and the columns (any order)
  id, display_name (or name), kind (prospect|customer), address, external_id,
  and either lat, lng, radius_m (a circle: degrees, degrees, metres)
  or wkt: POLYGON((lng lat, lng lat, ...), (hole ...), ...).
GeoJSON: a FeatureCollection of Point features (circles; properties.radius_m
  required) and Polygon features (first ring the shell, others holes);
  properties id (or the feature id), display_name or name, kind, address,
  external_id. Positions are [lng, lat].

A progress line is drawn on stderr when it is a terminal, or with --progress.
The import is one RPC: --timeout bounds all of it (0 for no limit).`

func clientsImportCommand() command {
	return command{
		name:    "clients import",
		args:    "FILE",
		summary: "bulk-load clients from a CSV or GeoJSON file",
		help:    clientsImportHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var format string
			var showProgress bool
			fs.StringVar(&format, "format", "", "csv or geojson (default: from the file extension .csv, .geojson, .json)")
			fs.BoolVar(&showProgress, "progress", false, "draw the progress line even when stderr is not a terminal")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				return clientsImport(ctx, e, g, args[0], format, showProgress)
			}
		},
	}
}

func clientsImport(ctx context.Context, e *env, g *globals, path, format string, showProgress bool) int {
	const name = "clients import"
	format, err := formatOf(path, format,
		map[string]string{".csv": formatCSV, ".geojson": formatGeoJSON, ".json": formatGeoJSON},
		formatCSV, formatGeoJSON)
	if err != nil {
		return e.usageError(name, "%v", err)
	}
	rows, err := readInput(e, path, func(r io.Reader) ([]clientRow, error) { return parseClients(r, format) })
	if err != nil {
		return e.inputFailed(name, path, err)
	}
	if len(rows) == 0 {
		return e.fail(name, fmt.Errorf("%s has no clients; nothing was sent", path))
	}

	conn, rctx, done, err := g.connect(ctx)
	if err != nil {
		return e.fail(name, err)
	}
	defer done()
	stream, err := dwellv1.NewDirectoryServiceClient(conn).ImportClients(rctx)
	if err != nil {
		return e.rpcError(name, g, err)
	}
	var pw io.Writer
	if showProgress || isTerminal(e.stderr) {
		pw = e.stderr
	}
	prog := newProgress(pw, "importing", "rows", len(rows), e.now)
	var (
		batch []*dwellv1.Client
		size  int
	)
	send := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := stream.Send(&dwellv1.ImportClientsRequest{Clients: batch})
		prog.add(len(batch))
		batch, size = nil, 0
		return err
	}
	var sendErr error
	for _, r := range rows {
		n := proto.Size(r.Client) + 8
		if len(batch) == importBatch || len(batch) > 0 && size+n > importMaxBytes {
			if sendErr = send(); sendErr != nil {
				break
			}
		}
		batch = append(batch, r.Client)
		size += n
	}
	if sendErr == nil {
		sendErr = send()
	}
	// After a failed Send (io.EOF), the status comes from CloseAndRecv.
	resp, err := stream.CloseAndRecv()
	prog.finish()
	if err != nil {
		return e.rpcError(name, g, err)
	}
	if sendErr != nil && !errors.Is(sendErr, io.EOF) {
		return e.rpcError(name, g, sendErr)
	}
	return printImportSummary(e, g, resp.GetReceived(), resp.GetStored(), resp.GetErrors(), rowSource(rows, func(r clientRow) source { return r.Src }))
}

// readInput opens path ("-" is stdin) and parses it.
func readInput[T any](e *env, path string, parse func(io.Reader) ([]T, error)) ([]T, error) {
	r, closeFn, err := openInput(path, e.stdin)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	return parse(r)
}

// inputFailed reports a file that could not be read or is malformed.
func (e *env) inputFailed(name, path string, err error) int {
	var ie *inputErrors
	if errors.As(err, &ie) {
		fmt.Fprintf(e.stderr, "dwellctl %s: %s is malformed; nothing was sent:\n", name, displayPath(path))
		for _, l := range strings.Split(ie.Error(), "\n") {
			fmt.Fprintf(e.stderr, "  %s\n", l)
		}
		return exitFail
	}
	return e.fail(name, err)
}

func displayPath(p string) string {
	if p == "-" {
		return "stdin"
	}
	return p
}

// importRowJSON is one failed row in the -o json summary of an import.
type importRowJSON struct {
	// Row is the zero-based index of the row in the stream, as the server
	// reports it.
	Row int64 `json:"row"`
	// Line is the 1-based line of the row (CSV) or of the feature's start
	// (GeoJSON).
	Line int `json:"line,omitempty"`
	// Feature is the 1-based number of the feature (GeoJSON only).
	Feature     int              `json:"feature,omitempty"`
	Name        string           `json:"name"`
	FieldErrors []fieldErrorJSON `json:"field_errors"`
}

type fieldErrorJSON struct {
	Field       string `json:"field"`
	Description string `json:"description"`
}

// rowSource returns where each row, as the server counts them, came from
// in the input file.
func rowSource[R any](rows []R, src func(R) source) func(row int64) source {
	return func(row int64) source {
		if row >= 0 && row < int64(len(rows)) {
			return src(rows[row])
		}
		return source{}
	}
}

// printImportSummary prints the answer of an import (received and stored
// rows, the errors of the first failed ones), naming each failed row by
// where srcOf says it came from in the input file.
func printImportSummary(e *env, g *globals, received, stored int64, errs []*dwellv1.ImportRowError, srcOf func(row int64) source) int {
	code := exitOK
	if len(errs) > 0 {
		code = exitFail
	}
	// The server lists the first 1,000 failed rows; the counts tell them all.
	failed := received - stored
	if g.json() {
		out := struct {
			Received int64           `json:"received"`
			Stored   int64           `json:"stored"`
			Failed   int             `json:"failed"`
			Errors   []importRowJSON `json:"errors"`
		}{received, stored, int(failed), []importRowJSON{}}
		for _, re := range errs {
			src := srcOf(re.GetRow())
			j := importRowJSON{Row: re.GetRow(), Line: src.Line, Feature: src.Feature, Name: re.GetName(), FieldErrors: []fieldErrorJSON{}}
			for _, fe := range re.GetFieldErrors() {
				j.FieldErrors = append(j.FieldErrors, fieldErrorJSON{fe.GetField(), fe.GetDescription()})
			}
			out.Errors = append(out.Errors, j)
		}
		printJSON(e.stdout, out)
		return code
	}
	tw := newTable(e.stdout)
	row(tw, "Received:", fmt.Sprint(received))
	row(tw, "Stored:", fmt.Sprint(stored))
	row(tw, "Failed:", fmt.Sprint(failed))
	tw.Flush()
	if len(errs) > 0 {
		fmt.Fprintln(e.stdout)
		tw = newTable(e.stdout)
		row(tw, "ROW", "NAME", "FIELD", "ERROR")
		for i, re := range errs {
			if i == maxTableErrors {
				tw.Flush()
				fmt.Fprintf(e.stdout, "... and %d more failed rows (-o json lists the first 1,000)\n", failed-int64(i))
				break
			}
			where := fmt.Sprintf("row %d", re.GetRow()+1)
			if src := srcOf(re.GetRow()); src.Line > 0 || src.Feature > 0 {
				where = src.String()
			}
			fes := re.GetFieldErrors()
			if len(fes) == 0 {
				row(tw, where, orDash(re.GetName()), "-", "rejected")
			}
			for _, fe := range fes {
				row(tw, where, orDash(re.GetName()), orDash(fe.GetField()), fe.GetDescription())
			}
		}
		tw.Flush()
	}
	return code
}

// listFlags are the paging flags of the list commands.
type listFlags struct {
	pageSize  int
	pageToken string
	all       bool
}

func (l *listFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.pageSize, "page-size", 0, "most results per page, 1 to 1000 (default: the server's, 100)")
	fs.StringVar(&l.pageToken, "page-token", "", "continue a previous listing from this `token`")
	fs.BoolVar(&l.all, "all", false, "follow next_page_token and list every page")
}

// list calls fetch page by page: once, or until the last page with --all.
// It returns the items, or the RPC error. Without --all a note on stderr
// says how to get the next page.
func list[T any](ctx context.Context, e *env, g *globals, l *listFlags, fetch func(ctx context.Context, pageSize int32, token string) ([]T, string, error)) ([]T, error) {
	var out []T
	token := l.pageToken
	for {
		rctx, cancel := g.rpcCtx(ctx)
		items, next, err := fetch(rctx, int32(l.pageSize), token)
		cancel()
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" {
			return out, nil
		}
		if !l.all {
			fmt.Fprintf(e.stderr, "More results: add --all, or --page-token %s\n", next)
			return out, nil
		}
		token = next
	}
}

func clientsListCommand() command {
	return command{
		name:    "clients list",
		summary: "list clients",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var l listFlags
			var kind string
			l.register(fs)
			fs.StringVar(&kind, "kind", "", "only prospect or customer clients")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "clients list"
				k, err := parseKind(kind)
				if err != nil {
					return e.usageError(name, "--%v", err)
				}
				conn, err := g.dial()
				if err != nil {
					return e.fail(name, err)
				}
				defer conn.Close()
				dc := dwellv1.NewDirectoryServiceClient(conn)
				clients, err := list(ctx, e, g, &l, func(ctx context.Context, size int32, token string) ([]*dwellv1.Client, string, error) {
					resp, err := dc.ListClients(ctx, &dwellv1.ListClientsRequest{PageSize: size, PageToken: token, Kind: k})
					return resp.GetClients(), resp.GetNextPageToken(), err
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printProtos(e.stdout, clients)
					return exitOK
				}
				tw := newTable(e.stdout)
				row(tw, "NAME", "DISPLAY NAME", "KIND", "FENCE", "CENTER", "ETAG")
				for _, c := range clients {
					row(tw, c.GetName(), c.GetDisplayName(), kindName(c.GetKind()), fenceSummary(c.GetGeofence()), fenceCenter(c.GetGeofence()), orDash(c.GetEtag()))
				}
				tw.Flush()
				return exitOK
			}
		},
	}
}

func clientsGetCommand() command {
	return command{
		name:    "clients get",
		args:    "NAME",
		summary: "show one client (NAME is an id or clients/ID)",
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "clients get"
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Client, error) {
					resp, err := dc.GetClient(ctx, &dwellv1.GetClientRequest{Name: resourceName("clients", args[0])})
					return resp.GetClient(), err
				}, nil, printClient)
			}
		},
	}
}

func printClient(e *env, g *globals, c *dwellv1.Client) int {
	return printRecord(e, g, c, [][2]string{
		{"Name:", c.GetName()},
		{"Display name:", c.GetDisplayName()},
		{"Kind:", kindName(c.GetKind())},
		{"Fence:", fenceSummary(c.GetGeofence())},
		{"Center:", fenceCenter(c.GetGeofence())},
		{"Address:", orDash(c.GetAddress())},
		{"External id:", orDash(c.GetExternalId())},
		{"Created:", formatTime(c.GetCreateTime())},
		{"Updated:", formatTime(c.GetUpdateTime())},
		{"Etag:", orDash(c.GetEtag())},
	})
}

const clientsDeleteHelp = `Deletes one client. Like any client change, the server then derives the
tenant's last 35 days again, now without the client: on those days its
visits (found from fixes at its geofence or claimed by check-ins) are gone
from every report (report day, breakdown, kpis, visits), their time idle
or travel as the fixes show it. Older days keep what they were derived
with, the client's id included, unless new data for such a day derives it
again. As five weeks of reports change, it asks for --yes.`

func clientsDeleteCommand() command {
	return command{
		name:    "clients delete",
		args:    "NAME --yes",
		summary: "delete one client; its visits of the last 35 days leave every report (--yes to confirm)",
		help:    clientsDeleteHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			yes := fs.Bool("yes", false, "confirm: the tenant's last 35 days are derived again without the client")
			del := deleteCommand("clients delete", "NAME", "clients", "", dwellv1.NewDirectoryServiceClient,
				func(ctx context.Context, dc dwellv1.DirectoryServiceClient, n string) error {
					_, err := dc.DeleteClient(ctx, &dwellv1.DeleteClientRequest{Name: n})
					return err
				}).flags(fs)
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				if !*yes {
					return e.usageError("clients delete", "deleting %s derives the tenant's last 35 days again without it: its visits on those days are gone from every report; pass --yes to confirm",
						resourceName("clients", args[0]))
				}
				return del(ctx, e, g, args)
			}
		},
	}
}

// deleteCommand is a command that deletes the resource coll/ARG with del
// and says so ("Deleted NAME", or {"name", "deleted"} with -o json).
func deleteCommand[C any](name, arg, coll, summary string, client func(grpc.ClientConnInterface) C, del func(context.Context, C, string) error) command {
	return command{
		name:    name,
		args:    arg,
		summary: summary,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				n := resourceName(coll, args[0])
				if err := del(rctx, client(conn), n); err != nil {
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printJSON(e.stdout, map[string]any{"name": n, "deleted": true})
					return exitOK
				}
				fmt.Fprintf(e.stdout, "Deleted %s\n", n)
				return exitOK
			}
		},
	}
}

// clientFlags are the flags of "clients create" and "clients update": every
// field of a Client an admin sets.
type clientFlags struct {
	displayName, kind, circle, wkt, address, externalID string
}

func (f *clientFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.displayName, "name", "", "display `name`")
	fs.StringVar(&f.kind, "kind", "", "prospect or customer")
	fs.StringVar(&f.circle, "circle", "", "a circular fence `LAT,LNG,RADIUS_M`: centre in degrees, radius in metres (10 to 5,000)")
	fs.StringVar(&f.wkt, "wkt", "", "a polygon fence `POLYGON((lng lat, ...), (hole ...))` in degrees, as clients import reads it")
	fs.StringVar(&f.address, "address", "", "postal `address`, free text")
	fs.StringVar(&f.externalID, "external-id", "", "the CRM's `id` of the client")
}

// client returns the client the flags describe and the update mask paths of
// the flags given. A malformed value (an unknown kind, coordinates that are
// not numbers or lie off the globe, a fence given twice) is an error naming
// its flag; what the server decides (a radius of 5 m, a self-crossing
// polygon) is left to it.
func (f *clientFlags) client(given map[string]bool) (*dwellv1.Client, []string, error) {
	c := &dwellv1.Client{DisplayName: f.displayName, Address: f.address, ExternalId: f.externalID}
	var paths []string
	if given["name"] {
		paths = append(paths, "display_name")
	}
	if given["address"] {
		paths = append(paths, "address")
	}
	if given["external-id"] {
		paths = append(paths, "external_id")
	}
	if given["kind"] {
		k, err := parseKind(f.kind)
		if err == nil && k == dwellv1.ClientKind_CLIENT_KIND_UNSPECIFIED {
			err = fmt.Errorf("kind is empty: want prospect or customer")
		}
		if err != nil {
			return nil, nil, fmt.Errorf("--%v", err)
		}
		c.Kind = k
		paths = append(paths, "kind")
	}
	if err := exclusive("circle", given["circle"], "wkt", given["wkt"]); err != nil {
		return nil, nil, err
	}
	var err error
	switch {
	case given["circle"]:
		c.Geofence, err = circleFlag(f.circle)
	case given["wkt"]:
		c.Geofence, err = wktFlag(f.wkt)
	}
	if err != nil {
		return nil, nil, err
	}
	if c.Geofence != nil {
		paths = append(paths, "geofence")
	}
	return c, paths, nil
}

// circleFlag parses --circle LAT,LNG,RADIUS_M.
func circleFlag(s string) (*dwellv1.Geofence, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return nil, fmt.Errorf("--circle %q: want LAT,LNG,RADIUS_M, such as -6.1754,106.8272,80", s)
	}
	g, err := csvFence(parts[0], parts[1], parts[2], "")
	if err == nil && g == nil {
		err = fmt.Errorf("want LAT,LNG,RADIUS_M")
	}
	if err == nil {
		err = onGlobe("", g.GetCircle().GetCenter())
	}
	if err != nil {
		return nil, fmt.Errorf("--circle %q: %v", s, err)
	}
	return g, nil
}

// wktFlag parses --wkt POLYGON((lng lat, ...)).
func wktFlag(s string) (*dwellv1.Geofence, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("--wkt is empty: want POLYGON((lng lat, ...))")
	}
	p, err := parseWKTPolygon(s)
	if err != nil {
		return nil, fmt.Errorf("--wkt: %v", err)
	}
	for i, r := range append([]*dwellv1.LinearRing{p.GetShell()}, p.GetHoles()...) {
		for j, v := range r.GetVertices() {
			if err := onGlobe(fmt.Sprintf("ring %d vertex %d: ", i+1, j+1), v); err != nil {
				return nil, fmt.Errorf("--wkt: %v (WKT is lng lat)", err)
			}
		}
	}
	return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: p}}, nil
}

// onGlobe checks that p is a point on the globe: latitude -90 to 90 and
// longitude -180 to 180 degrees. Coordinates swapped by mistake are caught
// here, before anything is sent.
func onGlobe(where string, p *dwellv1.LatLng) error {
	if lat := p.GetLat(); lat < -90 || lat > 90 {
		return fmt.Errorf("%slatitude %v is not between -90 and 90 degrees", where, lat)
	}
	if lng := p.GetLng(); lng < -180 || lng > 180 {
		return fmt.Errorf("%slongitude %v is not between -180 and 180 degrees", where, lng)
	}
	return nil
}

const clientFenceHelp = `The fence is a circle (--circle LAT,LNG,RADIUS_M: latitude and longitude of
the centre in degrees, the radius in metres, 10 to 5,000) or a polygon
(--wkt 'POLYGON((lng lat, lng lat, ...), (hole ...))', longitude first as in
every WKT file, 3 to 1,000 vertices), as "clients import" reads them.`

func clientsCreateCommand() command {
	return command{
		name:    "clients create",
		args:    "ID",
		summary: "create one client from flags (name, kind, a circle or polygon fence)",
		help:    clientFenceHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var f clientFlags
			f.register(fs)
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "clients create"
				c, _, err := f.client(visited(fs))
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Client, error) {
					resp, err := dc.CreateClient(ctx, &dwellv1.CreateClientRequest{
						ClientId: strings.TrimPrefix(args[0], "clients/"), Client: c,
					})
					return resp.GetClient(), err
				}, nil, printClient)
			}
		},
	}
}

func clientsUpdateCommand() command {
	return command{
		name:    "clients update",
		args:    "NAME",
		summary: "change a client: name, kind, fence, address, external id (only the flags given)",
		help: `Only the fields whose flags are given change; the others keep their values
(--address '' and --external-id '' remove those). A new fence re-derives the
tenant's last 35 days. With --etag the update applies only if the client is
unchanged since the read that showed that etag; if it changed, nothing is
changed and the exit status is 1.

` + clientFenceHelp,
		nargs: 1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var f clientFlags
			var etag string
			f.register(fs)
			fs.StringVar(&etag, "etag", "", etagUsage)
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "clients update"
				c, paths, err := f.client(visited(fs))
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				mask, err := updateMask(paths, "--name, --kind, --circle, --wkt, --address or --external-id")
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				c.Name, c.Etag = resourceName("clients", args[0]), etag
				return callDirectory(ctx, e, g, name, func(ctx context.Context, dc dwellv1.DirectoryServiceClient) (*dwellv1.Client, error) {
					resp, err := dc.UpdateClient(ctx, &dwellv1.UpdateClientRequest{Client: c, UpdateMask: mask})
					return resp.GetClient(), err
				}, func(err error) int { return e.updateFailed(name, g, c.Name, "clients get "+args[0], etag, err) }, printClient)
			}
		},
	}
}
