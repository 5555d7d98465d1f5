package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

const pingsUploadHelp = `Reads fixes from FILE ("-" for stdin) and uploads them in batches with
UploadPings, or over one StreamPings stream with --stream (batches are
pipelined and their acknowledgements matched by batch id). Prints how many
fixes were accepted, were duplicates (already stored) or were rejected, and
why each rejected fix was; the exit status is 1 if any fix was rejected.

JSONL (.jsonl, .ndjson): one object per line,
  {"id": "...", "time": "2026-03-02T08:15:00+07:00", "lat": -6.2, "lng": 106.8,
   "accuracy_m": 12, "speed_mps": 1.4, "bearing_deg": 90, "altitude_m": 8, "mock": false}
  where speed_mps, bearing_deg, altitude_m and mock may be left out.
CSV (.csv): header id,time,lat,lng,accuracy_m and optionally
  speed_mps,bearing_deg,altitude_m,mock.

Every fix needs an id, unique for its rep: ids make uploads idempotent, so
uploading the same file again (after a failure, say) stores nothing twice.
A rep token uploads for its own rep; a partner token needs --rep.
--timeout bounds each UploadPings call, or the whole stream with --stream.`

func pingsUploadCommand() command {
	return command{
		name:    "pings upload",
		args:    "FILE",
		summary: "upload a rep's position fixes from a JSONL or CSV file",
		help:    pingsUploadHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var o pingsOptions
			fs.StringVar(&o.rep, "rep", "", "the `rep`, ID or reps/ID (required with a partner token)")
			fs.StringVar(&o.format, "format", "", "jsonl or csv (default: from the file extension)")
			fs.IntVar(&o.batch, "batch", 500, "fixes per batch, 1 to 1000")
			fs.BoolVar(&o.stream, "stream", false, "send over one StreamPings stream instead of one UploadPings call per batch")
			fs.BoolVar(&o.progress, "progress", false, "draw the progress line even when stderr is not a terminal")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				o.path = args[0]
				return pingsUpload(ctx, e, g, o)
			}
		},
	}
}

type pingsOptions struct {
	path, rep, format string
	batch             int
	stream, progress  bool
}

// rejectionJSON is one rejected fix.
type rejectionJSON struct {
	Line    int              `json:"line"`
	ID      string           `json:"id"`
	Reasons []fieldErrorJSON `json:"reasons"`
}

// pingTotals adds up the acknowledgements of an upload.
type pingTotals struct {
	Fixes      int             `json:"fixes"`
	Batches    int             `json:"batches"`
	Acked      int             `json:"-"`
	Accepted   int             `json:"accepted"`
	Duplicates int             `json:"duplicates"`
	Rejected   int             `json:"rejected"`
	Rejections []rejectionJSON `json:"rejections"`
}

func (t *pingTotals) add(ack *dwellv1.BatchAck, chunk []fixRow) {
	t.Acked += len(chunk)
	t.Accepted += int(ack.GetAccepted())
	t.Duplicates += int(ack.GetDuplicates())
	t.Rejected += int(ack.GetRejected())
	for _, r := range ack.GetResults() {
		if r.GetStatus() != dwellv1.FixStatus_FIX_STATUS_REJECTED {
			continue
		}
		rj := rejectionJSON{ID: r.GetId(), Reasons: []fieldErrorJSON{}}
		if i := int(r.GetIndex()); i >= 0 && i < len(chunk) {
			rj.Line = chunk[i].Line
		}
		for _, v := range r.GetReasons() {
			rj.Reasons = append(rj.Reasons, fieldErrorJSON{v.GetField(), v.GetDescription()})
		}
		t.Rejections = append(t.Rejections, rj)
	}
}

