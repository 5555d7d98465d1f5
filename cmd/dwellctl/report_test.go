package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// grpcConn dials addr with a bearer token.
func grpcConn(t *testing.T, addr, token string) *grpc.ClientConn {
	t.Helper()
	g := &globals{addr: addr, token: token}
	conn, err := g.dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// simulatedDay is one rep's day loaded into a test server.
type simulatedDay struct {
	city *sim.City
	day  *sim.DayResult
	date dwell.Date
	c    *cli // with an admin token
}

// loadSimDay starts a server, creates the simulated city's clients and rep
// rep-1 (Asia/Jakarta) as an admin, and uploads the rep's day of yesterday
// as a partner would: every batch over StreamPings, then the check-ins and
// check-outs.
func loadSimDay(t *testing.T, profile sim.Profile, seed uint64) simulatedDay {
	t.Helper()
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	admin := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	partner := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "partner", "--subject", "crm").stdout)
	c = c.with("DWELL_TOKEN", admin)
	c.must(0, "reps", "create", "rep-1", "--name", "Budi Santoso", "--time-zone", "Asia/Jakarta")

	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	city, err := sim.NewCity(seed, sim.CityConfig{})
	if err != nil {
		t.Fatal(err)
	}
	date := dwellDate(time.Now().AddDate(0, 0, -1), jakarta)
	day, err := sim.Day(seed, city, profile, sim.DayConfig{Rep: "rep-1", Date: date, Loc: jakarta})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := importSimClients(ctx, dwellv1.NewDirectoryServiceClient(grpcConn(t, addr, admin)), city); err != nil {
		t.Fatal(err)
	}
	ic := dwellv1.NewIngestServiceClient(grpcConn(t, addr, partner))
	stream, err := ic.StreamPings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range day.Uploads {
		if err := stream.Send(&dwellv1.StreamPingsRequest{Rep: "reps/rep-1", Fixes: simFixesPB(b.Fixes), BatchId: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n := resp.GetAck().GetRejected(); n > 0 {
			t.Fatalf("batch %d: %d fixes rejected: %v", resp.GetBatchId(), n, resp.GetAck().GetResults())
		}
	}
	for _, ci := range day.CheckIns {
		if _, err := ic.CheckIn(ctx, simCheckInPB("reps/rep-1", ci)); err != nil {
			t.Fatalf("CheckIn: %v", err)
		}
	}
	for _, co := range day.CheckOuts {
		if _, err := ic.CheckOut(ctx, simCheckOutPB("reps/rep-1", co)); err != nil {
			t.Fatalf("CheckOut: %v", err)
		}
	}
	return simulatedDay{city: city, day: day, date: date, c: c}
}

// svgShape is what a structural check of the picture needs.
type svgShape struct {
	segRects, fences, fixDots, mockFixes, pathParts, badges, scaleBars int
	text                                                               string
}

// parseSVG checks that b is well-formed XML with an svg root and counts
// its parts by class.
func parseSVG(t *testing.T, b []byte) svgShape {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	var s svgShape
	var stack []string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && (el.Name.Local != "svg" || el.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element %v, want svg in the SVG namespace", el.Name)
			}
			class := ""
			for _, a := range el.Attr {
				if a.Name.Local == "class" {
					class = a.Value
				}
			}
			parent := ""
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			switch {
			case class == "seg" && el.Name.Local == "rect":
				s.segRects++
			case class == "fence":
				s.fences++
			case class == "fix":
				s.fixDots++
			case class == "fix mock":
				s.mockFixes++
			case class == "visit-badge":
				s.badges++
			case class == "scale-bar":
				s.scaleBars++
			case el.Name.Local == "path" && parent == "fix-path":
				s.pathParts++
			}
			stack = append(stack, class)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			text.Write(el)
		}
	}
	s.text = text.String()
	return s
}

func TestReportDayAndPicture(t *testing.T) {
	for _, c := range []struct {
		profile sim.Profile
		seed    uint64
	}{{sim.Realistic(), 7}, {sim.Harsh(), 3}, {sim.Canvassing(), 5}} {
		t.Run(c.profile.Name, func(t *testing.T) { testReportDay(t, c.profile, c.seed) })
	}
}

