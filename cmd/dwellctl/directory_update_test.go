package main

import (
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// directoryFixture is a dwelld on loopback with dwellctl as its admin and a
// gRPC client of its own, also the admin's, to read back what the server
// stored.
type directoryFixture struct {
	addr, dataDir string
	admin         *cli
	api           dwellv1.DirectoryServiceClient
}

func newDirectoryFixture(t *testing.T) *directoryFixture {
	t.Helper()
	addr, dataDir := testServer(t)
	f := &directoryFixture{addr: addr, dataDir: dataDir}
	f.admin = f.as(t, "admin", "admin")
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(bearer(f.admin.env["DWELL_TOKEN"])))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f.api = dwellv1.NewDirectoryServiceClient(conn)
	return f
}

// as returns dwellctl with a token of the given role and subject.
func (f *directoryFixture) as(t *testing.T, role, subject string) *cli {
	t.Helper()
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": f.addr}}
	tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", f.dataDir, "--tenant", "default", "--role", role, "--subject", subject).stdout)
	return c.with("DWELL_TOKEN", tok)
}

func (f *directoryFixture) client(t *testing.T, id string) *dwellv1.Client {
	t.Helper()
	resp, err := f.api.GetClient(t.Context(), &dwellv1.GetClientRequest{Name: "clients/" + id})
	if err != nil {
		t.Fatalf("GetClient %s: %v", id, err)
	}
	return resp.GetClient()
}

func (f *directoryFixture) rep(t *testing.T, id string) *dwellv1.Rep {
	t.Helper()
	resp, err := f.api.GetRep(t.Context(), &dwellv1.GetRepRequest{Name: "reps/" + id})
	if err != nil {
		t.Fatalf("GetRep %s: %v", id, err)
	}
	return resp.GetRep()
}

func (f *directoryFixture) team(t *testing.T, id string) *dwellv1.Team {
	t.Helper()
	resp, err := f.api.GetTeam(t.Context(), &dwellv1.GetTeamRequest{Name: "teams/" + id})
	if err != nil {
		t.Fatalf("GetTeam %s: %v", id, err)
	}
	return resp.GetTeam()
}

// decodeProto decodes one message printed with -o json.
func decodeProto[M proto.Message](t *testing.T, s string, m M) M {
	t.Helper()
	if err := protojson.Unmarshal([]byte(s), m); err != nil {
		t.Fatalf("output is not a %T: %v\n%s", m, err, s)
	}
	return m
}

// rpcProbe is a loopback listener that accepts connections, counts them
// and never answers: dwellctl pointed at it with a command that sends an
// RPC connects (and times out), one that fails before any RPC does not.
type rpcProbe struct {
	addr     string
	accepted atomic.Int64
}

func newRPCProbe(t *testing.T) *rpcProbe {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rpcProbe{addr: lis.Addr().String()}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return p
}

// usageErrors runs each command against the probe with c's token and wants
// exit 2, a message naming want, and no connection made; then it checks
// that the probe does see an RPC, so that its zero means something.
func usageErrors(t *testing.T, c *cli, cases []usageCase) {
	t.Helper()
	p := newRPCProbe(t)
	pc := c.with("DWELL_ADDR", p.addr)
	for _, u := range cases {
		r := pc.run(append(u.args, "--timeout", "2s")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, u.want) {
			t.Errorf("dwellctl %s: exit %d, stderr %q; want exit 2 naming %q", strings.Join(u.args, " "), r.code, r.stderr, u.want)
		}
	}
	if n := p.accepted.Load(); n != 0 {
		t.Errorf("usage errors made %d connections, want none", n)
	}
	if r := pc.run("teams", "get", "north", "--timeout", "300ms"); r.code != exitFail || p.accepted.Load() == 0 {
		t.Errorf("probe check: a real RPC exited %d with %d connections; the probe does not see RPCs", r.code, p.accepted.Load())
	}
}

type usageCase struct {
	args []string
	want string
}