func pingsUpload(ctx context.Context, e *env, g *globals, o pingsOptions) int {
	const name = "pings upload"
	if o.batch < 1 || o.batch > 1000 {
		return e.usageError(name, "--batch %d: want 1 to 1000", o.batch)
	}
	format, err := formatOf(o.path, o.format,
		map[string]string{".jsonl": formatJSONL, ".ndjson": formatJSONL, ".csv": formatCSV},
		formatJSONL, formatCSV)
	if err != nil {
		return e.usageError(name, "%v", err)
	}
	rows, err := readInput(e, o.path, func(r io.Reader) ([]fixRow, error) { return parsePings(r, format) })
	if err != nil {
		return e.inputFailed(name, o.path, err)
	}
	if len(rows) == 0 {
		return e.fail(name, fmt.Errorf("%s has no fixes; nothing was sent", displayPath(o.path)))
	}
	rep := ""
	if o.rep != "" {
		rep = resourceName("reps", o.rep)
	}
	var chunks [][]fixRow
	for i := 0; i < len(rows); i += o.batch {
		chunks = append(chunks, rows[i:min(i+o.batch, len(rows))])
	}

	conn, err := g.dial()
	if err != nil {
		return e.fail(name, err)
	}
	defer conn.Close()
	ic := dwellv1.NewIngestServiceClient(conn)
	var pw io.Writer
	if o.progress || isTerminal(e.stderr) {
		pw = e.stderr
	}
	prog := newProgress(pw, "uploading", "fixes", len(rows), e.now)
	totals := &pingTotals{Fixes: len(rows), Batches: len(chunks), Rejections: []rejectionJSON{}}
	if o.stream {
		err = streamPings(ctx, g, ic, rep, chunks, totals, prog)
	} else {
		err = uploadPings(ctx, g, ic, rep, chunks, totals, prog)
	}
	prog.finish()
	if err != nil {
		code := e.rpcError(name, g, err)
		if totals.Acked > 0 {
			fmt.Fprintf(e.stderr, "%d of %d fixes were acknowledged before the failure (%d accepted, %d duplicates, %d rejected).\n",
				totals.Acked, totals.Fixes, totals.Accepted, totals.Duplicates, totals.Rejected)
		}
		fmt.Fprintln(e.stderr, "Uploading the file again is safe: fixes already stored come back as duplicates.")
		return code
	}
	return printPingTotals(e, g, totals)
}

func fixesOf(chunk []fixRow) []*dwellv1.Fix {
	out := make([]*dwellv1.Fix, len(chunk))
	for i, r := range chunk {
		out[i] = r.Fix
	}
	return out
}

// uploadPings sends one UploadPings call per chunk, in order.
func uploadPings(ctx context.Context, g *globals, ic dwellv1.IngestServiceClient, rep string, chunks [][]fixRow, totals *pingTotals, prog *progress) error {
	for _, chunk := range chunks {
		rctx, cancel := g.rpcCtx(ctx)
		resp, err := ic.UploadPings(rctx, &dwellv1.UploadPingsRequest{Rep: rep, Fixes: fixesOf(chunk)})
		cancel()
		ack := resp.GetAck()
		if err != nil {
			if ack = allRejectedAck(err, chunk); ack == nil {
				return err
			}
		}
		totals.add(ack, chunk)
		prog.add(len(chunk))
	}
	return nil
}

// fixViolation matches the field path of a violation of one fix of a batch.
var fixViolation = regexp.MustCompile(`^fixes\[(\d+)\]\.?(.*)$`)

