package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// salesEnv is a test server with team north, reps rep-1 (Asia/Jakarta) and
// rep-2 (Europe/Berlin) in it, and clients c-1 and c-2: what the sales
// inputs refer to.
type salesEnv struct {
	admin *cli
	sales dwellv1.SalesServiceClient
	dir   string
}

func newSalesEnv(t *testing.T) salesEnv {
	t.Helper()
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin").stdout)
	admin := c.with("DWELL_TOKEN", tok)
	admin.must(0, "teams", "create", "north", "--name", "North")
	admin.must(0, "reps", "create", "rep-1", "--name", "Budi", "--time-zone", "Asia/Jakarta", "--team", "north")
	admin.must(0, "reps", "create", "rep-2", "--name", "Anna", "--time-zone", "Europe/Berlin", "--team", "north")
	dir := t.TempDir()
	writeFile(t, dir, "clients.csv", "id,display_name,kind,lat,lng,radius_m\n"+
		"c-1,Toko Satu,prospect,-6.175,106.827,80\n"+
		"c-2,Toko Dua,customer,-6.2,106.85,120\n")
	admin.must(0, "clients", "import", filepath.Join(dir, "clients.csv"))
	return salesEnv{admin: admin, sales: dwellv1.NewSalesServiceClient(grpcConn(t, addr, tok)), dir: dir}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeProtos reads the JSON array a list command prints with -o json.
func decodeProtos[M proto.Message](t *testing.T, s string, newM func() M) []M {
	t.Helper()
	var out []M
	for _, raw := range decodeJSON[[]json.RawMessage](t, s) {
		m := newM()
		if err := protojson.Unmarshal(raw, m); err != nil {
			t.Fatalf("element %s: %v", raw, err)
		}
		out = append(out, m)
	}
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestAppointmentsCommands books, lists and cancels appointments with
// dwellctl and checks each step against ListAppointments: local times are
// the rep's, a repeated create books nothing twice.
func TestAppointmentsCommands(t *testing.T) {
	s := newSalesEnv(t)
	ctx := ctxT(t)
	day := &dwellv1.Date{Year: 2026, Month: 11, Day: 27}
	apiList := func() []*dwellv1.Appointment {
		t.Helper()
		resp, err := s.sales.ListAppointments(ctx, &dwellv1.ListAppointmentsRequest{Team: "teams/north", StartDate: day, EndDate: day})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetAppointments()
	}

	// Local times are in the rep's zone: 09:00 in Jakarta is 02:00 UTC.
	r := s.admin.must(0, "appointments", "create", "appt-1", "--rep", "rep-1", "--client", "c-1",
		"--start", "2026-11-27 09:00", "--end", "2026-11-27 10:30", "-o", "json")
	a := decodeProto(t, r.stdout, &dwellv1.Appointment{})
	wantStart := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	if a.GetName() != "appointments/appt-1" || !a.GetPlannedStartTime().AsTime().Equal(wantStart) ||
		!a.GetPlannedEndTime().AsTime().Equal(wantStart.Add(90*time.Minute)) {
		t.Fatalf("appointments create printed %s, want appt-1 from %s for 90 min", r.stdout, wantStart)
	}
	if got := apiList(); len(got) != 1 || !proto.Equal(got[0], a) {
		t.Fatalf("ListAppointments after create = %v, want only %v", got, a)
	}

	// Without an id, running the same command twice books it once.
	args := []string{"appointments", "create", "--rep", "rep-2", "--client", "clients/c-2", "--start", "2026-11-27T14:00:00+01:00", "--end", "2026-11-27T15:00:00+01:00", "-o", "json"}
	first := decodeProto(t, s.admin.must(0, args...).stdout, &dwellv1.Appointment{})
	again := decodeProto(t, s.admin.must(0, args...).stdout, &dwellv1.Appointment{})
	if first.GetName() == "" || !proto.Equal(first, again) {
		t.Fatalf("a repeated create answered %v, then %v; want the same appointment", first, again)
	}
	if got := apiList(); len(got) != 2 {
		t.Fatalf("ListAppointments after a repeated create holds %d appointments, want 2: %v", len(got), got)
	}

	// The list, one per page, is the API's.
	r = s.admin.must(0, "appointments", "list", "--team", "north", "--from", "2026-11-27", "--to", "2026-11-27", "--page-size", "1", "--all", "-o", "json")
	listed := decodeProtos(t, r.stdout, func() *dwellv1.Appointment { return &dwellv1.Appointment{} })
	want := apiList()
	if len(listed) != len(want) {
		t.Fatalf("appointments list --all printed %d appointments, want %d", len(listed), len(want))
	}
	for i := range want {
		if !proto.Equal(listed[i], want[i]) {
			t.Errorf("appointments list [%d] = %v, want %v", i, listed[i], want[i])
		}
	}
	if r := s.admin.must(0, "appointments", "list", "--rep", "rep-1", "--from", "2026-11-27", "--to", "2026-11-27"); !strings.Contains(r.stdout, "appointments/appt-1") ||
		!strings.Contains(r.stdout, "2026-11-27T02:00:00Z") || strings.Contains(r.stdout, first.GetName()) {
		t.Errorf("appointments list --rep rep-1 printed:\n%s", r.stdout)
	}

	// Delete, and the API no longer has it; a second delete fails.
	if r := s.admin.must(0, "appointments", "delete", "appt-1"); strings.TrimSpace(r.stdout) != "Deleted appointments/appt-1" {
		t.Errorf("appointments delete printed %q", r.stdout)
	}
	if got := apiList(); len(got) != 1 || got[0].GetName() != first.GetName() {
		t.Fatalf("ListAppointments after delete = %v, want only %s", got, first.GetName())
	}
	if r := s.admin.must(1, "appointments", "delete", "appt-1"); !strings.Contains(r.stderr, "NOT_FOUND") {
		t.Errorf("second delete: stderr %q", r.stderr)
	}

	// A refused create stores nothing and says why.
	if r := s.admin.must(1, "appointments", "create", "--rep", "ghost", "--client", "c-1", "--start", "2026-11-27T09:00:00Z", "--end", "2026-11-27T10:00:00Z"); !strings.Contains(r.stderr, "appointment.rep") {
		t.Errorf("create for an unknown rep: stderr %q", r.stderr)
	}
	if got := apiList(); len(got) != 1 {
		t.Fatalf("a refused create changed the appointments: %v", got)
	}
}

// TestSalesUsageErrors checks that the sales, visits and watch commands
// refuse bad flags with exit 2, naming the flag, before any RPC: the
// address is a closed port, so an RPC would fail with exit 1 instead.
func TestSalesUsageErrors(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr, "DWELL_TOKEN": "x"}}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"appointments", "create", "--client", "c", "--start", "2026-11-27 09:00", "--end", "2026-11-27 10:00"}, "--rep"},
		{[]string{"appointments", "create", "--rep", "r", "--client", "c", "--start", "tomorrow 9", "--end", "2026-11-27 10:00"}, "--start"},
		{[]string{"appointments", "create", "a", "b", "--rep", "r", "--client", "c", "--start", "2026-11-27 09:00", "--end", "2026-11-27 10:00"}, "unexpected arguments"},
		{[]string{"appointments", "list", "--from", "2026-11-01"}, "--team or --rep"},
		{[]string{"appointments", "list", "--rep", "r", "--to", "11/27"}, "--to"},
		{[]string{"opportunities", "update", "o-1"}, "nothing to change"},
		{[]string{"opportunities", "update", "o-1", "--stage", "maybe"}, "--stage"},
		{[]string{"opportunities", "update", "o-1", "--amount", "12"}, "--amount"},
		{[]string{"opportunities", "update", "o-1", "--close-time", "yesterday"}, "--close-time"},
		{[]string{"opportunities", "list", "--rep", "a", "--team", "b"}, "not both"},
		{[]string{"opportunities", "import"}, "FILE"},
		{[]string{"quotas", "list", "--rep", "a", "--team", "b"}, "not both"},
		{[]string{"report", "visits", "--rep", "r", "--verification", "sort of"}, "--verification"},
		{[]string{"report", "visits", "--rep", "r", "--from", "soon"}, "--from"},
		{[]string{"watch", "--type", "lunch"}, "--type"},
		{[]string{"watch", "--since", "x"}, "-since"},
	} {
		r := c.run(tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "UNAVAILABLE") {
			t.Errorf("dwellctl %s: exit %d, stderr %q; want exit 2 naming %s", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
	}
	// help lists the new commands, and watch's help says how to resume.
	r := c.must(0, "help")
	for _, cmd := range []string{"appointments create", "appointments list", "appointments delete", "opportunities import", "opportunities list",
		"opportunities get", "opportunities update", "quotas import", "quotas list", "quotas delete", "report visits", "watch"} {
		if !strings.Contains(r.stdout, "  "+cmd+" ") {
			t.Errorf("help does not list %q", cmd)
		}
	}
	if r := c.must(0, "watch", "-h"); !strings.Contains(r.stderr, "dwellctl watch --from CURSOR") {
		t.Errorf("watch -h does not say how to resume:\n%s", r.stderr)
	}
}

// TestOpportunitiesCommands imports opportunities with one row the server
// refuses, lists, reads and updates them, and checks each step against the
// API: the good rows are stored and the bad one named by its line; an
// update changes only the fields given; a stale etag changes nothing.
func TestOpportunitiesCommands(t *testing.T) {
	s := newSalesEnv(t)
	ctx := ctxT(t)
	get := func(id string) *dwellv1.Opportunity {
		t.Helper()
		resp, err := s.sales.GetOpportunity(ctx, &dwellv1.GetOpportunityRequest{Name: "opportunities/" + id})
		if err != nil {
			t.Fatalf("GetOpportunity %s: %v", id, err)
		}
		return resp.GetOpportunity()
	}
	apiNames := func() []string {
		t.Helper()
		resp, err := s.sales.ListOpportunities(ctx, &dwellv1.ListOpportunitiesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range resp.GetOpportunities() {
			out = append(out, o.GetName())
		}
		return out
	}

	file := writeFile(t, s.dir, "opps.csv", "\ufeffid,rep,client,stage,currency,amount,open_time,close_time,external_id\n"+
		"o-1,rep-1,c-1,open,IDR,\"1,500,000\",2026-10-01T09:00:00+07:00,,crm-1\n"+
		"o-3,ghost,c-1,open,IDR,100,2026-10-01T09:00:00Z,,\n"+
		"o-2,reps/rep-2,clients/c-2,WON,EUR,1234.5,2026-09-01T10:00:00+02:00,2026-11-20T16:00:00+01:00,\n")
	r := s.admin.must(1, "opportunities", "import", file)
	if !strings.Contains(r.stdout, "Stored:    2") || !strings.Contains(r.stdout, "line 3") || !strings.Contains(r.stdout, "rep ghost is not in the directory") ||
		strings.Contains(r.stdout, "line 2 ") || strings.Contains(r.stdout, "line 4") {
		t.Errorf("opportunities import with one bad row printed:\n%s", r.stdout)
	}
	if got := apiNames(); !slices.Equal(got, []string{"opportunities/o-1", "opportunities/o-2"}) {
		t.Fatalf("stored opportunities %v, want o-1 and o-2", got)
	}
	// -o json names the failed row by line too (and stores the good rows
	// again: a new write of each).
	r = s.admin.must(1, "opportunities", "import", file, "-o", "json")
	sum := decodeJSON[struct {
		Received, Stored, Failed int
		Errors                   []importRowJSON
	}](t, r.stdout)
	if sum.Received != 3 || sum.Stored != 2 || sum.Failed != 1 || len(sum.Errors) != 1 || sum.Errors[0].Line != 3 ||
		sum.Errors[0].Name != "opportunities/o-3" || len(sum.Errors[0].FieldErrors) != 1 || sum.Errors[0].FieldErrors[0].Field != "rep" {
		t.Errorf("opportunities import -o json printed %s", r.stdout)
	}
	o1, o2 := get("o-1"), get("o-2")
	if o1.GetAmount().GetAmountMinor() != 1500000 || o1.GetAmount().GetCurrencyCode() != "IDR" || o1.GetExternalId() != "crm-1" ||
		o1.GetStage() != dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN || !o1.GetOpenTime().AsTime().Equal(time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("o-1 stored as %v", o1)
	}
	if o2.GetAmount().GetAmountMinor() != 123450 || o2.GetStage() != dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON ||
		!o2.GetCloseTime().AsTime().Equal(time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("o-2 stored as %v", o2)
	}

	// A malformed file is refused by line and nothing is sent.
	bad := writeFile(t, s.dir, "bad.csv", "id,rep,client,stage,currency,amount,open_time\n"+
		"o-9,rep-1,c-1,open,IDR,5,2026-10-01T09:00:00Z\n"+
		"o-8,rep-1,c-1,maybe,IDR,5,2026-10-01T09:00:00Z\n")
	if r := s.admin.must(1, "opportunities", "import", bad); !strings.Contains(r.stderr, "line 3: stage") || !strings.Contains(r.stderr, "nothing was sent") {
		t.Errorf("malformed file: stderr %q", r.stderr)
	}
	if got := apiNames(); len(got) != 2 {
		t.Fatalf("a malformed file stored opportunities: %v", got)
	}

	// List, one per page, and by rep.
	r = s.admin.must(0, "opportunities", "list", "--page-size", "1", "--all", "-o", "json")
	listed := decodeProtos(t, r.stdout, func() *dwellv1.Opportunity { return &dwellv1.Opportunity{} })
	if len(listed) != 2 || !proto.Equal(listed[0], o1) || !proto.Equal(listed[1], o2) {
		t.Errorf("opportunities list --all = %v, want o-1 and o-2 as stored", listed)
	}
	if r := s.admin.must(0, "opportunities", "list", "--rep", "rep-2"); !strings.Contains(r.stdout, "opportunities/o-2") ||
		strings.Contains(r.stdout, "opportunities/o-1") || !strings.Contains(r.stdout, "EUR 1,234.50") || !strings.Contains(r.stdout, "won") {
		t.Errorf("opportunities list --rep rep-2 printed:\n%s", r.stdout)
	}

	// get shows the etag; an update with it changes the fields given only.
	r = s.admin.must(0, "opportunities", "get", "o-1")
	if !strings.Contains(r.stdout, "Etag:") || !strings.Contains(r.stdout, o1.GetEtag()) || !strings.Contains(r.stdout, "IDR 1,500,000") {
		t.Errorf("opportunities get printed:\n%s", r.stdout)
	}
	r = s.admin.must(0, "opportunities", "update", "o-1", "--stage", "won", "--close-time", "2026-11-25T10:00:00Z", "--etag", o1.GetEtag(), "-o", "json")
	upd := decodeProto(t, r.stdout, &dwellv1.Opportunity{})
	after := get("o-1")
	if !proto.Equal(upd, after) || after.GetStage() != dwellv1.OpportunityStage_OPPORTUNITY_STAGE_WON ||
		!after.GetCloseTime().AsTime().Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) ||
		after.GetExternalId() != "crm-1" || !proto.Equal(after.GetAmount(), o1.GetAmount()) || after.GetEtag() == o1.GetEtag() {
		t.Fatalf("after the update o-1 is %v (printed %v), want won with the rest as before", after, upd)
	}

	// The old etag is stale now: nothing changes, and the user is told.
	r = s.admin.must(1, "opportunities", "update", "o-1", "--external-id", "crm-9", "--etag", o1.GetEtag())
	if !strings.Contains(r.stderr, "changed by someone else") || !strings.Contains(r.stderr, "nothing was changed") ||
		!strings.Contains(r.stderr, "dwellctl opportunities get o-1") {
		t.Errorf("update with a stale etag: stderr %q", r.stderr)
	}
	if now := get("o-1"); !proto.Equal(now, after) {
		t.Fatalf("an update with a stale etag changed o-1: %v, was %v", now, after)
	}
	// The server's refusal of a value is an RPC error with its field.
	r = s.admin.must(1, "opportunities", "update", "o-2", "--stage", "open")
	if !strings.Contains(r.stderr, "INVALID_ARGUMENT") || !strings.Contains(r.stderr, "close_time") {
		t.Errorf("reopening without clearing close_time: stderr %q", r.stderr)
	}
	if now := get("o-2"); !proto.Equal(now, o2) {
		t.Fatalf("a refused update changed o-2: %v", now)
	}
	if _, err := s.sales.GetOpportunity(ctx, &dwellv1.GetOpportunityRequest{Name: "opportunities/o-3"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetOpportunity of the refused row: %v, want NOT_FOUND", err)
	}
}

// TestQuotasCommands imports quotas with one row the server refuses and
// lists them, checked against ListQuotas.
func TestQuotasCommands(t *testing.T) {
	s := newSalesEnv(t)
	ctx := ctxT(t)
	file := writeFile(t, s.dir, "quotas.csv", "rep,start_date,end_date,currency,target\n"+
		"rep-1,2026-11-01,2026-11-30,IDR,50000000\n"+
		"rep-2,2026-11-01,2026-12-31,EUR,20000\n"+
		"rep-2,2026-12-01,2026-11-30,EUR,1000\n")
	r := s.admin.must(1, "quotas", "import", file)
	if !strings.Contains(r.stdout, "Stored:    2") || !strings.Contains(r.stdout, "line 4") || !strings.Contains(r.stdout, "end_date") {
		t.Errorf("quotas import with one bad row printed:\n%s", r.stdout)
	}
	resp, err := s.sales.ListQuotas(ctx, &dwellv1.ListQuotasRequest{Team: "teams/north"})
	if err != nil {
		t.Fatal(err)
	}
	want := resp.GetQuotas()
	if len(want) != 2 || want[0].GetTarget().GetAmountMinor() != 50000000 || want[1].GetTarget().GetAmountMinor() != 2000000 {
		t.Fatalf("ListQuotas after the import = %v, want the two good rows", want)
	}
	r = s.admin.must(0, "quotas", "list", "--team", "north", "--page-size", "1", "--all", "-o", "json")
	listed := decodeProtos(t, r.stdout, func() *dwellv1.Quota { return &dwellv1.Quota{} })
	if len(listed) != 2 || !proto.Equal(listed[0], want[0]) || !proto.Equal(listed[1], want[1]) {
		t.Errorf("quotas list = %v, want %v", listed, want)
	}
	if r := s.admin.must(0, "quotas", "list", "--rep", "rep-1"); !strings.Contains(r.stdout, "IDR 50,000,000") || strings.Contains(r.stdout, "reps/rep-2") {
		t.Errorf("quotas list --rep rep-1 printed:\n%s", r.stdout)
	}
	// A re-import of the good rows is harmless: the same two quotas.
	good := writeFile(t, s.dir, "good.csv", "rep,start_date,end_date,currency,amount\nrep-1,2026-11-01,2026-11-30,IDR,50000000\n")
	s.admin.must(0, "quotas", "import", good)
	s.admin.must(0, "quotas", "import", good)
	if resp, err := s.sales.ListQuotas(ctx, &dwellv1.ListQuotasRequest{Team: "teams/north"}); err != nil || len(resp.GetQuotas()) != 2 {
		t.Errorf("after re-imports ListQuotas = %v, %v; want the same 2 quotas", resp.GetQuotas(), err)
	}
	// A quarter over rep-1's November is refused by line until November
	// is deleted.
	quarter := writeFile(t, s.dir, "quarter.csv", "rep,start_date,end_date,currency,amount\nrep-1,2026-10-01,2026-12-31,IDR,150000000\n")
	if r := s.admin.must(1, "quotas", "import", quarter); !strings.Contains(r.stdout, "line 2") || !strings.Contains(r.stdout, "2026-11-01 to 2026-11-30") {
		t.Errorf("quotas import of an overlapping quarter printed:\n%s", r.stdout)
	}
	if r := s.admin.must(0, "quotas", "delete", "rep-1", "2026-11-01"); !strings.Contains(r.stdout, "Deleted the quota of reps/rep-1 from 2026-11-01") {
		t.Errorf("quotas delete printed %q", r.stdout)
	}
	s.admin.must(1, "quotas", "delete", "rep-1", "2026-11-01")
	s.admin.must(2, "quotas", "delete", "rep-1", "November")
	s.admin.must(0, "quotas", "import", quarter)
	if resp, err := s.sales.ListQuotas(ctx, &dwellv1.ListQuotasRequest{Rep: "reps/rep-1"}); err != nil || len(resp.GetQuotas()) != 1 || resp.GetQuotas()[0].GetEndDate().GetMonth() != 12 {
		t.Errorf("after the delete and the import ListQuotas = %v, %v; want the quarter alone", resp.GetQuotas(), err)
	}
}

// TestQuotasDeleteTodayIsTheRepsToday checks that "today" and "yesterday"
// in quotas delete are the rep's days, as in the ranges of the reports: at
// 20:00 UTC on 2026-11-02, the computer's today, it is already 2026-11-03
// in Jakarta, rep-1's zone. A rep whose zone cannot be read keeps the
// computer's calendar and says so on stderr.
func TestQuotasDeleteTodayIsTheRepsToday(t *testing.T) {
	s := newSalesEnv(t)
	ctx := ctxT(t)
	file := writeFile(t, s.dir, "quotas.csv", "rep,start_date,end_date,currency,target\n"+
		"rep-1,2026-11-01,2026-11-01,IDR,1000000\n"+
		"rep-1,2026-11-02,2026-11-02,IDR,2000000\n"+
		"rep-1,2026-11-03,2026-11-30,IDR,50000000\n")
	s.admin.must(0, "quotas", "import", file)
	at := time.Date(2026, 11, 2, 20, 0, 0, 0, time.UTC)
	starts := func() []string {
		t.Helper()
		resp, err := s.sales.ListQuotas(ctx, &dwellv1.ListQuotasRequest{Rep: "reps/rep-1"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, q := range resp.GetQuotas() {
			out = append(out, formatDate(q.GetStartDate()))
		}
		return out
	}
	r := s.admin.runAt(at, "quotas", "delete", "rep-1", "today")
	if r.code != 0 || !strings.Contains(r.stdout, "Deleted the quota of reps/rep-1 from 2026-11-03") || r.stderr != "" {
		t.Errorf("quotas delete rep-1 today: exit %d, %q, stderr %q; want Jakarta's today, 2026-11-03, deleted", r.code, r.stdout, r.stderr)
	}
	r = s.admin.runAt(at, "quotas", "delete", "rep-1", "yesterday")
	if r.code != 0 || !strings.Contains(r.stdout, "Deleted the quota of reps/rep-1 from 2026-11-02") {
		t.Errorf("quotas delete rep-1 yesterday: exit %d, %q, stderr %q; want Jakarta's yesterday, 2026-11-02, deleted", r.code, r.stdout, r.stderr)
	}
	if got := starts(); !slices.Equal(got, []string{"2026-11-01"}) {
		t.Errorf("quotas left: %v, want the one from 2026-11-01", got)
	}
	// A rep that cannot be read: the computer's today, said on stderr.
	r = s.admin.runAt(at, "quotas", "delete", "ghost", "today")
	if want := "dwellctl quotas delete: today is 2026-11-02, on this computer's calendar (UTC): reps/ghost cannot be read"; r.code != 1 || !strings.HasPrefix(r.stderr, want) {
		t.Errorf("quotas delete ghost today: exit %d, stderr %q; want exit 1 and %q", r.code, r.stderr, want)
	}
}

func FuzzParseOpportunitiesCSV(f *testing.F) {
	f.Add("id,rep,client,stage,currency,amount,open_time,close_time\no,r,c,won,EUR,1.5,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z\n")
	f.Add("name,rep,client,stage,currency,amount,open_time\no,r,c,maybe,idr,1.5,yesterday\n\"x\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := parseOpportunitiesCSV(strings.NewReader(in))
		checkParse(t, rows, err)
	})
}

func FuzzParseQuotasCSV(f *testing.F) {
	f.Add("rep,start_date,end_date,currency,target\nr,2026-11-01,2026-11-30,IDR,\"1,000\"\n")
	f.Add("rep,start_date,end_date,currency,amount\nr,2026-02-30,x,,12.345\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := parseQuotasCSV(strings.NewReader(in))
		checkParse(t, rows, err)
	})
}

// FuzzMoney checks that an amount read back from the way dwellctl prints
// it ("EUR 1,234.50", "IDR 1,500,000") is the same amount.
func FuzzMoney(f *testing.F) {
	f.Add("EUR", int64(123450))
	f.Add("IDR", int64(1500000))
	f.Add("JPY", int64(0))
	f.Fuzz(func(t *testing.T, cur string, minor int64) {
		// The API's currencies: three upper-case ASCII letters.
		if minor < 0 || len(cur) != 3 || strings.Trim(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return
		}
		m := &dwellv1.Money{CurrencyCode: cur, AmountMinor: minor}
		got, err := parseMoneyFlag(formatMoney(m))
		if err != nil || !proto.Equal(got, m) {
			t.Fatalf("parseMoneyFlag(formatMoney(%v) = %q) = %v, %v; want the same amount", m, formatMoney(m), got, err)
		}
	})
}

func TestParseMoney(t *testing.T) {
	for _, tc := range []struct {
		cur, amount string
		want        int64
		err         string
	}{
		{"eur", "1234.5", 123450, ""},
		{"EUR", "1,234.50", 123450, ""},
		{"EUR", "12.", 1200, ""},
		{"IDR", "1500000", 1500000, ""},
		{"IDR", "1500000.5", 0, "more decimals than IDR"},
		{"EUR", "1.234", 0, "more decimals than EUR"},
		{"EUR", "-5", 0, "not an amount"},
		{"EUR", "1e3", 0, "not an amount"},
		{"EUR", "", 0, "not an amount"},
		{"", "5", 0, "currency is required"},
		{"EUR", "99999999999999999999", 0, "too large"},
		// Currencies of three decimals and without minor units.
		{"KWD", "1.5", 1500, ""},
		{"KWD", "1.500", 1500, ""},
		{"KWD", "1.5001", 0, "more decimals than KWD has (3)"},
		{"XOF", "1500", 1500, ""},
		{"XOF", "1500.50", 0, "more decimals than XOF has (0)"},
		// A comma separates thousands only: a decimal comma is refused,
		// never read as a ten or hundred times larger amount.
		{"EUR", "1,5", 0, "not an amount"},
		{"EUR", "1,50", 0, "not an amount"},
		{"EUR", ",5", 0, "not an amount"},
		{"EUR", "1234,567.00", 0, "not an amount"},
		{"EUR", "1,234,567.00", 123456700, ""},
		{"IDR", "1,500,000", 1500000, ""},
		{"IDR", "1,5", 0, "not an amount"},
	} {
		got, err := parseMoney(tc.cur, tc.amount)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseMoney(%q, %q) = %v, %v; want an error saying %q", tc.cur, tc.amount, got, err, tc.err)
		case tc.err == "" && (err != nil || got.GetAmountMinor() != tc.want):
			t.Errorf("parseMoney(%q, %q) = %v, %v; want %d", tc.cur, tc.amount, got, err, tc.want)
		}
	}
}

// TestOpportunitiesImportBatches imports more rows than one call holds,
// with a bad row in the second batch: every other row is stored, and the
// bad one is named by its line in the file.
func TestOpportunitiesImportBatches(t *testing.T) {
	s := newSalesEnv(t)
	ctx := ctxT(t)
	const n, bad = 2*salesBatch + 50, salesBatch + 100
	var b strings.Builder
	b.WriteString("id,rep,client,stage,currency,amount,open_time\n")
	for i := range n {
		rep := "rep-1"
		if i == bad {
			rep = "nobody"
		}
		fmt.Fprintf(&b, "o-%04d,%s,c-1,open,IDR,%d,2026-10-01T09:00:00Z\n", i, rep, 1000+i)
	}
	r := s.admin.must(1, "opportunities", "import", writeFile(t, s.dir, "many.csv", b.String()), "-o", "json")
	sum := decodeJSON[struct {
		Received, Stored, Failed int
		Errors                   []importRowJSON
	}](t, r.stdout)
	if sum.Received != n || sum.Stored != n-1 || sum.Failed != 1 || len(sum.Errors) != 1 ||
		sum.Errors[0].Row != bad || sum.Errors[0].Line != bad+2 || sum.Errors[0].Name != fmt.Sprintf("opportunities/o-%04d", bad) {
		t.Fatalf("import of %d rows with row %d bad printed %s", n, bad, r.stdout)
	}
	var got []string
	token := ""
	for {
		resp, err := s.sales.ListOpportunities(ctx, &dwellv1.ListOpportunitiesRequest{PageSize: 1000, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range resp.GetOpportunities() {
			got = append(got, o.GetName())
			if want := int64(1000 + len(got) - 1); len(got) <= bad && o.GetAmount().GetAmountMinor() != want {
				t.Fatalf("%s stored with amount %d, want %d", o.GetName(), o.GetAmount().GetAmountMinor(), want)
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	if len(got) != n-1 || slices.Contains(got, fmt.Sprintf("opportunities/o-%04d", bad)) {
		t.Fatalf("stored %d opportunities (bad one among them: %v), want %d without it", len(got), slices.Contains(got, fmt.Sprintf("opportunities/o-%04d", bad)), n-1)
	}
}

// TestParseWallOrInstant: a local wall clock names the one instant it
// reads as in the rep's zone; one the clocks skip (spring forward) or pass
// twice (fall back) is refused, not moved an hour without a word.
func TestParseWallOrInstant(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s     string
		loc   *time.Location
		want  time.Time
		local bool
		err   string
	}{
		{"2026-11-27 09:00", jakarta, time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC), true, ""},
		{"2026-03-08 01:30", ny, time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC), true, ""},
		{"2026-03-08 03:30", ny, time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), true, ""},
		{"2026-03-08 02:30", ny, time.Time{}, true, "does not exist"},
		{"2026-11-01 01:30", ny, time.Time{}, true, "happens twice"},
		{"2026-11-01 00:59", ny, time.Date(2026, 11, 1, 4, 59, 0, 0, time.UTC), true, ""},
		{"2026-11-01 02:00", ny, time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC), true, ""},
		{"2026-11-01T01:30:00-04:00", ny, time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), false, ""},
		{"tomorrow 9", ny, time.Time{}, true, "neither an RFC 3339"},
	} {
		got, local, err := parseWallOrInstant(tc.s, tc.loc)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseWallOrInstant(%q, %s) = %v, %v; want an error saying %q", tc.s, tc.loc, got, err, tc.err)
		case tc.err == "" && (err != nil || !got.Equal(tc.want) || local != tc.local):
			t.Errorf("parseWallOrInstant(%q, %s) = %v, %v, %v; want %v, local %v", tc.s, tc.loc, got, local, err, tc.want, tc.local)
		}
	}
}