// wantStale runs an update whose etag was read before another update and
// wants exit 1 with the stale message.
func wantStale(t *testing.T, c *cli, args ...string) {
	t.Helper()
	r := c.must(1, args...)
	if !strings.Contains(r.stderr, "changed since you read it") || !strings.Contains(r.stderr, "get it again") || !strings.Contains(r.stderr, "ABORTED") {
		t.Errorf("dwellctl %s with a stale etag: stderr %q, want the record changed since it was read", strings.Join(args, " "), r.stderr)
	}
}

func TestClientsCreateUpdate(t *testing.T) {
	f := newDirectoryFixture(t)
	a := f.admin

	r := a.must(0, "clients", "create", "toko", "--name", "Toko Budi", "--kind", "prospect",
		"--circle", "-6.1754, 106.8272, 80", "--address", "Jl. Thamrin 1", "--external-id", "CRM-7")
	got := f.client(t, "toko")
	want := &dwellv1.Circle{Center: &dwellv1.LatLng{Lat: -6.1754, Lng: 106.8272}, RadiusMeters: 80}
	if got.GetDisplayName() != "Toko Budi" || got.GetKind() != dwellv1.ClientKind_CLIENT_KIND_PROSPECT ||
		!proto.Equal(got.GetGeofence().GetCircle(), want) || got.GetAddress() != "Jl. Thamrin 1" || got.GetExternalId() != "CRM-7" {
		t.Fatalf("clients create stored %v", got)
	}
	for _, s := range []string{"clients/toko", "circle 80 m", "Etag:", got.GetEtag()} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("clients create printed no %q:\n%s", s, r.stdout)
		}
	}

	wkt := "POLYGON((106.8215 -6.1950, 106.8240 -6.1950, 106.8240 -6.1970, 106.8215 -6.1970, 106.8215 -6.1950))"
	r = a.must(0, "clients", "create", "mall", "--name", "Mall", "--kind", "customer", "--wkt", wkt, "-o", "json")
	printed := decodeProto(t, r.stdout, &dwellv1.Client{})
	mall := f.client(t, "mall")
	if mall.GetKind() != dwellv1.ClientKind_CLIENT_KIND_CUSTOMER || len(mall.GetGeofence().GetPolygon().GetShell().GetVertices()) < 4 ||
		mall.GetGeofence().GetPolygon().GetShell().GetVertices()[1].GetLng() != 106.8240 {
		t.Errorf("clients create --wkt stored %v", mall)
	}
	if printed.GetEtag() == "" || printed.GetEtag() != mall.GetEtag() {
		t.Errorf("clients create -o json etag %q, stored %q", printed.GetEtag(), mall.GetEtag())
	}
	if r := a.must(0, "clients", "list"); !strings.Contains(r.stdout, "ETAG") || !strings.Contains(r.stdout, mall.GetEtag()) {
		t.Errorf("clients list shows no etag:\n%s", r.stdout)
	}

	// The mask is the flags given: a kind change leaves the rest, and a new
	// fence leaves the kind.
	before := f.client(t, "toko")
	r = a.must(0, "clients", "update", "toko", "--kind", "customer", "-o", "json")
	after := f.client(t, "toko")
	if after.GetKind() != dwellv1.ClientKind_CLIENT_KIND_CUSTOMER || after.GetDisplayName() != before.GetDisplayName() ||
		after.GetAddress() != before.GetAddress() || after.GetExternalId() != before.GetExternalId() ||
		!proto.Equal(after.GetGeofence(), before.GetGeofence()) {
		t.Errorf("clients update --kind: before %v\nafter %v", before, after)
	}
	if e := decodeProto(t, r.stdout, &dwellv1.Client{}).GetEtag(); e != after.GetEtag() || e == before.GetEtag() {
		t.Errorf("clients update printed etag %q; stored %q, before %q", e, after.GetEtag(), before.GetEtag())
	}
	a.must(0, "clients", "update", "clients/toko", "--wkt", wkt, "--address", "")
	after2 := f.client(t, "toko")
	if !proto.Equal(after2.GetGeofence(), mall.GetGeofence()) || after2.GetAddress() != "" ||
		after2.GetKind() != dwellv1.ClientKind_CLIENT_KIND_CUSTOMER || after2.GetExternalId() != "CRM-7" || after2.GetDisplayName() != "Toko Budi" {
		t.Errorf("clients update --wkt --address '': stored %v", after2)
	}

	// --etag: the etag of a read applies once; after that write it is stale,
	// and the stale update changes nothing.
	read := decodeProto(t, a.must(0, "clients", "get", "toko", "-o", "json").stdout, &dwellv1.Client{})
	if r := a.must(0, "clients", "get", "toko"); !strings.Contains(r.stdout, read.GetEtag()) {
		t.Errorf("clients get table shows no etag %q:\n%s", read.GetEtag(), r.stdout)
	}
	a.must(0, "clients", "update", "toko", "--name", "Toko Budi Jaya", "--etag", read.GetEtag())
	current := f.client(t, "toko")
	wantStale(t, a, "clients", "update", "toko", "--name", "Toko Lama", "--etag", read.GetEtag())
	if now := f.client(t, "toko"); !proto.Equal(now, current) || now.GetDisplayName() != "Toko Budi Jaya" {
		t.Errorf("a stale update changed the client: %v, want %v", now, current)
	}
	// A server-side refusal is not a usage error.
	if r := a.must(1, "clients", "update", "toko", "--circle", "-6.2,106.8,5"); !strings.Contains(r.stderr, "radius") {
		t.Errorf("a 5 m radius: stderr %q", r.stderr)
	}

	usageErrors(t, a, []usageCase{
		{[]string{"clients", "update", "toko"}, "nothing to change"},
		{[]string{"clients", "update", "toko", "--etag", current.GetEtag()}, "nothing to change"},
		{[]string{"clients", "update", "toko", "--circle", "95,106.8,80"}, "--circle"},
		{[]string{"clients", "update", "toko", "--circle", "106.8272,-6.1754,80"}, "latitude 106.8272"},
		{[]string{"clients", "update", "toko", "--circle", "-6.2,106.8"}, "--circle"},
		{[]string{"clients", "update", "toko", "--circle", "-6.2,east,80"}, "--circle"},
		{[]string{"clients", "update", "toko", "--circle", "-6.2,106.8,80", "--wkt", wkt}, "--wkt"},
		{[]string{"clients", "update", "toko", "--wkt", "POLYGON((106.8 -6.1, 106.9"}, "--wkt"},
		{[]string{"clients", "update", "toko", "--wkt", "POLYGON((-6.1 106.8, -6.1 106.9, -6.2 106.9))"}, "--wkt"},
		{[]string{"clients", "update", "toko", "--kind", ""}, "--kind"},
		{[]string{"clients", "create", "x", "--name", "X", "--kind", "vip", "--circle", "-6.2,106.8,80"}, "--kind"},
		{[]string{"clients", "create", "x", "--name", "X", "--kind", "prospect", "--circle", "-6.2,106.8,NaN"}, "--circle"},
	})
	if now := f.client(t, "toko"); !proto.Equal(now, current) {
		t.Errorf("usage errors changed the client: %v, want %v", now, current)
	}
	if _, err := f.api.GetClient(t.Context(), &dwellv1.GetClientRequest{Name: "clients/x"}); status.Code(err) != codes.NotFound {
		t.Errorf("clients/x after usage errors: %v, want NOT_FOUND", err)
	}
}