func testReportDay(t *testing.T, profile sim.Profile, seed uint64) {
	sd := loadSimDay(t, profile, seed)
	date := fmt.Sprintf("%04d-%02d-%02d", sd.date.Year, sd.date.Month, sd.date.Day)
	svgPath := filepath.Join(t.TempDir(), "day.svg")
	r := sd.c.must(0, "report", "day", "rep-1", "--date", date, "--svg", svgPath)

	// The table: local times in Jakarta, the visits with client names.
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	first := sd.day.Segments[0].Start.In(jakarta).Format("15:04")
	for _, want := range []string{"reps/rep-1", "(Asia/Jakarta)", "Segments", "Visits", "Totals", "Flags", first, "travel", "visit", "Drawn to " + svgPath} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report day output lacks %q:\n%s", want, r.stdout)
		}
	}
	visited := 0
	for _, v := range sd.day.Visits {
		site, _ := sd.city.Site(v.Client)
		if strings.Contains(r.stdout, site.DisplayName) {
			visited++
		}
	}
	if visited*10 < len(sd.day.Visits)*8 {
		t.Errorf("the table names %d of the %d visited clients:\n%s", visited, len(sd.day.Visits), r.stdout)
	}

	// -o json is the GetRepDay answer, without the fixes.
	r = sd.c.must(0, "report", "day", "rep-1", "--date", date, "-o", "json")
	resp := &dwellv1.GetRepDayResponse{}
	if err := protojson.Unmarshal([]byte(r.stdout), resp); err != nil {
		t.Fatalf("report day -o json: %v\n%s", err, r.stdout)
	}
	if resp.GetFixCount() != int32(len(sd.day.AllFixes())) || len(resp.GetFixes()) != 0 || len(resp.GetSegments()) == 0 || len(resp.GetVisits()) == 0 {
		t.Fatalf("report day -o json: fix_count %d (want %d), %d fixes (want none), %d segments, %d visits",
			resp.GetFixCount(), len(sd.day.AllFixes()), len(resp.GetFixes()), len(resp.GetSegments()), len(resp.GetVisits()))
	}

	r = sd.c.must(0, "report", "day", "rep-1", "--date", date, "-o", "json", "--fixes")
	withFixes := &dwellv1.GetRepDayResponse{}
	if err := protojson.Unmarshal([]byte(r.stdout), withFixes); err != nil || len(withFixes.GetFixes()) != len(sd.day.AllFixes()) {
		t.Fatalf("report day -o json --fixes: %d fixes (%v), want %d", len(withFixes.GetFixes()), err, len(sd.day.AllFixes()))
	}

	// The picture: one bar rect per segment, the path, the fixes, the
	// visited clients' fences, a badge per visit on the bar, the map and
	// the list, and a scale bar.
	b, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	s := parseSVG(t, b)
	clients := map[string]bool{}
	visitSegs := 0
	for _, sg := range resp.GetSegments() {
		if sg.GetClient() != "" {
			clients[sg.GetClient()] = true
			visitSegs++
		}
	}
	mock := 0
	for _, f := range sd.day.AllFixes() {
		if f.Mock {
			mock++
		}
	}
	if s.segRects != len(resp.GetSegments()) {
		t.Errorf("SVG has %d segment rects, want %d", s.segRects, len(resp.GetSegments()))
	}
	if s.fences != len(clients) {
		t.Errorf("SVG has %d fences, want the %d visited clients", s.fences, len(clients))
	}
	if s.fixDots+s.mockFixes != len(sd.day.AllFixes()) || s.mockFixes != mock {
		t.Errorf("SVG has %d fix dots and %d mock crosses, want %d fixes of which %d mock", s.fixDots, s.mockFixes, len(sd.day.AllFixes()), mock)
	}
	if s.pathParts == 0 {
		t.Error("SVG has no path")
	}
	if want := visitSegs + len(clients) + len(resp.GetVisits()); s.badges != want {
		t.Errorf("SVG has %d visit badges, want %d (bar) + %d (map) + %d (list)", s.badges, visitSegs, len(clients), len(resp.GetVisits()))
	}
	if s.scaleBars != 1 {
		t.Errorf("SVG has %d scale bars, want 1", s.scaleBars)
	}
	for _, want := range []string{"Legend", "Visits", first} {
		if !strings.Contains(s.text, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
	if dir := os.Getenv("DWELL_TEST_SVG_DIR"); dir != "" {
		// For looking at the pictures: DWELL_TEST_SVG_DIR=/tmp go test -run TestReportDayAndPicture
		os.WriteFile(filepath.Join(dir, "day-"+profile.Name+".svg"), b, 0o644)
	}
}

func TestReportDayEmptyAndRefused(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	admin := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	budi := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "rep", "--subject", "budi").stdout)
	a := c.with("DWELL_TOKEN", admin)
	a.must(0, "reps", "create", "budi", "--name", "Budi", "--time-zone", "Asia/Jakarta")
	a.must(0, "reps", "create", "sari", "--name", "Sari", "--time-zone", "Asia/Jakarta")

	// A day without data is a day without segments, and still a picture.
	svgPath := filepath.Join(t.TempDir(), "empty.svg")
	r := a.must(0, "report", "day", "budi", "--date", "2026-03-02", "--svg", svgPath)
	if !strings.Contains(r.stdout, "none: no fixes or check-ins that day") {
		t.Errorf("empty day:\n%s", r.stdout)
	}
	b, err := os.ReadFile(svgPath)
	if err != nil {
		t.Fatal(err)
	}
	if s := parseSVG(t, b); s.segRects != 0 || s.fixDots != 0 || !strings.Contains(s.text, "no fixes that day") {
		t.Errorf("empty day's picture: %+v", s)
	}

	// A rep reads itself without naming itself, and not another rep.
	me := c.with("DWELL_TOKEN", budi)
	if r := me.must(0, "report", "day", "--date", "yesterday", "-o", "json"); !strings.Contains(r.stdout, `"rep": "reps/budi"`) {
		t.Errorf("own day: %s", r.stdout)
	}
	if r := me.must(1, "report", "day", "sari", "--date", "2026-03-02"); !strings.Contains(r.stderr, "PERMISSION_DENIED") {
		t.Errorf("another rep's day: %s", r.stderr)
	}
	a.must(2, "report", "day", "budi", "--date", "2026-02-30")
	a.must(2, "report", "day", "budi", "sari")

	// Breakdowns and KPIs of an empty range are explicit zeros; an unknown
	// team is refused by name; a rep reads its own KPIs, not another's.
	if r := a.must(0, "report", "breakdown", "--rep", "budi", "--from", "2026-01-01", "--to", "2026-01-07"); !strings.Contains(r.stdout, "TOTAL") {
		t.Errorf("empty breakdown: %s", r.stdout)
	}
	if r := a.must(0, "report", "kpis", "--rep", "budi", "--from", "2026-01-01", "--to", "2026-01-07"); !strings.Contains(r.stdout, "(0 field days, 0 records)") {
		t.Errorf("empty KPIs: %s", r.stdout)
	}
	if r := a.must(1, "report", "breakdown", "--team", "nope", "--from", "2026-03-01", "--to", "2026-03-07"); !strings.Contains(r.stderr, "NOT_FOUND") {
		t.Errorf("unknown team: %s", r.stderr)
	}
	if r := me.must(1, "report", "kpis", "--rep", "sari"); !strings.Contains(r.stderr, "PERMISSION_DENIED") {
		t.Errorf("another rep's KPIs: %s", r.stderr)
	}
	a.must(2, "report", "kpis")                                      // neither rep nor team
	a.must(2, "report", "kpis", "--rep", "a", "--rep", "b")          // one rep only
	a.must(2, "report", "breakdown", "--team", "t", "--rep", "a")    // not both
	a.must(2, "report", "breakdown", "--team", "t", "--by", "month") // rep or day
}

