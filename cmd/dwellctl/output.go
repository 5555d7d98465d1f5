package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// protoJSON is how messages are printed with -o json: proto field names
// (display_name, not displayName), as in the .proto files and the import
// file formats. protojson.Unmarshal reads it back.
var protoJSON = protojson.MarshalOptions{UseProtoNames: true}

// outWriter is the stdout of one invocation. It remembers the first write
// error (a full disk, a closed pipe) and fails every later write with it,
// so that the invocation exits 1 naming the error even though most printing
// ignores the error of each write: a list, a report or an import summary
// that did not reach its reader is never a success.
type outWriter struct {
	mu       sync.Mutex
	w        io.Writer
	err      error // the first write error
	reported bool  // err was printed on stderr
}

func (o *outWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		o.err = err
	}
	return n, err
}

// noteReported records that err, printed on stderr, carries the write
// error, so that it is not printed again.
func (o *outWriter) noteReported(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil && errors.Is(err, o.err) {
		o.reported = true
	}
}

// checkOutput returns the exit code of an invocation that returned code:
// exitFail, with the write error on stderr after prefix ("dwellctl clients
// list"), when some of its output could not be written; code otherwise.
func (e *env) checkOutput(prefix string, code int) int {
	o, ok := e.stdout.(*outWriter)
	if !ok {
		return code
	}
	o.mu.Lock()
	err, reported := o.err, o.reported
	o.reported = o.reported || err != nil
	o.mu.Unlock()
	if err == nil {
		return code
	}
	if !reported {
		fmt.Fprintf(e.stderr, "%s: writing the output: %v\n", prefix, err)
	}
	if code == exitOK {
		return exitFail
	}
	return code
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printProto writes one message as indented JSON.
func printProto(w io.Writer, m proto.Message) error {
	b, err := protoJSON.Marshal(m)
	if err != nil {
		return err
	}
	return writeIndented(w, b)
}

// printProtos writes messages as an indented JSON array.
func printProtos[M proto.Message](w io.Writer, ms []M) error {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, m := range ms {
		if i > 0 {
			buf.WriteByte(',')
		}
		b, err := protoJSON.Marshal(m)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	return writeIndented(w, buf.Bytes())
}

func writeIndented(w io.Writer, b []byte) error {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

// newTable returns a tabwriter for aligned columns; Flush it when done.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// printRecord prints one resource: m as JSON with -o json, else a table
// of its label, value rows.
func printRecord(e *env, g *globals, m proto.Message, rows [][2]string) int {
	if g.json() {
		printProto(e.stdout, m)
		return exitOK
	}
	tw := newTable(e.stdout)
	for _, r := range rows {
		row(tw, r[0], r[1])
	}
	tw.Flush()
	return exitOK
}

// row writes one tab-separated table row.
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(w, "\t")
		}
		// A tab or newline in a value would break the columns.
		io.WriteString(w, strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c))
	}
	io.WriteString(w, "\n")
}

// orDash shows an empty value as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// formatTime shows a timestamp in UTC, or "-".
func formatTime(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// fenceSummary describes a geofence briefly: "circle 120 m" or
// "polygon 14 v, 1 hole". Vertex counts leave out a closing repeat of the
// first vertex.
func fenceSummary(g *dwellv1.Geofence) string {
	switch {
	case g.GetCircle() != nil:
		return "circle " + formatFloat(g.GetCircle().GetRadiusMeters()) + " m"
	case g.GetPolygon() != nil:
		p := g.GetPolygon()
		s := fmt.Sprintf("polygon %d v", ringSize(p.GetShell()))
		switch n := len(p.GetHoles()); n {
		case 0:
		case 1:
			s += ", 1 hole"
		default:
			s += fmt.Sprintf(", %d holes", n)
		}
		return s
	}
	return "-"
}

func ringSize(r *dwellv1.LinearRing) int {
	vs := r.GetVertices()
	if n := len(vs); n > 1 && proto.Equal(vs[0], vs[n-1]) {
		return n - 1
	}
	return len(vs)
}

// fenceCenter is the centre of a circle, or the area centroid of a
// polygon's shell (planar in degrees, which is close enough for a site), as
// "lat, lng" with six decimals (about 0.1 m).
func fenceCenter(g *dwellv1.Geofence) string {
	var lat, lng float64
	switch {
	case g.GetCircle() != nil:
		c := g.GetCircle().GetCenter()
		lat, lng = c.GetLat(), c.GetLng()
	case g.GetPolygon() != nil:
		vs := g.GetPolygon().GetShell().GetVertices()
		if len(vs) == 0 {
			return "-"
		}
		var a, cx, cy float64
		for i := range vs {
			p, q := vs[i], vs[(i+1)%len(vs)]
			cross := p.GetLng()*q.GetLat() - q.GetLng()*p.GetLat()
			a += cross
			cx += (p.GetLng() + q.GetLng()) * cross
			cy += (p.GetLat() + q.GetLat()) * cross
		}
		if math.Abs(a) < 1e-18 {
			for _, v := range vs {
				cx += v.GetLng()
				cy += v.GetLat()
			}
			lng, lat = cx/float64(len(vs)), cy/float64(len(vs))
		} else {
			lng, lat = cx/(3*a), cy/(3*a)
		}
	default:
		return "-"
	}
	return fmt.Sprintf("%.6f, %.6f", lat, lng)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line progress report on a terminal, at most ten
// times a second: "label: 1500/10000 rows (15%), 3200 rows/s".
type progress struct {
	w      io.Writer // nil: draw nothing
	label  string
	unit   string
	total  int
	now    func() time.Time
	start  time.Time
	last   time.Time
	done   int
	drawn  bool
	maxLen int
}

// progressInterval is the least time between two redraws.
const progressInterval = 100 * time.Millisecond

func newProgress(w io.Writer, label, unit string, total int, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, label: label, unit: unit, total: total, now: now, start: t}
}

// add counts n more items done and redraws if it is time to.
func (p *progress) add(n int) {
	p.done += n
	if p.w == nil {
		return
	}
	t := p.now()
	if p.drawn && t.Sub(p.last) < progressInterval && p.done < p.total {
		return
	}
	p.last = t
	p.draw(t)
}

func (p *progress) draw(t time.Time) {
	pct := 100
	if p.total > 0 {
		pct = p.done * 100 / p.total
	}
	line := fmt.Sprintf("%s: %d/%d %s (%d%%)", p.label, p.done, p.total, p.unit, pct)
	if el := t.Sub(p.start).Seconds(); el > 0 {
		line += fmt.Sprintf(", %.0f %s/s", float64(p.done)/el, p.unit)
	}
	pad := ""
	if n := p.maxLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n) // wipe the rest of a longer old line
	}
	p.maxLen = max(p.maxLen, len(line))
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.drawn = true
}

// finish draws the final state and ends the line.
func (p *progress) finish() {
	if p.w == nil || !p.drawn {
		return
	}
	p.draw(p.now())
	fmt.Fprintln(p.w)
}