func TestRepsUpdateDelete(t *testing.T) {
	f := newDirectoryFixture(t)
	a := f.admin
	a.must(0, "teams", "create", "north", "--name", "North")
	a.must(0, "teams", "create", "south", "--name", "South")
	a.must(0, "reps", "create", "budi", "--name", "Budi", "--time-zone", "Asia/Jakarta", "--team", "north",
		"--email", "budi@example.com", "--hours", "mon-fri 08:00-17:00")

	// Moving to another team keeps everything else.
	before := f.rep(t, "budi")
	r := a.must(0, "reps", "update", "budi", "--team", "south")
	after := f.rep(t, "budi")
	if after.GetTeam() != "teams/south" || after.GetDisplayName() != "Budi" || after.GetEmail() != "budi@example.com" ||
		after.GetTimeZone() != "Asia/Jakarta" || formatHours(after.GetWorkingHours()) != "mon-fri 08:00-17:00" {
		t.Errorf("reps update --team: stored %v", after)
	}
	if !strings.Contains(r.stdout, "Etag:") || !strings.Contains(r.stdout, after.GetEtag()) || after.GetEtag() == before.GetEtag() {
		t.Errorf("reps update printed (etag %q, before %q):\n%s", after.GetEtag(), before.GetEtag(), r.stdout)
	}

	a.must(0, "reps", "update", "budi", "--time-zone", "Asia/Makassar", "--hours", "sat 09:00-13:00", "--name", "Budi S.")
	after = f.rep(t, "budi")
	if after.GetTimeZone() != "Asia/Makassar" || formatHours(after.GetWorkingHours()) != "sat 09:00-13:00" ||
		after.GetDisplayName() != "Budi S." || after.GetTeam() != "teams/south" || after.GetEmail() != "budi@example.com" {
		t.Errorf("reps update --time-zone --hours --name: stored %v", after)
	}
	a.must(0, "reps", "update", "budi", "--no-team", "--no-hours")
	after = f.rep(t, "budi")
	if after.GetTeam() != "" || len(after.GetWorkingHours()) != 0 || after.GetEmail() != "budi@example.com" || after.GetTimeZone() != "Asia/Makassar" {
		t.Errorf("reps update --no-team --no-hours: stored %v", after)
	}
	a.must(0, "reps", "update", "budi", "--email", "")
	if after = f.rep(t, "budi"); after.GetEmail() != "" || after.GetDisplayName() != "Budi S." {
		t.Errorf("reps update --email '': stored %v", after)
	}
	if r := a.must(1, "reps", "update", "budi", "--team", "nowhere"); !strings.Contains(r.stderr, "INVALID_ARGUMENT") || !strings.Contains(r.stderr, "rep.team") {
		t.Errorf("a team that does not exist: stderr %q", r.stderr)
	}

	// A boolean flag given false asks for nothing.
	a.must(0, "reps", "update", "budi", "--team", "south", "--no-team=false")
	if after = f.rep(t, "budi"); after.GetTeam() != "teams/south" {
		t.Errorf("reps update --team south --no-team=false: stored %v", after)
	}

	// --etag.
	read := decodeProto(t, a.must(0, "reps", "get", "budi", "-o", "json").stdout, &dwellv1.Rep{})
	if r := a.must(0, "reps", "list"); !strings.Contains(r.stdout, "ETAG") || !strings.Contains(r.stdout, read.GetEtag()) {
		t.Errorf("reps list shows no etag %q:\n%s", read.GetEtag(), r.stdout)
	}
	a.must(0, "reps", "update", "budi", "--team", "north", "--etag", read.GetEtag())
	current := f.rep(t, "budi")
	wantStale(t, a, "reps", "update", "budi", "--team", "south", "--etag", read.GetEtag())
	if now := f.rep(t, "budi"); !proto.Equal(now, current) || now.GetTeam() != "teams/north" {
		t.Errorf("a stale update changed the rep: %v, want %v", now, current)
	}

	usageErrors(t, a, []usageCase{
		{[]string{"reps", "update", "budi"}, "nothing to change"},
		{[]string{"reps", "update", "budi", "--team", "south", "--no-team"}, "--no-team"},
		{[]string{"reps", "update", "budi", "--team", ""}, "--no-team"},
		{[]string{"reps", "update", "budi", "--hours", ""}, "--no-hours"},
		{[]string{"reps", "update", "budi", "--hours", "mon 09:00-17:00", "--no-hours"}, "--no-hours"},
		{[]string{"reps", "update", "budi", "--hours", "someday 25:00-26:00"}, "--hours"},
		{[]string{"reps", "delete"}, "ID"},
	})
	if now := f.rep(t, "budi"); !proto.Equal(now, current) {
		t.Errorf("usage errors changed the rep: %v, want %v", now, current)
	}

	r = a.must(0, "reps", "delete", "budi", "-o", "json")
	if out := decodeJSON[map[string]any](t, r.stdout); out["name"] != "reps/budi" || out["deleted"] != true {
		t.Errorf("reps delete -o json = %s", r.stdout)
	}
	if _, err := f.api.GetRep(t.Context(), &dwellv1.GetRepRequest{Name: "reps/budi"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetRep after reps delete: %v, want NOT_FOUND", err)
	}
	a.must(1, "reps", "delete", "budi")
}

func TestTeamsGetUpdateDelete(t *testing.T) {
	f := newDirectoryFixture(t)
	a := f.admin
	a.must(0, "teams", "create", "north", "--name", "North", "--manager", "mgr-1", "--manager", "mgr-2")
	a.must(0, "reps", "create", "budi", "--name", "Budi", "--time-zone", "Asia/Jakarta", "--team", "north")

	stored := f.team(t, "north")
	r := a.must(0, "teams", "get", "north")
	for _, s := range []string{"teams/north", "mgr-1, mgr-2", "Etag:", stored.GetEtag()} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("teams get printed no %q:\n%s", s, r.stdout)
		}
	}
	if r := a.must(0, "teams", "list"); !strings.Contains(r.stdout, "ETAG") || !strings.Contains(r.stdout, stored.GetEtag()) {
		t.Errorf("teams list shows no etag:\n%s", r.stdout)
	}
	// A manager reads its own team.
	mgr := f.as(t, "manager", "mgr-2")
	if got := decodeProto(t, mgr.must(0, "teams", "get", "teams/north", "-o", "json").stdout, &dwellv1.Team{}); !proto.Equal(got, stored) {
		t.Errorf("teams get -o json by its manager = %v, want %v", got, stored)
	}

	a.must(0, "teams", "update", "north", "--name", "North Jakarta")
	if got := f.team(t, "north"); got.GetDisplayName() != "North Jakarta" || strings.Join(got.GetManagers(), ",") != "mgr-1,mgr-2" {
		t.Errorf("teams update --name: stored %v", got)
	}
	// --manager replaces the list.
	a.must(0, "teams", "update", "north", "--manager", "mgr-3", "--manager", "mgr-1")
	if got := f.team(t, "north"); got.GetDisplayName() != "North Jakarta" || strings.Join(got.GetManagers(), ",") != "mgr-3,mgr-1" {
		t.Errorf("teams update --manager: stored %v", got)
	}
	mgr.must(1, "teams", "get", "north") // mgr-2 is no longer a manager of it
	a.must(0, "teams", "update", "north", "--no-managers")
	if got := f.team(t, "north"); len(got.GetManagers()) != 0 || got.GetDisplayName() != "North Jakarta" {
		t.Errorf("teams update --no-managers: stored %v", got)
	}

	read := decodeProto(t, a.must(0, "teams", "get", "north", "-o", "json").stdout, &dwellv1.Team{})
	r = a.must(0, "teams", "update", "north", "--manager", "mgr-9", "--etag", read.GetEtag(), "-o", "json")
	current := f.team(t, "north")
	if e := decodeProto(t, r.stdout, &dwellv1.Team{}).GetEtag(); e != current.GetEtag() || e == read.GetEtag() {
		t.Errorf("teams update printed etag %q; stored %q, read before %q", e, current.GetEtag(), read.GetEtag())
	}
	wantStale(t, a, "teams", "update", "north", "--name", "Old North", "--etag", read.GetEtag())
	if now := f.team(t, "north"); !proto.Equal(now, current) {
		t.Errorf("a stale update changed the team: %v, want %v", now, current)
	}

	usageErrors(t, a, []usageCase{
		{[]string{"teams", "update", "north"}, "nothing to change"},
		{[]string{"teams", "update", "north", "--manager", "m", "--no-managers"}, "--no-managers"},
		{[]string{"teams", "update", "north", "--manager", ""}, "--manager"},
		{[]string{"teams", "get"}, "ID"},
	})
	if now := f.team(t, "north"); !proto.Equal(now, current) {
		t.Errorf("usage errors changed the team: %v, want %v", now, current)
	}

	a.must(0, "teams", "delete", "north")
	if _, err := f.api.GetTeam(t.Context(), &dwellv1.GetTeamRequest{Name: "teams/north"}); status.Code(err) != codes.NotFound {
		t.Errorf("GetTeam after teams delete: %v, want NOT_FOUND", err)
	}
	if rep := f.rep(t, "budi"); rep.GetTeam() != "" {
		t.Errorf("rep of a deleted team: team %q, want none", rep.GetTeam())
	}
}