// TestSalesImportRepeatsAreMalformed checks that an opportunity id, or a
// quota's rep and start_date, twice in one import file makes the file
// malformed, naming both lines, and nothing is sent: what is stored must
// not depend on whether the two rows fall into one batch of 1,000 (the
// server refused the later) or two (the later replaced the earlier).
// A refusal that names another row of the batch names its line.
func TestSalesImportRepeatsAreMalformed(t *testing.T) {
	s := newSalesEnv(t)
	ctx := ctxT(t)
	const head = "id,rep,client,stage,currency,amount,open_time\n"
	near := head + "dup,rep-1,c-1,open,IDR,1,2026-10-01T09:00:00Z\n" + "dup,rep-1,c-1,open,IDR,2,2026-10-01T09:00:00Z\n"
	var far strings.Builder
	far.WriteString(head + "far,rep-1,c-1,open,IDR,1,2026-10-01T09:00:00Z\n")
	for i := range salesBatch - 1 {
		fmt.Fprintf(&far, "fill-%04d,rep-1,c-1,open,IDR,5,2026-10-01T09:00:00Z\n", i)
	}
	far.WriteString("far,rep-1,c-1,open,IDR,2,2026-10-01T09:00:00Z\n")
	for _, tc := range []struct{ file, content, want string }{
		{"near.csv", near, "  line 3: id dup repeats line 2: an opportunity may appear once in a file\n"},
		{"far.csv", far.String(), "  line 1002: id far repeats line 2: an opportunity may appear once in a file\n"},
	} {
		path := writeFile(t, s.dir, tc.file, tc.content)
		r := s.admin.must(1, "opportunities", "import", path)
		if want := "dwellctl opportunities import: " + path + " is malformed; nothing was sent:\n" + tc.want; r.stderr != want || r.stdout != "" {
			t.Errorf("opportunities import %s: stdout %q, stderr %q; want stderr %q", tc.file, r.stdout, r.stderr, want)
		}
	}
	resp, err := s.sales.ListOpportunities(ctx, &dwellv1.ListOpportunitiesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.GetOpportunities()); n != 0 {
		t.Errorf("%d opportunities stored from the malformed files, want none", n)
	}

	// Quotas are identified by rep and start_date (rep-1 and reps/rep-1
	// are one rep).
	quotas := "rep,start_date,end_date,currency,target\n" +
		"rep-1,2026-10-01,2026-10-31,IDR,100\n" +
		"rep-2,2026-10-01,2026-10-31,IDR,100\n" +
		"reps/rep-1,2026-10-01,2026-10-15,IDR,200\n"
	path := writeFile(t, s.dir, "quotas.csv", quotas)
	r := s.admin.must(1, "quotas", "import", path)
	if want := "dwellctl quotas import: " + path + " is malformed; nothing was sent:\n" +
		"  line 4: the quota of reps/rep-1 starting 2026-10-01 repeats line 2: a quota (rep and start_date) may appear once in a file\n"; r.stderr != want {
		t.Errorf("quotas import with a repeated quota: stderr %q, want %q", r.stderr, want)
	}
	if r := s.admin.must(0, "quotas", "list", "--team", "north", "-o", "json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("quotas stored from a malformed file:\n%s", r.stdout)
	}

	// Two overlapping quotas of rep-1 in one batch: the server names the
	// earlier by its index in the batch; dwellctl by its line.
	overlap := "rep,start_date,end_date,currency,target\n" +
		"rep-2,2026-10-01,2026-10-31,IDR,100\n" +
		"rep-1,2026-10-01,2026-10-31,IDR,100\n" +
		"rep-1,2026-10-15,2026-11-15,IDR,100\n"
	r = s.admin.must(1, "quotas", "import", writeFile(t, s.dir, "overlap.csv", overlap))
	if !strings.Contains(r.stdout, "overlaps line 3, the quota of rep rep-1") || strings.Contains(r.stdout, "quotas[") {
		t.Errorf("quotas import with an overlap in the batch: the refusal does not name the file's line 3:\n%s", r.stdout)
	}
}
