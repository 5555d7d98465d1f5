package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file draws a rep's day as an SVG picture with nothing but the
// standard library: a time bar coloured by segment kind with the visits
// numbered and named, and a map of the day's fixes with the fences of the
// visited clients to scale (projected in metres about the fixes' centre),
// a legend, the visits and a scale bar. Elements carry classes (seg,
// fix-path, fix, fence, visit-badge, scale-bar) so tests can check the
// structure.

// Colours of the segment kinds, chosen to be told apart in colour-blind
// vision too (blue, orange, green differ in lightness as well as hue).
var kindColour = map[dwellv1.SegmentKind]string{
	dwellv1.SegmentKind_SEGMENT_KIND_VISIT:  "#1a9850",
	dwellv1.SegmentKind_SEGMENT_KIND_IDLE:   "#f39c12",
	dwellv1.SegmentKind_SEGMENT_KIND_TRAVEL: "#3b6fd4",
	dwellv1.SegmentKind_SEGMENT_KIND_GAP:    "#b0b0b0",
	dwellv1.SegmentKind_SEGMENT_KIND_PAUSED: "#8e5cc4",
	// Off hours (a split shift's break) is not working time: the colour of
	// the bar's empty background.
	dwellv1.SegmentKind_SEGMENT_KIND_OFF_HOURS: "#f4f4f4",
}

var legendKinds = []dwellv1.SegmentKind{
	dwellv1.SegmentKind_SEGMENT_KIND_VISIT,
	dwellv1.SegmentKind_SEGMENT_KIND_IDLE,
	dwellv1.SegmentKind_SEGMENT_KIND_TRAVEL,
	dwellv1.SegmentKind_SEGMENT_KIND_GAP,
	dwellv1.SegmentKind_SEGMENT_KIND_PAUSED,
	dwellv1.SegmentKind_SEGMENT_KIND_OFF_HOURS,
}

const (
	mockColour  = "#d7191c"
	fenceStroke = "#0f6b35"
	inkColour   = "#222222"
	mutedColour = "#666666"
)

// earthRadiusM is the mean Earth radius in metres, for the local
// projection.
const earthRadiusM = 6371008.8

// dayPicture is what the picture shows, taken from a GetRepDay answer and
// the visited clients.
type dayPicture struct {
	resp    *dwellv1.GetRepDayResponse
	repName string // the rep's display name, or empty
	clients map[string]*dwellv1.Client
	loc     *time.Location
	day     time.Time
	// visitNo numbers the visited clients 1, 2, ... in order of first
	// visit; the badge on the bar and on the map carry the number.
	visitNo map[string]int
	order   []string
	// real is the day's fixes less the mock ones, in order: the path and
	// the map's extent.
	real []*dwellv1.Fix
}

func newDayPicture(resp *dwellv1.GetRepDayResponse, repName string, clients map[string]*dwellv1.Client) (*dayPicture, error) {
	if resp.GetDate() == nil {
		return nil, fmt.Errorf("the day has no date")
	}
	loc := repZone(resp.GetTimeZone())
	d := resp.GetDate()
	p := &dayPicture{
		resp: resp, repName: repName, clients: clients, loc: loc,
		day:     dayStart(d, loc),
		visitNo: map[string]int{},
	}
	for _, s := range resp.GetSegments() {
		if c := s.GetClient(); c != "" && p.visitNo[c] == 0 {
			p.order = append(p.order, c)
			p.visitNo[c] = len(p.order)
		}
	}
	for _, f := range resp.GetFixes() {
		if !f.GetMock() {
			p.real = append(p.real, f)
		}
	}
	return p, nil
}

// shortName is a client's display name, or its id.
func (p *dayPicture) shortName(client string) string {
	if c := p.clients[client]; c != nil && c.GetDisplayName() != "" {
		return c.GetDisplayName()
	}
	return strings.TrimPrefix(client, "clients/")
}

// svgWriter writes SVG elements, escaping attribute values and text; the
// first write error sticks and is returned by flush.
type svgWriter struct {
	w   *bufio.Writer
	err error
}