// allRejectedAck turns UploadPings' answer to a batch whose every fix was
// rejected (INVALID_ARGUMENT with a violation "fixes[i]...." per bad field)
// into the acknowledgement it stands for. It returns nil for any other
// error, which fails the upload.
func allRejectedAck(err error, chunk []fixRow) *dwellv1.BatchAck {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.InvalidArgument {
		return nil
	}
	reasons := make([][]*dwellv1.RejectedField, len(chunk))
	n := 0
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		for _, v := range br.GetFieldViolations() {
			m := fixViolation.FindStringSubmatch(v.GetField())
			if m == nil {
				return nil
			}
			i, err := strconv.Atoi(m[1])
			if err != nil || i >= len(chunk) {
				return nil
			}
			reasons[i] = append(reasons[i], &dwellv1.RejectedField{Field: m[2], Description: v.GetDescription()})
			n++
		}
	}
	if n == 0 {
		return nil
	}
	ack := &dwellv1.BatchAck{Rejected: int32(len(chunk))}
	for i, r := range chunk {
		rs := reasons[i]
		if len(rs) == 0 {
			rs = []*dwellv1.RejectedField{{Description: st.Message()}}
		}
		ack.Results = append(ack.Results, &dwellv1.FixResult{
			Index: int32(i), Id: r.Fix.GetId(), Status: dwellv1.FixStatus_FIX_STATUS_REJECTED, Reasons: rs,
		})
	}
	return ack
}

// streamPings sends every chunk over one StreamPings stream without waiting
// for acknowledgements, and matches the acknowledgements to the chunks by
// batch id (the chunk's 1-based number).
func streamPings(ctx context.Context, g *globals, ic dwellv1.IngestServiceClient, rep string, chunks [][]fixRow, totals *pingTotals, prog *progress) error {
	sctx, cancel := g.rpcCtx(ctx)
	defer cancel()
	stream, err := ic.StreamPings(sctx)
	if err != nil {
		return err
	}
	sent := make(chan error, 1)
	go func() {
		for i, chunk := range chunks {
			req := &dwellv1.StreamPingsRequest{Rep: rep, Fixes: fixesOf(chunk), BatchId: int64(i + 1)}
			if err := stream.Send(req); err != nil {
				sent <- err // io.EOF: the stream ended; Recv says why
				return
			}
		}
		sent <- stream.CloseSend()
	}()
	// On return, stop the sender (cancel ends a blocked Send) and wait for it.
	defer func() { cancel(); <-sent }()
	seen := make([]bool, len(chunks))
	for acked := 0; acked < len(chunks); acked++ {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("the server closed the stream after acknowledging %d of %d batches", acked, len(chunks))
		}
		if err != nil {
			return err
		}
		id := resp.GetBatchId()
		if id < 1 || id > int64(len(chunks)) || seen[id-1] {
			return fmt.Errorf("the server acknowledged an unknown or repeated batch id %d", id)
		}
		seen[id-1] = true
		totals.add(resp.GetAck(), chunks[id-1])
		prog.add(len(chunks[id-1]))
	}
	return nil
}

func printPingTotals(e *env, g *globals, t *pingTotals) int {
	code := exitOK
	if t.Rejected > 0 {
		code = exitFail
	}
	if g.json() {
		printJSON(e.stdout, t)
		return code
	}
	batches := "batches"
	if t.Batches == 1 {
		batches = "batch"
	}
	tw := newTable(e.stdout)
	row(tw, "Fixes:", fmt.Sprintf("%d (in %d %s)", t.Fixes, t.Batches, batches))
	row(tw, "Accepted:", fmt.Sprint(t.Accepted))
	row(tw, "Duplicates:", fmt.Sprint(t.Duplicates))
	row(tw, "Rejected:", fmt.Sprint(t.Rejected))
	tw.Flush()
	if len(t.Rejections) > 0 {
		fmt.Fprintln(e.stdout)
		tw = newTable(e.stdout)
		row(tw, "LINE", "ID", "FIELD", "REASON")
		for i, r := range t.Rejections {
			if i == maxTableErrors {
				tw.Flush()
				fmt.Fprintf(e.stdout, "... and %d more rejected fixes (-o json lists them all)\n", len(t.Rejections)-i)
				break
			}
			for _, reason := range r.Reasons {
				row(tw, strconv.Itoa(r.Line), r.ID, orDash(reason.Field), reason.Description)
			}
			if len(r.Reasons) == 0 {
				row(tw, strconv.Itoa(r.Line), r.ID, "-", "rejected")
			}
		}
		tw.Flush()
	}
	return code
}