// TestPrintRepDayPastRetention: a day whose fixes expired says so beside
// its fix count; another does not.
func TestPrintRepDayPastRetention(t *testing.T) {
	for _, past := range []bool{false, true} {
		var b bytes.Buffer
		printRepDay(&b, &dwellv1.GetRepDayResponse{Rep: "reps/budi", Date: &dwellv1.Date{Year: 2026, Month: 3, Day: 2}, TimeZone: "Asia/Jakarta",
			FixCount: 463, PastRetention: past}, nil)
		if got := strings.Contains(b.String(), "463 (deleted since by the retention period"); got != past {
			t.Errorf("past_retention %v: the note is shown %v:\n%s", past, got, b.String())
		}
	}
}

func TestPrintBreakdown(t *testing.T) {
	resp := &dwellv1.GetTimeBreakdownResponse{
		Rows: []*dwellv1.BreakdownRow{
			{Rep: "reps/budi", Date: &dwellv1.Date{Year: 2026, Month: 3, Day: 2}, FieldDays: 1,
				Totals: &dwellv1.DayTotals{VisitProspectSeconds: 5400, VisitCustomerSeconds: 1800, IdleSeconds: 2700, TravelSeconds: 7260, GapSeconds: 0, DistanceMeters: 23450}},
			{Rep: "reps/sari", Date: &dwellv1.Date{Year: 2026, Month: 3, Day: 2}, FieldDays: 1,
				Totals: &dwellv1.DayTotals{VisitProspectSeconds: 600, IdleSeconds: 59, TravelSeconds: 1800, GapSeconds: 3600, PausedSeconds: 900, DistanceMeters: 850}},
		},
		Total: &dwellv1.DayTotals{VisitProspectSeconds: 6000, VisitCustomerSeconds: 1800, IdleSeconds: 2759, TravelSeconds: 9060, GapSeconds: 3600, PausedSeconds: 900, DistanceMeters: 24300},
	}
	var b bytes.Buffer
	printBreakdown(&b, resp, true)
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	want := [][]string{
		{"REP", "DAY", "FIELD", "DAYS", "PROSPECTS", "CUSTOMERS", "IDLE", "TRAVEL", "DISTANCE", "GAP", "PAUSED"},
		{"reps/budi", "2026-03-02", "1", "1h", "30m", "30m", "45m", "2h", "01m", "23.4", "km", "0s", "0s"},
		{"reps/sari", "2026-03-02", "1", "10m", "0s", "59s", "30m", "850", "m", "1h", "00m", "15m"},
		{"TOTAL", "2", "1h", "40m", "30m", "46m", "2h", "31m", "24.3", "km", "1h", "00m", "15m"},
	}
	if len(lines) != len(want) {
		t.Fatalf("breakdown has %d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i, w := range want {
		if got := strings.Fields(lines[i]); strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("breakdown line %d = %q, want %q", i, got, w)
		}
	}
	b.Reset()
	printBreakdown(&b, &dwellv1.GetTimeBreakdownResponse{Total: &dwellv1.DayTotals{}}, false)
	if !strings.Contains(b.String(), "No data in the range") || !strings.Contains(b.String(), "TOTAL  0") {
		t.Errorf("empty breakdown:\n%s", b.String())
	}
}