func (s *svgWriter) printf(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

func (s *svgWriter) escape(v string) {
	if s.err == nil {
		s.err = xml.EscapeText(s.w, []byte(v))
	}
}

// attrs writes name="value" pairs.
func (s *svgWriter) attrs(kv []string) {
	for i := 0; i+1 < len(kv); i += 2 {
		s.printf(` %s="`, kv[i])
		s.escape(kv[i+1])
		s.printf(`"`)
	}
}

// elem writes an empty element.
func (s *svgWriter) elem(tag string, kv ...string) {
	s.printf("<%s", tag)
	s.attrs(kv)
	s.printf("/>\n")
}

// open starts an element with content; close ends it.
func (s *svgWriter) open(tag string, kv ...string) {
	s.printf("<%s", tag)
	s.attrs(kv)
	s.printf(">\n")
}

func (s *svgWriter) close(tag string) { s.printf("</%s>\n", tag) }

// text writes a text element.
func (s *svgWriter) text(x, y float64, body string, kv ...string) {
	s.printf(`<text x="%s" y="%s"`, num(x), num(y))
	s.attrs(kv)
	s.printf(">")
	s.escape(body)
	s.printf("</text>\n")
}

func (s *svgWriter) flush() error {
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

// num formats a coordinate with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// textWidth estimates the width in pixels of s in a sans-serif font of
// size px.
func textWidth(s string, px float64) float64 { return float64(len([]rune(s))) * px * 0.6 }

// Layout of the picture, in pixels.
const (
	picWidth   = 1200.0
	margin     = 24.0
	barTop     = 118.0
	barHeight  = 38.0
	mapTop     = 210.0
	panelWidth = 330.0
	mapWidth   = picWidth - 3*margin - panelWidth
)

// WriteSVG draws the picture to w.
func (p *dayPicture) WriteSVG(w io.Writer) error {
	s := &svgWriter{w: bufio.NewWriter(w)}
	proj := p.projection()
	mapHeight := proj.heightPx
	panelHeight := p.panelHeight()
	height := mapTop + math.Max(mapHeight, panelHeight) + margin + 20
	s.printf(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	s.open("svg", "xmlns", "http://www.w3.org/2000/svg", "width", num(picWidth), "height", num(height),
		"viewBox", fmt.Sprintf("0 0 %s %s", num(picWidth), num(height)),
		"font-family", "DejaVu Sans, Helvetica, Arial, sans-serif", "font-size", "13")
	s.elem("rect", "x", "0", "y", "0", "width", num(picWidth), "height", num(height), "fill", "#ffffff")
	p.drawHeader(s)
	p.drawBar(s)
	p.drawMap(s, proj)
	p.drawPanel(s)
	s.close("svg")
	return s.flush()
}

func (p *dayPicture) drawHeader(s *svgWriter) {
	r := p.resp
	who := strings.TrimPrefix(r.GetRep(), "reps/")
	if p.repName != "" {
		who = p.repName + " (" + who + ")"
	}
	s.text(margin, 36, fmt.Sprintf("%s — %s", who, p.day.Format("Monday 2 January 2006")),
		"font-size", "22", "font-weight", "bold", "fill", inkColour)
	t := r.GetTotals()
	visit := t.GetVisitProspectSeconds() + t.GetVisitCustomerSeconds()
	sub := fmt.Sprintf("%d visits, %s with clients · idle %s · travel %s (%s) · no data %s · %d fixes · times in %s",
		len(r.GetVisits()), formatSeconds(visit), formatSeconds(t.GetIdleSeconds()), formatSeconds(t.GetTravelSeconds()),
		formatDistance(t.GetDistanceMeters()), formatSeconds(t.GetGapSeconds()), r.GetFixCount(), r.GetTimeZone())
	s.text(margin, 60, sub, "fill", mutedColour, "font-size", "14")
	if f := r.GetFlags(); f.GetMockFixes()+f.GetUnverifiedCheckIns()+f.GetForgottenCheckOuts()+f.GetImpossibleSpeedFixes() > 0 {
		s.text(margin, 80, fmt.Sprintf("Flags: %s, %s, %s away from the site, %s",
			plural(int(f.GetMockFixes()), "mock-location fix"), plural(int(f.GetImpossibleSpeedFixes()), "impossible-speed fix"),
			plural(int(f.GetUnverifiedCheckIns()), "check-in"), plural(int(f.GetForgottenCheckOuts()), "forgotten check-out")),
			"fill", mockColour, "font-size", "13")
	}
}

// barSpan is the time the bar covers: whole hours around the segments.
func (p *dayPicture) barSpan() (from, to time.Time) {
	segs := p.resp.GetSegments()
	if len(segs) == 0 {
		return p.day.Add(8 * time.Hour), p.day.Add(18 * time.Hour)
	}
	from = segs[0].GetStartTime().AsTime().In(p.loc).Truncate(time.Hour)
	to = segs[len(segs)-1].GetEndTime().AsTime().In(p.loc)
	if t := to.Truncate(time.Hour); t.Before(to) {
		to = t.Add(time.Hour)
	}
	if !to.After(from) {
		to = from.Add(time.Hour)
	}
	return from, to
}

func (p *dayPicture) drawBar(s *svgWriter) {
	from, to := p.barSpan()
	x0, x1 := margin, picWidth-margin
	span := to.Sub(from).Seconds()
	xOf := func(t time.Time) float64 { return x0 + (x1-x0)*t.Sub(from).Seconds()/span }
	s.elem("rect", "x", num(x0), "y", num(barTop), "width", num(x1-x0), "height", num(barHeight), "fill", "#f4f4f4", "stroke", "#cccccc")
	s.open("g", "class", "segments")
	for _, sg := range p.resp.GetSegments() {
		a, b := xOf(sg.GetStartTime().AsTime()), xOf(sg.GetEndTime().AsTime())
		w := math.Max(b-a, 1)
		col := kindColour[sg.GetKind()]
		if col == "" {
			col = "#000000"
		}
		title := fmt.Sprintf("%s %s–%s (%s)", segmentKindName(sg.GetKind()),
			localClock(sg.GetStartTime().AsTime(), p.loc, p.day), localClock(sg.GetEndTime().AsTime(), p.loc, p.day),
			formatDuration(sg.GetEndTime().AsTime().Sub(sg.GetStartTime().AsTime())))
		if c := sg.GetClient(); c != "" {
			title += " " + p.shortName(c)
		}
		s.open("rect", "class", "seg", "data-kind", segmentKindName(sg.GetKind()), "x", num(a), "y", num(barTop),
			"width", num(w), "height", num(barHeight), "fill", col)
		s.printf("<title>")
		s.escape(title)
		s.printf("</title>\n")
		s.close("rect")
	}
	s.close("g")
	// Visit numbers above the bar, pushed apart so they never overlap;
	// names inside the bar where they fit.
	lastX := math.Inf(-1)
	for _, sg := range p.resp.GetSegments() {
		c := sg.GetClient()
		if sg.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_VISIT || c == "" {
			continue
		}
		a, b := xOf(sg.GetStartTime().AsTime()), xOf(sg.GetEndTime().AsTime())
		mid := (a + b) / 2
		x := math.Max(mid, lastX+19)
		lastX = x
		s.elem("line", "x1", num(mid), "y1", num(barTop-2), "x2", num(x), "y2", num(barTop-8), "stroke", fenceStroke, "stroke-width", "1")
		badge(s, x, barTop-17, p.visitNo[c])
		name := p.shortName(c)
		if textWidth(name, 11)+6 < b-a {
			s.text(mid, barTop+barHeight/2+4, name, "text-anchor", "middle", "font-size", "11", "fill", "#ffffff", "font-weight", "bold")
		}
	}
	// Hour ticks.
	step := time.Hour
	if to.Sub(from) > 14*time.Hour {
		step = 2 * time.Hour
	}
	for t := from; !t.After(to); t = t.Add(step) {
		x := xOf(t)
		s.elem("line", "x1", num(x), "y1", num(barTop+barHeight), "x2", num(x), "y2", num(barTop+barHeight+6), "stroke", mutedColour)
		s.text(x, barTop+barHeight+20, localClock(t, p.loc, p.day), "text-anchor", "middle", "font-size", "12", "fill", mutedColour)
	}
}

// badge draws a numbered visit marker centred at (x, y).
func badge(s *svgWriter, x, y float64, n int) {
	s.open("g", "class", "visit-badge")
	s.elem("circle", "cx", num(x), "cy", num(y), "r", "9", "fill", "#ffffff", "stroke", fenceStroke, "stroke-width", "2")
	s.text(x, y+4, strconv.Itoa(n), "text-anchor", "middle", "font-size", "11", "font-weight", "bold", "fill", fenceStroke)
	s.close("g")
}

// projection maps positions to the map's pixels: an equirectangular plane
// in metres about the centre of what is drawn, scaled to fit.
type projection struct {
	lat0, lng0 float64 // degrees
	cosLat0    float64
	minX, maxY float64 // metres, the top-left of the drawn area
	pxPerM     float64
	ox, oy     float64 // pixels of the top-left
	widthPx    float64
	heightPx   float64
	empty      bool
	viewM      float64
}

func (pr *projection) metres(lat, lng float64) (x, y float64) {
	x = (lng - pr.lng0) * math.Pi / 180 * earthRadiusM * pr.cosLat0
	y = (lat - pr.lat0) * math.Pi / 180 * earthRadiusM
	return x, y
}

func (pr *projection) px(lat, lng float64) (float64, float64) {
	x, y := pr.metres(lat, lng)
	return pr.ox + (x-pr.minX)*pr.pxPerM, pr.oy + (pr.maxY-y)*pr.pxPerM
}

// fencePoints returns the positions that bound a client's fence.
func fencePoints(c *dwellv1.Client) []*dwellv1.LatLng {
	g := c.GetGeofence()
	if ci := g.GetCircle(); ci != nil {
		ctr := ci.GetCenter()
		dLat := ci.GetRadiusMeters() / earthRadiusM * 180 / math.Pi
		dLng := dLat / math.Max(math.Cos(ctr.GetLat()*math.Pi/180), 1e-6)
		return []*dwellv1.LatLng{
			{Lat: ctr.GetLat() - dLat, Lng: ctr.GetLng() - dLng},
			{Lat: ctr.GetLat() + dLat, Lng: ctr.GetLng() + dLng},
		}
	}
	return g.GetPolygon().GetShell().GetVertices()
}

func (p *dayPicture) projection() *projection {
	var pts []*dwellv1.LatLng
	for _, f := range p.real {
		pts = append(pts, f.GetPosition())
	}
	for _, c := range p.order {
		if cl := p.clients[c]; cl != nil {
			pts = append(pts, fencePoints(cl)...)
		}
	}
	pr := &projection{ox: margin, oy: mapTop, widthPx: mapWidth}
	if len(pts) == 0 {
		pr.empty, pr.heightPx, pr.cosLat0, pr.pxPerM = true, 160, 1, 1
		return pr
	}
	minLat, maxLat, minLng, maxLng := 90.0, -90.0, 180.0, -180.0
	for _, q := range pts {
		minLat, maxLat = math.Min(minLat, q.GetLat()), math.Max(maxLat, q.GetLat())
		minLng, maxLng = math.Min(minLng, q.GetLng()), math.Max(maxLng, q.GetLng())
	}
	pr.lat0, pr.lng0 = (minLat+maxLat)/2, (minLng+maxLng)/2
	pr.cosLat0 = math.Cos(pr.lat0 * math.Pi / 180)
	x0, y0 := pr.metres(minLat, minLng)
	x1, y1 := pr.metres(maxLat, maxLng)
	w, h := math.Max(x1-x0, 200), math.Max(y1-y0, 200) // at least 200 m across
	pad := 0.06 * math.Max(w, h)
	cx, cy := (x0+x1)/2, (y0+y1)/2
	w, h = w+2*pad, h+2*pad
	pr.pxPerM = mapWidth / w
	pr.heightPx = h * pr.pxPerM
	if maxH := 760.0; pr.heightPx > maxH { // a tall day: fit the height instead
		pr.pxPerM = maxH / h
		pr.heightPx = maxH
		w = mapWidth / pr.pxPerM
	}
	pr.heightPx = math.Max(pr.heightPx, 320)
	h = pr.heightPx / pr.pxPerM
	pr.minX, pr.maxY = cx-w/2, cy+h/2
	pr.viewM = w
	return pr
}

// kindAt returns the kind of the segment covering t, or unspecified.
func (p *dayPicture) kindAt(t time.Time) dwellv1.SegmentKind {
	for _, s := range p.resp.GetSegments() {
		if !t.Before(s.GetStartTime().AsTime()) && !t.After(s.GetEndTime().AsTime()) {
			return s.GetKind()
		}
	}
	return dwellv1.SegmentKind_SEGMENT_KIND_UNSPECIFIED
}

func (p *dayPicture) drawMap(s *svgWriter, pr *projection) {
	s.text(margin, mapTop-12, "Where: the day's fixes and the visited clients' sites, to scale (north up)", "font-weight", "bold", "fill", inkColour)
	s.elem("rect", "x", num(pr.ox), "y", num(pr.oy), "width", num(pr.widthPx), "height", num(pr.heightPx),
		"fill", "#fafaf7", "stroke", "#cccccc")
	if pr.empty {
		s.text(pr.ox+pr.widthPx/2, pr.oy+pr.heightPx/2, "no fixes that day", "text-anchor", "middle", "fill", mutedColour)
		return
	}
	s.open("g", "clip-path", "url(#map)")
	s.open("defs")
	s.open("clipPath", "id", "map")
	s.elem("rect", "x", num(pr.ox), "y", num(pr.oy), "width", num(pr.widthPx), "height", num(pr.heightPx))
	s.close("clipPath")
	s.close("defs")
	p.drawFences(s, pr)
	p.drawPath(s, pr)
	// Markers, then their labels placed around them and each other, then
	// the mock fixes on top of everything.
	l := &labeler{pr: pr}
	sbx, sby, sbw := scaleBarBox(pr)
	l.block(sbx-6, sby-20, sbx+sbw+6, sby+10)
	nx, ny := pr.ox+pr.widthPx-22, pr.oy+16
	l.block(nx-10, ny-4, nx+10, ny+34)
	labels := p.drawMarkers(s, pr, l)
	for _, lb := range labels {
		if x, y, ok := l.place(lb); ok {
			s.text(x, y, lb.text, "font-size", num(lb.px), "fill", lb.colour, "font-weight", lb.weight,
				"stroke", "#ffffff", "stroke-width", "3", "paint-order", "stroke", "stroke-linejoin", "round")
		}
	}
	p.drawMockFixes(s, pr)
	s.close("g")
	drawScaleBar(s, pr)
	// North arrow.
	s.elem("path", "d", fmt.Sprintf("M%s %s L%s %s L%s %s Z", num(nx), num(ny), num(nx-6), num(ny+16), num(nx+6), num(ny+16)), "fill", inkColour)
	s.text(nx, ny+30, "N", "text-anchor", "middle", "font-size", "12", "font-weight", "bold", "fill", inkColour)
}

// ringPath is an SVG path of one closed ring.
func ringPath(pr *projection, r *dwellv1.LinearRing) string {
	var b strings.Builder
	for i, v := range r.GetVertices() {
		x, y := pr.px(v.GetLat(), v.GetLng())
		if i == 0 {
			b.WriteString("M")
		} else {
			b.WriteString(" L")
		}
		b.WriteString(num(x) + " " + num(y))
	}
	b.WriteString(" Z")
	return b.String()
}

func (p *dayPicture) drawFences(s *svgWriter, pr *projection) {
	s.open("g", "class", "fences")
	for _, c := range p.order {
		cl := p.clients[c]
		if cl == nil {
			continue
		}
		style := []string{"class", "fence", "data-client", c, "fill", kindColour[dwellv1.SegmentKind_SEGMENT_KIND_VISIT],
			"fill-opacity", "0.18", "stroke", fenceStroke, "stroke-width", "1.5"}
		g := cl.GetGeofence()
		switch {
		case g.GetCircle() != nil:
			ci := g.GetCircle()
			x, y := pr.px(ci.GetCenter().GetLat(), ci.GetCenter().GetLng())
			r := math.Max(ci.GetRadiusMeters()*pr.pxPerM, 1.5)
			s.elem("circle", append([]string{"cx", num(x), "cy", num(y), "r", num(r)}, style...)...)
		case g.GetPolygon() != nil:
			d := ringPath(pr, g.GetPolygon().GetShell())
			for _, h := range g.GetPolygon().GetHoles() {
				d += " " + ringPath(pr, h)
			}
			s.elem("path", append([]string{"d", d, "fill-rule", "evenodd"}, style...)...)
		}
	}
	s.close("g")
}

// fenceAnchor is where a client's badge goes: the circle's centre or the
// polygon shell's vertex mean.
func fenceAnchor(pr *projection, cl *dwellv1.Client) (float64, float64) {
	g := cl.GetGeofence()
	if ci := g.GetCircle(); ci != nil {
		return pr.px(ci.GetCenter().GetLat(), ci.GetCenter().GetLng())
	}
	var x, y float64
	vs := g.GetPolygon().GetShell().GetVertices()
	for _, v := range vs {
		a, b := pr.px(v.GetLat(), v.GetLng())
		x, y = x+a, y+b
	}
	n := math.Max(float64(len(vs)), 1)
	return x / n, y / n
}

func (p *dayPicture) drawPath(s *svgWriter, pr *projection) {
	real := p.real
	// The path, one polyline per run of fixes in the same kind of segment,
	// each run starting where the last ended; gaps dashed.
	s.open("g", "class", "fix-path", "fill", "none", "stroke-linejoin", "round", "stroke-linecap", "round")
	for i := 0; i < len(real); {
		k := p.kindAt(real[i].GetDeviceTime().AsTime())
		j := i + 1
		for j < len(real) && p.kindAt(real[j].GetDeviceTime().AsTime()) == k {
			j++
		}
		from := i
		if from > 0 {
			from-- // join to the previous run
		}
		var d strings.Builder
		for n, f := range real[from:min(j, len(real))] {
			x, y := pr.px(f.GetPosition().GetLat(), f.GetPosition().GetLng())
			if n == 0 {
				d.WriteString("M")
			} else {
				d.WriteString(" L")
			}
			d.WriteString(num(x) + " " + num(y))
		}
		col := kindColour[k]
		if col == "" {
			col = "#555555"
		}
		attrs := []string{"d", d.String(), "stroke", col, "stroke-width", "2.2", "stroke-opacity", "0.85"}
		if k == dwellv1.SegmentKind_SEGMENT_KIND_GAP {
			attrs = append(attrs, "stroke-dasharray", "6 5")
		}
		s.elem("path", attrs...)
		i = j
	}
	s.close("g")
	// The fixes as dots, coloured by their segment.
	s.open("g", "class", "fixes")
	for _, f := range real {
		x, y := pr.px(f.GetPosition().GetLat(), f.GetPosition().GetLng())
		col := kindColour[p.kindAt(f.GetDeviceTime().AsTime())]
		if col == "" {
			col = "#555555"
		}
		s.elem("circle", "class", "fix", "cx", num(x), "cy", num(y), "r", "2", "fill", col, "stroke", "#ffffff", "stroke-width", "0.5")
	}
	s.close("g")
}

// drawMockFixes draws mock-location fixes as red crosses, never joined to
// the path: they are not evidence of where the rep was.
func (p *dayPicture) drawMockFixes(s *svgWriter, pr *projection) {
	s.open("g", "class", "mock-fixes")
	for _, f := range p.resp.GetFixes() {
		if f.GetMock() {
			x, y := pr.px(f.GetPosition().GetLat(), f.GetPosition().GetLng())
			s.elem("path", "class", "fix mock", "d", fmt.Sprintf("M%s %s l8 8 m0 -8 l-8 8", num(x-4), num(y-4)), "stroke", mockColour, "stroke-width", "2.5")
		}
	}
	s.close("g")
}

// mapLabel is a label to place beside a marker of radius r at (x, y).
type mapLabel struct {
	x, y, r        float64
	text           string
	px             float64 // font size
	colour, weight string
}

// labeler places map labels where they overlap no marker, no other label
// and stay inside the map; a label with no such place is left out.
type labeler struct {
	pr    *projection
	boxes [][4]float64
}

func (l *labeler) block(x0, y0, x1, y1 float64) {
	l.boxes = append(l.boxes, [4]float64{x0, y0, x1, y1})
}

// place returns the baseline start of lb's text: right of the marker,
// else left, below or above.
func (l *labeler) place(lb mapLabel) (float64, float64, bool) {
	w := textWidth(lb.text, lb.px)
	h := lb.px
	gap := lb.r + 4
	for _, at := range [][2]float64{
		{lb.x + gap, lb.y + h/3}, {lb.x - gap - w, lb.y + h/3},
		{lb.x - w/2, lb.y + gap + h}, {lb.x - w/2, lb.y - gap - 2},
		{lb.x + gap, lb.y + h/3 + h + 2}, {lb.x - gap - w, lb.y + h/3 + h + 2},
		{lb.x + gap, lb.y + h/3 - h - 2}, {lb.x - gap - w, lb.y + h/3 - h - 2},
		{lb.x - w/2, lb.y + gap + 2*h + 2}, {lb.x - w/2, lb.y - gap - h - 4},
	} {
		b := [4]float64{at[0] - 1, at[1] - h, at[0] + w + 1, at[1] + 3}
		pr := l.pr
		if b[0] < pr.ox || b[2] > pr.ox+pr.widthPx || b[1] < pr.oy || b[3] > pr.oy+pr.heightPx {
			continue
		}
		free := true
		for _, o := range l.boxes {
			if b[0] < o[2] && o[0] < b[2] && b[1] < o[3] && o[1] < b[3] {
				free = false
				break
			}
		}
		if free {
			l.boxes = append(l.boxes, b)
			return at[0], at[1], true
		}
	}
	return 0, 0, false
}

// drawMarkers draws the visited clients' badges, the idle stops and the
// day's first and last fix, registers them with l, and returns their
// labels.
func (p *dayPicture) drawMarkers(s *svgWriter, pr *projection, l *labeler) []mapLabel {
	var labels []mapLabel
	// Sites closer than a badge's width (a shop street) share one label.
	var groups []*pile[string]
	for _, c := range p.order {
		cl := p.clients[c]
		if cl == nil {
			continue
		}
		x, y := fenceAnchor(pr, cl)
		groups = addToPile(groups, x, y, 20, c)
	}
	for _, g := range groups {
		// Later visits first, so the group's first visit is on top.
		for i := len(g.items) - 1; i >= 0; i-- {
			x, y := fenceAnchor(pr, p.clients[g.items[i]])
			badge(s, x, y, p.visitNo[g.items[i]])
			l.block(x-9, y-9, x+9, y+9)
		}
		labels = append(labels, mapLabel{x: g.x, y: g.y, r: 9, text: p.groupLabel(g.items), px: 12, colour: fenceStroke, weight: "bold"})
	}
	labels = append(labels, p.drawIdleStops(s, pr, l)...)
	if real := p.real; len(real) > 0 {
		for _, e := range []struct {
			f     *dwellv1.Fix
			label string
		}{{real[0], "start"}, {real[len(real)-1], "end"}} {
			x, y := pr.px(e.f.GetPosition().GetLat(), e.f.GetPosition().GetLng())
			s.elem("rect", "class", "endpoint", "x", num(x-7), "y", num(y-7), "width", "14", "height", "14", "fill", "none", "stroke", inkColour, "stroke-width", "2")
			l.block(x-7, y-7, x+7, y+7)
			labels = append(labels, mapLabel{x: x, y: y, r: 7, text: e.label + " " + localClock(e.f.GetDeviceTime().AsTime(), p.loc, p.day),
				px: 12, colour: inkColour, weight: "normal"})
		}
	}
	return labels
}

// niceLength returns the largest of 1, 2 and 5 times a power of ten not
// above m.
func niceLength(m float64) float64 {
	if m <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(m)))
	for _, f := range []float64{5, 2, 1} {
		if f*p <= m {
			return f * p
		}
	}
	return p
}

// scaleBarBox returns where the scale bar goes (bottom right of the map):
// its left end, baseline and width in pixels.
func scaleBarBox(pr *projection) (x, y, w float64) {
	w = niceLength(pr.viewM/5) * pr.pxPerM
	return pr.ox + pr.widthPx - 16 - w, pr.oy + pr.heightPx - 20, w
}

func drawScaleBar(s *svgWriter, pr *projection) {
	lenM := niceLength(pr.viewM / 5)
	x, y, w := scaleBarBox(pr)
	label := fmt.Sprintf("%g m", lenM)
	if lenM >= 1000 {
		label = fmt.Sprintf("%g km", lenM/1000)
	}
	s.open("g", "class", "scale-bar")
	s.elem("rect", "x", num(x-6), "y", num(y-20), "width", num(w+12), "height", "30", "fill", "#ffffff", "fill-opacity", "0.8")
	s.elem("rect", "x", num(x), "y", num(y), "width", num(w/2), "height", "5", "fill", inkColour)
	s.elem("rect", "x", num(x+w/2), "y", num(y), "width", num(w/2), "height", "5", "fill", "#ffffff", "stroke", inkColour)
	s.text(x, y-6, "0", "font-size", "11", "fill", inkColour)
	s.text(x+w, y-6, label, "font-size", "11", "fill", inkColour, "text-anchor", "end")
	s.close("g")
}

// panelHeight is the height the legend and visit list need.
func (p *dayPicture) panelHeight() float64 {
	return 310 + 20*float64(len(p.resp.GetVisits()))
}

// drawPanel draws the legend and the numbered visits right of the map.
func (p *dayPicture) drawPanel(s *svgWriter) {
	x := picWidth - margin - panelWidth
	y := mapTop - 12
	s.open("g", "class", "legend")
	s.text(x, y, "Legend", "font-weight", "bold", "fill", inkColour)
	y += 22
	for _, k := range legendKinds {
		swatch := []string{"x", num(x), "y", num(y - 11), "width", "22", "height", "13", "fill", kindColour[k]}
		if k == dwellv1.SegmentKind_SEGMENT_KIND_OFF_HOURS {
			swatch = append(swatch, "stroke", "#cccccc") // outlined, as the bar is
		}
		s.elem("rect", swatch...)
		desc := map[dwellv1.SegmentKind]string{
			dwellv1.SegmentKind_SEGMENT_KIND_VISIT:     "visit: with a client",
			dwellv1.SegmentKind_SEGMENT_KIND_IDLE:      "idle: stopped, not at a client",
			dwellv1.SegmentKind_SEGMENT_KIND_TRAVEL:    "travel: moving",
			dwellv1.SegmentKind_SEGMENT_KIND_GAP:       "gap: no usable data (dashed)",
			dwellv1.SegmentKind_SEGMENT_KIND_PAUSED:    "paused: tracking off by the rep",
			dwellv1.SegmentKind_SEGMENT_KIND_OFF_HOURS: "off hours: between working-hours windows",
		}[k]
		s.text(x+30, y, desc, "font-size", "12", "fill", inkColour)
		y += 20
	}
	s.elem("circle", "cx", num(x+11), "cy", num(y-5), "r", "7", "fill", kindColour[dwellv1.SegmentKind_SEGMENT_KIND_VISIT],
		"fill-opacity", "0.18", "stroke", fenceStroke, "stroke-width", "1.5")
	s.text(x+30, y, "a visited client's site (its fence)", "font-size", "12", "fill", inkColour)
	y += 20
	s.elem("path", "d", fmt.Sprintf("M%s %s l8 8 m0 -8 l-8 8", num(x+7), num(y-9)), "stroke", mockColour, "stroke-width", "2")
	s.text(x+30, y, "mock-location fix (not evidence)", "font-size", "12", "fill", inkColour)
	y += 20
	s.elem("circle", "cx", num(x+11), "cy", num(y-5), "r", "2.5", "fill", kindColour[dwellv1.SegmentKind_SEGMENT_KIND_TRAVEL])
	s.text(x+30, y, "a fix, coloured by its segment", "font-size", "12", "fill", inkColour)
	y += 20
	s.elem("rect", "x", num(x+5), "y", num(y-11), "width", "12", "height", "12", "transform", fmt.Sprintf("rotate(45 %s %s)", num(x+11), num(y-5)),
		"fill", kindColour[dwellv1.SegmentKind_SEGMENT_KIND_IDLE], "stroke", "#ffffff")
	s.text(x+30, y, "an idle stop of 10 minutes or more", "font-size", "12", "fill", inkColour)
	y += 20
	s.elem("rect", "x", num(x+5), "y", num(y-11), "width", "12", "height", "12", "fill", "none", "stroke", inkColour, "stroke-width", "2")
	s.text(x+30, y, "the day's first and last fix", "font-size", "12", "fill", inkColour)
	s.close("g")

	y += 34
	s.open("g", "class", "visit-list")
	s.text(x, y, "Visits", "font-weight", "bold", "fill", inkColour)
	y += 22
	if len(p.resp.GetVisits()) == 0 {
		s.text(x, y, "none", "font-size", "12", "fill", mutedColour)
	}
	for _, v := range p.resp.GetVisits() {
		start, end := v.GetStartTime().AsTime(), v.GetEndTime().AsTime()
		badge(s, x+9, y-4, p.visitNo[v.GetClient()])
		line := fmt.Sprintf("%s–%s  %s  %s", localClock(start, p.loc, p.day), localClock(end, p.loc, p.day),
			formatDuration(end.Sub(start)), p.shortName(v.GetClient()))
		s.text(x+24, y, line, "font-size", "12", "fill", inkColour)
		if mark := verificationMark(v); mark != "" {
			s.text(x+24+textWidth(line, 12)+6, y, mark, "font-size", "11", "fill", mutedColour)
		}
		y += 20
	}
	s.close("g")
}

// verificationMark says briefly how a visit stands: "check-in ok",
// "check-in away", or nothing for a visit found from fixes alone.
func verificationMark(v *dwellv1.Visit) string {
	switch v.GetVerification() {
	case dwellv1.Verification_VERIFICATION_VERIFIED:
		return "✓ check-in"
	case dwellv1.Verification_VERIFICATION_UNSPECIFIED:
		return ""
	}
	return "⚠ " + enumWord(v.GetVerification().String(), "VERIFICATION_")
}

// drawIdleStops marks where each idle stop of at least 10 minutes was
// (lunch, a parked car, home) and returns the labels with its time and
// length; stops at one place (within 15 px) share a marker and a label.
func (p *dayPicture) drawIdleStops(s *svgWriter, pr *projection, l *labeler) []mapLabel {
	var stops []*pile[string] // the stops' times
	for _, sg := range p.resp.GetSegments() {
		loc := sg.GetLocation()
		start, end := sg.GetStartTime().AsTime(), sg.GetEndTime().AsTime()
		if sg.GetKind() != dwellv1.SegmentKind_SEGMENT_KIND_IDLE || loc == nil || end.Sub(start) < 10*time.Minute {
			continue
		}
		x, y := pr.px(loc.GetLat(), loc.GetLng())
		stops = addToPile(stops, x, y, 15, localClock(start, p.loc, p.day)+" "+formatDuration(end.Sub(start)))
	}
	var labels []mapLabel
	s.open("g", "class", "idle-stops")
	for _, st := range stops {
		x, y := st.x, st.y
		s.elem("rect", "class", "idle-stop", "x", num(x-6), "y", num(y-6), "width", "12", "height", "12",
			"transform", fmt.Sprintf("rotate(45 %s %s)", num(x), num(y)),
			"fill", kindColour[dwellv1.SegmentKind_SEGMENT_KIND_IDLE], "stroke", "#ffffff", "stroke-width", "1.5")
		l.block(x-8, y-8, x+8, y+8)
		labels = append(labels, mapLabel{x: x, y: y, r: 8, text: "idle " + strings.Join(st.items, ", "), px: 11, colour: "#9a5b00", weight: "normal"})
	}
	s.close("g")
	return labels
}

// pile is what is drawn at one spot of the map: the items placed within a
// few pixels of the first one, at (x, y).
type pile[T any] struct {
	x, y  float64
	items []T
}

// addToPile adds item, at (x, y), to the first of piles whose spot is less
// than r pixels away, or else to a new pile there.
func addToPile[T any](piles []*pile[T], x, y, r float64, item T) []*pile[T] {
	for _, p := range piles {
		if math.Hypot(p.x-x, p.y-y) < r {
			p.items = append(p.items, item)
			return piles
		}
	}
	return append(piles, &pile[T]{x: x, y: y, items: []T{item}})
}

// groupLabel names the visited clients of one spot on the map: the name
// alone for one; for several their visit numbers and names, or the first
// and last name when all would be too long.
func (p *dayPicture) groupLabel(clients []string) string {
	if len(clients) == 1 {
		return p.shortName(clients[0])
	}
	nos := make([]int, len(clients))
	names := make([]string, len(clients))
	for i, c := range clients {
		nos[i], names[i] = p.visitNo[c], p.shortName(c)
	}
	all := strings.Join(names, ", ")
	if len([]rune(all)) > 36 {
		all = names[0] + " … " + names[len(names)-1]
	}
	return numberRanges(nos) + ": " + all
}

// numberRanges writes ascending numbers as "1–3, 7".
func numberRanges(ns []int) string {
	ns = append([]int(nil), ns...)
	slices.Sort(ns)
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d–%d", ns[i], ns[j]))
		} else {
			parts = append(parts, strconv.Itoa(ns[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
