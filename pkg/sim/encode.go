package sim

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// WriteTo writes r as canonical text, one record a line: the header, the
// truth segments, the visits, the track, the observations, the check-ins
// and check-outs, the intervals and the uploads (fix ids only). Times are
// RFC 3339 UTC with milliseconds, positions in degrees to 1e-7. Equal
// results give equal text, so it is what Digest hashes and what golden
// files hold.
func (r *DayResult) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	b := bufio.NewWriter(cw)
	tm := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	ll := func(p dwell.LatLng) string {
		return strconv.FormatFloat(p.Lat, 'f', 7, 64) + "," + strconv.FormatFloat(p.Lng, 'f', 7, 64)
	}
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	fix := func(f *dwell.Fix) string {
		if f == nil {
			return "-"
		}
		alt := "-"
		if f.HasAltitude {
			alt = num(f.AltitudeM)
		}
		return fmt.Sprintf("%s %s %s acc=%s speed=%s bearing=%s alt=%s mock=%t", f.ID, tm(f.Time), ll(f.Pos),
			num(f.AccuracyM), num(f.SpeedMPS), num(f.BearingDeg), alt, f.Mock)
	}
	fmt.Fprintf(b, "day seed=%d profile=%s rep=%s date=%04d-%02d-%02d start=%s end=%s home=%s\n", r.Seed, r.Profile.Name,
		r.Rep, r.Date.Year, r.Date.Month, r.Date.Day, tm(r.Start), tm(r.End), ll(r.Home))
	fmt.Fprintf(b, "profile %+v\n", r.Profile)
	for _, s := range r.Segments {
		fmt.Fprintf(b, "segment %s %s %s client=%s pos=%s dist=%s\n", s.Kind, tm(s.Start), tm(s.End), s.Client, ll(s.Pos), num(s.DistanceM))
	}
	fmt.Fprintf(b, "hidden_visits %d\n", r.HiddenVisits)
	for _, v := range r.Visits {
		fmt.Fprintf(b, "visit %s %s %s pos=%s segment=%d checkin=%d checkout=%d\n", v.Client, tm(v.Start), tm(v.End), ll(v.Pos), v.Segment, v.CheckIn, v.CheckOut)
	}
	for _, p := range r.Track {
		fmt.Fprintf(b, "track %s %s\n", tm(p.Time), ll(p.Pos))
	}
	for _, o := range r.Observations {
		fmt.Fprintf(b, "fix %s source=%s true=%s err=%s indoor=%t outlier=%t\n", fix(&o.Fix), o.Source, ll(o.TruePos), num(o.ErrorM), o.Indoor, o.Outlier)
	}
	for _, c := range r.CheckIns {
		fmt.Fprintf(b, "checkin %s %s %s received=%s mode=%s honest=%t visit=%d true=%s fence=%s fix=%s\n", c.RequestID, c.Client, tm(c.Time),
			tm(c.ReceiveTime), c.Mode, c.Honest, c.Visit, ll(c.TruePos), num(c.FenceDistanceM), fix(c.Fix))
	}
	for _, c := range r.CheckOuts {
		fmt.Fprintf(b, "checkout %s %s %s received=%s outcome=%d follow=%04d-%02d-%02d reason=%d text=%q honest=%t checkin=%d visit=%d true=%s fence=%s fix=%s\n",
			c.RequestID, c.Client, tm(c.Time), tm(c.ReceiveTime), c.Outcome, c.FollowUpDate.Year, c.FollowUpDate.Month, c.FollowUpDate.Day,
			c.RejectionReason, c.RejectionText, c.Honest, c.CheckIn, c.Visit, ll(c.TruePos), num(c.FenceDistanceM), fix(c.Fix))
	}
	for _, l := range []struct {
		name string
		ivs  []Interval
	}{{"phone_off", r.PhoneOff}, {"silence", r.Silences}, {"offline", r.Offline}} {
		for _, iv := range l.ivs {
			fmt.Fprintf(b, "%s %s %s\n", l.name, tm(iv.Start), tm(iv.End))
		}
	}
	for _, u := range r.Uploads {
		fmt.Fprintf(b, "batch %s resent=%t n=%d", tm(u.ArriveAt), u.Resent, len(u.Fixes))
		for _, f := range u.Fixes {
			b.WriteString(" " + f.ID)
		}
		b.WriteString("\n")
	}
	err := b.Flush()
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Digest returns the hex SHA-256 of WriteTo's text: equal digests mean
// byte-identical results.
func (r *DayResult) Digest() string {
	h := sha256.New()
	r.WriteTo(h) // a hash never fails to write
	return hex.EncodeToString(h.Sum(nil))
}