// TestHelpListsDirectoryCommands: "dwellctl help" names every command this
// file tests, and each has its own help.
func TestHelpListsDirectoryCommands(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	help := c.must(0, "help").stdout
	for _, name := range []string{"clients create", "clients update", "reps update", "reps delete",
		"teams get", "teams update", "teams delete", "settings get", "settings update"} {
		if !strings.Contains(help, "  "+name+" ") {
			t.Errorf("dwellctl help does not list %q", name)
		}
		args := append(strings.Fields(name), "-h")
		if r := c.must(0, args...); !strings.Contains(r.stderr, "Usage: dwellctl "+name) {
			t.Errorf("dwellctl %s -h printed %q", name, r.stderr)
		}
	}
	if r := c.must(0, "help", "settings", "update"); !strings.Contains(r.stderr, "1m to 2h") || !strings.Contains(r.stderr, "days") {
		t.Errorf("settings update -h states no units:\n%s", r.stderr)
	}
	if r := c.must(0, "help", "teams", "update"); !strings.Contains(r.stderr, "replace the whole list") {
		t.Errorf("teams update -h does not say --manager replaces the list:\n%s", r.stderr)
	}
}

// TestClientsDeleteConfirms: the help of "clients delete" says what
// DeleteClient does to the reports (the last 35 days derived again
// without the client), and the command deletes nothing without --yes.
func TestClientsDeleteConfirms(t *testing.T) {
	f := newDirectoryFixture(t)
	r := f.admin.must(0, "help", "clients", "delete")
	help := strings.Join(strings.Fields(r.stderr+r.stdout), " ")
	for _, want := range []string{"Usage: dwellctl clients delete [flags] NAME --yes", "derives the tenant's last 35 days again, now without the client",
		"its visits (found from fixes at its geofence or claimed by check-ins) are gone from every report", "-yes"} {
		if !strings.Contains(help, want) {
			t.Errorf("help clients delete lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(help, "keep its id") {
		t.Errorf("help clients delete still says recorded visits keep the client's id:\n%s", r.stderr)
	}
	if r := f.admin.must(0, "help"); !strings.Contains(r.stdout, "its visits of the last 35 days leave every report") {
		t.Errorf("the command list's line of clients delete:\n%s", r.stdout)
	}

	f.admin.must(0, "clients", "create", "toko-budi", "--name", "Toko Budi", "--kind", "customer", "--circle", "-6.2,106.8,50")
	r = f.admin.must(2, "clients", "delete", "toko-budi")
	if !strings.Contains(r.stderr, "clients/toko-budi") || !strings.Contains(r.stderr, "pass --yes to confirm") || r.stdout != "" {
		t.Errorf("clients delete without --yes: stdout %q, stderr %q", r.stdout, r.stderr)
	}
	if _, err := f.api.GetClient(ctxT(t), &dwellv1.GetClientRequest{Name: "clients/toko-budi"}); err != nil {
		t.Fatalf("the client after a delete without --yes: %v", err)
	}
	if r := f.admin.must(0, "clients", "delete", "toko-budi", "--yes"); r.stdout != "Deleted clients/toko-budi\n" {
		t.Errorf("clients delete --yes printed %q", r.stdout)
	}
	if _, err := f.api.GetClient(ctxT(t), &dwellv1.GetClientRequest{Name: "clients/toko-budi"}); status.Code(err) != codes.NotFound {
		t.Fatalf("the client after clients delete --yes: %v, want NOT_FOUND", err)
	}
}