func TestPrintKpis(t *testing.T) {
	k := &dwellv1.GetKpisResponse{
		Idle: &dwellv1.IdleKpi{Basis: &dwellv1.Basis{Days: 5, Records: 40}, IdleSeconds: 12000, IdleSecondsPerDay: 2400, IdleShare: 0.125, TravelSeconds: 18600, TravelMeters: 82300},
		VisitTime: &dwellv1.VisitTimeKpi{Basis: &dwellv1.Basis{Days: 5, Records: 22}, ProspectSeconds: 36000, ProspectMeanSeconds: 1800,
			CustomerSeconds: 3600, CustomerMeanSeconds: 1200, DurationHistogram: []int32{1, 4, 9, 6, 2}, WonMeanSeconds: 2700, NotWonMeanSeconds: 1500},
		Meetings:   &dwellv1.MeetingsKpi{Basis: &dwellv1.Basis{Days: 5, Records: 22}, VerifiedVisitsPerDay: 3.4, AppointmentsPlanned: 10, AppointmentsKept: 8},
		Calls:      &dwellv1.CallsKpi{Basis: &dwellv1.Basis{Days: 5, Records: 12}, Calls: 12, ConnectedCalls: 9, MeanTalkSeconds: 245},
		WinRatio:   &dwellv1.WinRatioKpi{Basis: &dwellv1.Basis{Days: 5, Records: 2}, Wins: 2, Meetings: 4, Ratio: 0.5, MultiMeetingWinShare: 0.5},
		Rejection:  &dwellv1.RejectionKpi{Basis: &dwellv1.Basis{Days: 5, Records: 10}, MeetingsWithOutcome: 10, Rejections: 3, Rate: 0.3, Reasons: []*dwellv1.RejectionCount{{Reason: dwellv1.RejectionReason(1), Count: 1}, {Reason: dwellv1.RejectionReason(3), Count: 2}}},
		Cadence:    &dwellv1.CadenceKpi{Basis: &dwellv1.Basis{Days: 5, Records: 3}, PositivePerDay: 0.8, FollowUpsDue: 3, FollowUpsDone: 1, FollowUpRate: 1.0 / 3, MedianDaysToFollowUp: 2},
		Engagement: &dwellv1.EngagementKpi{Basis: &dwellv1.Basis{Days: 5, Records: 4}, CustomerVisits: 3, CustomerCalls: 1, CustomerWonShare: 0.25},
		SalesCycle: &dwellv1.SalesCycleKpi{Basis: &dwellv1.Basis{Days: 5, Records: 2}, MeanDays: 20.5, MedianDays: 20.5, TeamSpreadDays: 0},
		Quota: &dwellv1.QuotaKpi{Basis: &dwellv1.Basis{Days: 5, Records: 1}, Won: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 75000000},
			Quota: &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 150000000}, Attainment: 0.5},
	}
	var b bytes.Buffer
	printKpis(&b, k)
	out := b.String()
	r1 := enumWord(dwellv1.RejectionReason(1).String(), "REJECTION_REASON_")
	r3 := enumWord(dwellv1.RejectionReason(3).String(), "REJECTION_REASON_")
	for _, want := range []string{
		" 1. Idle time in the field", "(5 field days, 40 records)", "3h 20m, 40m per field day, 12.5% of field time", "5h 10m, 82.3 km",
		"10h 00m, 30m a visit on average", "<5m: 1, 5-15m: 4, 15-30m: 9, 30-60m: 6, 60m+: 2", "45m a visit to clients later won, 25m to the others",
		"3.4 per field day", "8 kept of 10 planned",
		"12, 9 connected", "4m per connected call",
		"2 from 4 meetings with those clients (ratio 0.50)", "50.0% of wins",
		"3 of 10 meetings with an outcome (30.0%)",
		"1 done on time of 3 due (33.3%), median 2.0 days",
		"3 visits, 1 calls", "25.0% from existing customers",
		"mean 20.5 days, median 20.5 days",
		"IDR 75,000,000 of IDR 150,000,000 quota (50.0%)",
		"10. Quota attainment", "(5 field days, 1 record)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("KPIs lack %q:\n%s", want, out)
		}
	}
	// Reasons are listed most frequent first.
	if i, j := strings.Index(out, r3), strings.Index(out, r1); i < 0 || j < 0 || i > j {
		t.Errorf("rejection reasons %q (2) should come before %q (1):\n%s", r3, r1, out)
	}
	// An empty answer prints explicit zeros, never NaN.
	b.Reset()
	printKpis(&b, &dwellv1.GetKpisResponse{})
	if strings.Contains(b.String(), "NaN") || !strings.Contains(b.String(), "(0 field days, 0 records)") {
		t.Errorf("empty KPIs:\n%s", b.String())
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "0s"}, {59 * time.Second, "59s"}, {90 * time.Second, "2m"}, {time.Hour, "1h 00m"}, {time.Hour + 5*time.Minute + 29*time.Second, "1h 05m"}, {-time.Minute, "-1m"}} {
		if got := formatDuration(c.d); got != c.want {
			t.Errorf("formatDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	for _, c := range []struct {
		m    *dwellv1.Money
		want string
	}{{&dwellv1.Money{CurrencyCode: "EUR", AmountMinor: 123450}, "EUR 1,234.50"}, {&dwellv1.Money{CurrencyCode: "IDR", AmountMinor: 1500000}, "IDR 1,500,000"},
		{&dwellv1.Money{CurrencyCode: "KWD", AmountMinor: 1500}, "KWD 1.500"}, {&dwellv1.Money{CurrencyCode: "XOF", AmountMinor: 1500}, "XOF 1,500"},
		{&dwellv1.Money{CurrencyCode: "CLF", AmountMinor: 12345}, "CLF 1.2345"}, {&dwellv1.Money{CurrencyCode: "EUR", AmountMinor: -5}, "EUR -0.05"}, {nil, "-"}} {
		if got := formatMoney(c.m); got != c.want {
			t.Errorf("formatMoney(%v) = %q, want %q", c.m, got, c.want)
		}
	}
	for _, c := range []struct {
		m, want float64
	}{{0.9, 0.5}, {1, 1}, {730, 500}, {1999, 1000}, {2000, 2000}, {4999, 2000}} {
		if got := niceLength(c.m); got != c.want {
			t.Errorf("niceLength(%g) = %g, want %g", c.m, got, c.want)
		}
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, jakarta)
	if got := localClock(time.Date(2026, 3, 2, 17, 30, 0, 0, time.UTC), jakarta, day); got != "00:30 +1d" {
		t.Errorf("localClock past midnight = %q, want 00:30 +1d", got)
	}
	if got := localClock(time.Date(2026, 3, 2, 1, 15, 0, 0, time.UTC), jakarta, day); got != "08:15" {
		t.Errorf("localClock = %q, want 08:15", got)
	}
}

// TestReportDayTodayInRepZone checks that "today" is the rep's today, of
// the rep named or, REP left out, of the rep whose token it is: at 11:00
// UTC it is already tomorrow on Kiritimati (UTC+14).
func TestReportDayTodayInRepZone(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	admin := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	a := c.with("DWELL_TOKEN", admin)
	a.must(0, "reps", "create", "tabwi", "--name", "Tabwi", "--time-zone", "Pacific/Kiritimati")
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return a.env[k] },
		now: func() time.Time { return time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC) }}
	if code := e.run(context.Background(), []string{"report", "day", "tabwi", "-o", "json"}); code != 0 {
		t.Fatalf("report day: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"day": 3`) || !strings.Contains(out.String(), `"month": 3`) {
		t.Errorf("report day today on Kiritimati at 11:00 UTC = %s, want 2026-03-03", out.String())
	}
	// The rep herself, REP left out: her today too, not this computer's.
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "rep", "--subject", "tabwi").stdout)
	r := c.with("DWELL_TOKEN", tok).runAt(time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC), "report", "day", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"day": 3`) || !strings.Contains(r.stdout, `"month": 3`) || r.stderr != "" {
		t.Errorf("report day (a rep's token, no REP) today on Kiritimati at 11:00 UTC: exit %d, %s, stderr %q; want 2026-03-03", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct{ token, want string }{{tok, "reps/tabwi"}, {admin, ""}, {"", ""}, {"a.b.c", ""}, {"x.e30.y", ""}} {
		if got := tokenRep(c.token); got != c.want {
			t.Errorf("tokenRep(%.20q) = %q, want %q", c.token, got, c.want)
		}
	}
}

// TestRangeTodayIsTheRepsToday checks that "today" in a range (report
// breakdown, report kpis, appointments list, the default --to) is the
// reps' today, as in report day: at 11:00 UTC it is already tomorrow on
// Kiritimati (UTC+14). A team whose reps are in several zones keeps this
// computer's calendar and says so on stderr.
func TestRangeTodayIsTheRepsToday(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	admin := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	a := c.with("DWELL_TOKEN", admin)
	a.must(0, "teams", "create", "pacific", "--name", "Pacific")
	a.must(0, "teams", "create", "mixed", "--name", "Mixed")
	a.must(0, "reps", "create", "tabwi", "--name", "Tabwi", "--time-zone", "Pacific/Kiritimati", "--team", "pacific")
	a.must(0, "reps", "create", "teraina", "--name", "Teraina", "--time-zone", "Pacific/Kiritimati", "--team", "mixed")
	a.must(0, "reps", "create", "budi", "--name", "Budi", "--time-zone", "Asia/Jakarta", "--team", "mixed")
	a.must(0, "clients", "create", "c-1", "--name", "C1", "--kind", "prospect", "--circle", "1.87,-157.43,50")
	// 2026-03-03 09:00 to 10:00 on Kiritimati is 2026-03-02 19:00 UTC.
	a.must(0, "appointments", "create", "--rep", "tabwi", "--client", "c-1", "--start", "2026-03-03 09:00", "--end", "2026-03-03 10:00")
	// Forty minutes standing still from 09:00 on Kiritimati's 2026-03-03.
	var fixes strings.Builder
	start := time.Date(2026, 3, 2, 19, 0, 0, 0, time.UTC)
	for i := range 40 {
		fmt.Fprintf(&fixes, `{"id":"f-%d","time":%q,"lat":1.88,"lng":-157.43,"accuracy_m":10}`+"\n", i, start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
	}
	path := filepath.Join(t.TempDir(), "p.jsonl")
	if err := os.WriteFile(path, []byte(fixes.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "rep", "--subject", "tabwi").stdout)
	c.with("DWELL_TOKEN", rep).must(0, "pings", "upload", path)

	// At 11:00 UTC on 2026-03-02, as the computer's clock.
	at := func(args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return a.env[k] },
			now: func() time.Time { return time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC) }}
		code := e.run(context.Background(), args)
		if code != 0 {
			t.Fatalf("dwellctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
		}
		return result{code, out.String(), errb.String()}
	}
	for _, who := range [][]string{{"--rep", "tabwi"}, {"--team", "pacific"}} {
		r := at(append([]string{"report", "kpis"}, who...)...)
		if !strings.Contains(r.stdout, "2026-02-25 to 2026-03-03\n") || r.stderr != "" {
			t.Errorf("report kpis %s (default range, to today): %q, stderr %q; want 2026-02-25 to 2026-03-03, Kiritimati's today", who, firstLine(r.stdout), r.stderr)
		}
		r = at(append([]string{"report", "breakdown", "--by", "day", "--from", "today", "--to", "today"}, who...)...)
		if !strings.Contains(r.stdout, "reps/tabwi  2026-03-03") {
			t.Errorf("report breakdown %s --from today --to today: no row of Kiritimati's today 2026-03-03:\n%s", who, r.stdout)
		}
		r = at(append([]string{"appointments", "list", "--from", "today", "--to", "today"}, who...)...)
		if !strings.Contains(r.stdout, "2026-03-02T19:00:00Z") {
			t.Errorf("appointments list %s --from today --to today: no appointment of Kiritimati's today 2026-03-03:\n%s", who, r.stdout)
		}
	}
	// The reps of "mixed" are on two calendars: the computer's is used, and
	// the range is printed.
	r := at("report", "kpis", "--team", "mixed")
	if !strings.Contains(r.stdout, "2026-02-24 to 2026-03-02\n") {
		t.Errorf("report kpis --team mixed: %q, want the computer's 2026-02-24 to 2026-03-02", firstLine(r.stdout))
	}
	if want := "dwellctl report kpis: range 2026-02-24 to 2026-03-02, on this computer's calendar (UTC): the reps are in several time zones (Asia/Jakarta, Pacific/Kiritimati)\n"; r.stderr != want {
		t.Errorf("report kpis --team mixed: stderr %q, want %q", r.stderr, want)
	}
	r = at("report", "visits", "--team", "mixed", "--from", "yesterday")
	if !strings.Contains(r.stderr, "range 2026-03-01 to 2026-03-02, on this computer's calendar") {
		t.Errorf("report visits --team mixed: stderr %q, want the range used", r.stderr)
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestReportDayFixesNeedsJSON: --fixes only adds to the JSON, so without
// -o json it is a usage error that says so, not silently ignored; the
// help says it too.
func TestReportDayFixesNeedsJSON(t *testing.T) {
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": "127.0.0.1:1"}}
	if r := c.must(2, "report", "day", "rep-1", "--fixes"); !strings.Contains(r.stderr, "--fixes needs -o json") {
		t.Errorf("report day --fixes without -o json: stderr %q", r.stderr)
	}
	if r := c.must(2, "-o", "table", "report", "day", "rep-1", "--fixes", "--svg", t.TempDir()+"/day.svg"); !strings.Contains(r.stderr, "--fixes needs -o json") {
		t.Errorf("report day --fixes --svg without -o json: stderr %q", r.stderr)
	}
	if r := c.must(0, "help", "report", "day"); !strings.Contains(r.stderr, "--fixes adds the day's fixes to the JSON of -o json, and needs it") ||
		!strings.Contains(r.stderr, "needs -o json") {
		t.Errorf("help report day:\n%s", r.stderr)
	}
}
