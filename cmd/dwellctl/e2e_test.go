package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/health"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// testServer starts dwelld's services on a loopback port over a fresh data
// directory, as cmd/dwelld does, and returns the address and directory.
func testServer(t *testing.T) (addr, dataDir string) {
	t.Helper()
	return testServerWith(t, nil)
}

// testServerWith is testServer with the server's configuration adjusted
// by configure, when not nil.
func testServerWith(t *testing.T, configure func(*server.Config)) (addr, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	kr, err := auth.OpenKeyring(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.EnsureTenant(t.Context(), "default"); err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(dir, "dwell.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Store: st, Verifier: kr}
	if configure != nil {
		configure(&cfg)
	}
	srv := server.New(cfg)
	gs := server.NewGRPCServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gs.Serve(lis)
	// The keys are read again every 100 ms, as dwelld does every 10 s, so
	// that a tenant created meanwhile (load and demo make their own) is
	// accepted.
	reloadCtx, stopReload := context.WithCancel(context.Background())
	reloaded := make(chan struct{})
	go func() {
		defer close(reloaded)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-reloadCtx.Done():
				return
			case <-tick.C:
				if err := kr.Reload(reloadCtx); err != nil && reloadCtx.Err() == nil {
					t.Errorf("reloading the keys: %v", err)
				}
			}
		}
	}()
	t.Cleanup(func() {
		stopReload()
		<-reloaded
		srv.Close()
		gs.Stop()
		st.Close()
	})
	return lis.Addr().String(), dir
}

type result struct {
	code           int
	stdout, stderr string
}

// cli runs dwellctl in-process with the given environment and stdin.
type cli struct {
	t   *testing.T
	env map[string]string
}

func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb, func(k string) string { return c.env[k] })
	return result{code, out.String(), errb.String()}
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runIn("", args...)
}

// runAt runs dwellctl in-process as run does, with now as the computer's
// clock (env.now).
func (c *cli) runAt(now time.Time, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return c.env[k] },
		now: func() time.Time { return now }}
	code := e.run(ctx, args)
	return result{code, out.String(), errb.String()}
}

// must runs dwellctl and fails the test unless it exits with want.
func (c *cli) must(want int, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != want {
		c.t.Fatalf("dwellctl %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

func (c *cli) with(kv ...string) *cli {
	env := map[string]string{}
	for k, v := range c.env {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return &cli{t: c.t, env: env}
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, s)
	}
	return v
}

// listClients returns the clients of "clients list -o json".
func listClients(t *testing.T, c *cli, args ...string) []*dwellv1.Client {
	t.Helper()
	r := c.must(0, append([]string{"clients", "list", "-o", "json"}, args...)...)
	var out []*dwellv1.Client
	for _, raw := range decodeJSON[[]json.RawMessage](t, r.stdout) {
		cl := &dwellv1.Client{}
		if err := protojson.Unmarshal(raw, cl); err != nil {
			t.Fatalf("clients list element %s: %v", raw, err)
		}
		out = append(out, cl)
	}
	return out
}

func names(cs []*dwellv1.Client) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.GetName())
	}
	return out
}

// writePings writes n fixes of one walk, the first ids first..., a minute
// apart and ending ten minutes ago, as JSONL.
func writePings(t *testing.T, path string, first, n int, extra ...string) {
	t.Helper()
	var b strings.Builder
	t0 := time.Now().Add(-time.Duration(n+10) * time.Minute).UTC()
	for i := range n {
		fmt.Fprintf(&b, `{"id":"fx-%04d","time":%q,"lat":%.6f,"lng":106.827153,"accuracy_m":%d,"speed_mps":1.2}`+"\n",
			first+i, t0.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), -6.175392+float64(i)*0.0001, 5+i%20)
	}
	for _, x := range extra {
		b.WriteString(x + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestEndToEnd(t *testing.T) {
	addr, dataDir := testServer(t)
	tmp := t.TempDir()
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}

	// Health needs no token.
	if r := c.must(0, "health"); strings.TrimSpace(r.stdout) != "SERVING" {
		t.Errorf("health printed %q, want SERVING", r.stdout)
	}

	// Tokens.
	r := c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "admin", "--subject", "admin")
	adminTok := strings.TrimSpace(r.stdout)
	if strings.Count(adminTok, ".") != 2 || strings.Contains(adminTok, "\n") {
		t.Fatalf("token mint printed %q, want one JWT", r.stdout)
	}
	r = c.must(0, "token", "mint", "-o", "json", "--data-dir", dataDir, "--tenant", "default", "--role", "rep", "--subject", "budi", "--ttl", "2h")
	minted := decodeJSON[struct {
		Token   string
		Expires time.Time
	}](t, r.stdout)
	if minted.Token == "" || time.Until(minted.Expires) < 110*time.Minute || time.Until(minted.Expires) > 2*time.Hour {
		t.Errorf("token mint -o json = %s, want a token expiring in 2h", r.stdout)
	}
	repTok := minted.Token
	partnerTok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "partner", "--subject", "crm").stdout)
	if r := c.must(1, "token", "mint", "--data-dir", filepath.Join(tmp, "nope"), "--tenant", "default", "--role", "admin", "--subject", "a"); !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("mint from a missing data dir: stderr %q", r.stderr)
	}
	if r := c.must(1, "token", "mint", "--data-dir", dataDir, "--tenant", "other", "--role", "admin", "--subject", "a"); !strings.Contains(r.stderr, `tenant "other" has no signing key`) {
		t.Errorf("mint for an unknown tenant: stderr %q", r.stderr)
	}
	c.must(2, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", "boss", "--subject", "a")

	// Without a token the server refuses, and dwellctl says what to do.
	r = c.must(1, "clients", "list")
	if !strings.Contains(r.stderr, "UNAUTHENTICATED") || !strings.Contains(r.stderr, "DWELL_TOKEN") {
		t.Errorf("call without a token: stderr %q", r.stderr)
	}
	admin := c.with("DWELL_TOKEN", adminTok)

	// Teams and reps.
	r = admin.must(0, "teams", "create", "north", "--name", "North Jakarta", "--manager", "mgr-1", "--manager", "mgr-2", "-o", "json")
	team := &dwellv1.Team{}
	if err := protojson.Unmarshal([]byte(r.stdout), team); err != nil || team.GetName() != "teams/north" || len(team.GetManagers()) != 2 {
		t.Errorf("teams create -o json = %s (%v)", r.stdout, err)
	}
	if r := admin.must(0, "teams", "list"); !strings.Contains(r.stdout, "teams/north") || !strings.Contains(r.stdout, "mgr-1, mgr-2") {
		t.Errorf("teams list:\n%s", r.stdout)
	}
	r = admin.must(0, "reps", "create", "budi", "--name", "Budi Santoso", "--time-zone", "Asia/Jakarta", "--team", "north",
		"--email", "budi@example.com", "--hours", "mon-sun 00:00-24:00")
	if !strings.Contains(r.stdout, "reps/budi") || !strings.Contains(r.stdout, "mon-sun 00:00-24:00") || !strings.Contains(r.stdout, "teams/north") {
		t.Errorf("reps create:\n%s", r.stdout)
	}
	r = admin.must(1, "reps", "create", "ani", "--name", "Ani", "--time-zone", "Mars/Olympus")
	if !strings.Contains(r.stderr, "INVALID_ARGUMENT") || !strings.Contains(r.stderr, "time_zone") {
		t.Errorf("reps create with a bad zone: stderr %q, want INVALID_ARGUMENT and the time_zone violation", r.stderr)
	}
	if r := admin.must(2, "reps", "create", "ani", "--name", "Ani", "--time-zone", "Asia/Jakarta", "--hours", "mon-fri 17:00-08:00"); !strings.Contains(r.stderr, "--hours") {
		t.Errorf("bad hours: stderr %q", r.stderr)
	}
	if r := admin.must(0, "reps", "list", "--team", "north"); !strings.Contains(r.stdout, "Budi Santoso") {
		t.Errorf("reps list:\n%s", r.stdout)
	}
	if r := admin.must(0, "reps", "get", "reps/budi", "-o", "json"); !strings.Contains(r.stdout, `"time_zone": "Asia/Jakarta"`) {
		t.Errorf("reps get -o json:\n%s", r.stdout)
	}

	// Client import from CSV: the row with a 5 m radius comes back as a row
	// error with its line, the others are stored. Flags after the file.
	r = admin.must(1, "clients", "import", "testdata/clients.csv", "-o", "json")
	type summary struct {
		Received, Stored int64
		Failed           int
		Errors           []importRowJSON
	}
	sum := decodeJSON[summary](t, r.stdout)
	if sum.Received != 4 || sum.Stored != 3 || sum.Failed != 1 || len(sum.Errors) != 1 {
		t.Fatalf("import CSV summary = %+v, want 4 received, 3 stored, 1 error", sum)
	}
	if e := sum.Errors[0]; e.Row != 2 || e.Line != 4 || e.Name != "clients/bad-radius" || len(e.FieldErrors) == 0 ||
		!strings.Contains(e.FieldErrors[0].Field, "radius") {
		t.Errorf("import CSV row error = %+v, want row 2, line 4, clients/bad-radius, a radius field", e)
	}

	// GeoJSON from stdin, table output.
	geo, err := os.ReadFile("testdata/clients.geojson")
	if err != nil {
		t.Fatal(err)
	}
	r = admin.runIn(string(geo), "clients", "import", "--format", "geojson", "-")
	if r.code != 1 || !strings.Contains(r.stdout, "Stored:    2") || !strings.Contains(r.stdout, "feature 3 (line 22)") ||
		!strings.Contains(r.stdout, "clients/bad-lat") || !strings.Contains(r.stdout, "lat") {
		t.Errorf("import GeoJSON: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	// The stored clients.
	cs := listClients(t, admin)
	want := []string{"clients/acme-jkt", "clients/bdg-alun", "clients/bdg-pvj", "clients/mall-gi", "clients/toko-budi"}
	if got := names(cs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("clients list = %v, want %v", got, want)
	}
	byName := map[string]*dwellv1.Client{}
	for _, cl := range cs {
		byName[cl.GetName()] = cl
	}
	if cl := byName["clients/acme-jkt"]; cl.GetDisplayName() != "PT Acme Jakarta" || cl.GetKind() != dwellv1.ClientKind_CLIENT_KIND_CUSTOMER ||
		cl.GetGeofence().GetCircle().GetRadiusMeters() != 120 || cl.GetGeofence().GetCircle().GetCenter().GetLat() != -6.175392 ||
		cl.GetAddress() != "Jl. Medan Merdeka Barat 12, Jakarta" || cl.GetExternalId() != "CRM-001" {
		t.Errorf("acme-jkt stored as %v", cl)
	}
	for _, n := range []string{"clients/mall-gi", "clients/bdg-pvj"} {
		if p := byName[n].GetGeofence().GetPolygon(); len(p.GetShell().GetVertices()) < 4 || len(p.GetHoles()) != 1 {
			t.Errorf("%s stored with fence %v, want a polygon with one hole", n, byName[n].GetGeofence())
		}
	}
	if lng := byName["clients/bdg-alun"].GetGeofence().GetCircle().GetCenter().GetLng(); lng != 107.6098 {
		t.Errorf("bdg-alun centre longitude %v, want 107.6098 (GeoJSON is [lng, lat])", lng)
	}
	if got := names(listClients(t, admin, "--kind", "customer")); strings.Join(got, " ") != "clients/acme-jkt clients/bdg-alun" {
		t.Errorf("clients list --kind customer = %v", got)
	}
	r = admin.must(0, "clients", "list")
	for _, s := range []string{"NAME", "FENCE", "circle 120 m", "polygon 4 v, 1 hole", "-6.175392, 106.827153", "customer"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("clients list table lacks %q:\n%s", s, r.stdout)
		}
	}

	// Paging.
	r = admin.must(0, "clients", "list", "--page-size", "2", "-o", "json")
	if n := len(decodeJSON[[]json.RawMessage](t, r.stdout)); n != 2 || !strings.Contains(r.stderr, "--page-token") {
		t.Errorf("one page of 2: got %d clients, stderr %q", n, r.stderr)
	}
	if got := listClients(t, admin, "--page-size", "2", "--all"); len(got) != 5 {
		t.Errorf("--all with pages of 2 listed %d clients, want 5", len(got))
	}

	// Get and delete.
	if r := admin.must(0, "clients", "get", "mall-gi"); !strings.Contains(r.stdout, "Grand Indonesia") || !strings.Contains(r.stdout, "polygon 4 v, 1 hole") {
		t.Errorf("clients get:\n%s", r.stdout)
	}
	admin.must(0, "clients", "delete", "toko-budi", "--yes")
	if r := admin.must(1, "clients", "get", "clients/toko-budi"); !strings.Contains(r.stderr, "NOT_FOUND") {
		t.Errorf("get after delete: stderr %q", r.stderr)
	}

	// A malformed file sends nothing.
	bad := filepath.Join(tmp, "bad.csv")
	os.WriteFile(bad, []byte("id,display_name,kind,lat,lng,radius_m\nnew-1,New,prospect,-6.2,106.8,50\nnew-2,New 2,lead,-6.2,106.8,50\n"), 0o600)
	if r := admin.must(1, "clients", "import", bad); !strings.Contains(r.stderr, "line 3") || !strings.Contains(r.stderr, "nothing was sent") {
		t.Errorf("malformed import: stderr %q", r.stderr)
	}
	if n := len(listClients(t, admin)); n != 4 {
		t.Errorf("after a malformed import %d clients are stored, want 4", n)
	}

	// Pings: a rep uploads for itself, twice; the second time all are
	// duplicates.
	rep := c.with("DWELL_TOKEN", repTok)
	pings := filepath.Join(tmp, "pings.jsonl")
	writePings(t, pings, 0, 25)
	type totals struct {
		Fixes, Batches, Accepted, Duplicates, Rejected int
		Rejections                                     []rejectionJSON
	}
	r = rep.must(0, "pings", "upload", pings, "--batch", "10", "-o", "json")
	if got := decodeJSON[totals](t, r.stdout); got.Fixes != 25 || got.Batches != 3 || got.Accepted != 25 || got.Duplicates != 0 || got.Rejected != 0 {
		t.Errorf("first upload = %+v, want 25 accepted in 3 batches", got)
	}
	r = rep.must(0, "pings", "upload", pings)
	if !strings.Contains(r.stdout, "Accepted:    0") || !strings.Contains(r.stdout, "Duplicates:  25") {
		t.Errorf("second upload:\n%s", r.stdout)
	}
	// The same over a stream, for a partner naming the rep.
	partner := c.with("DWELL_TOKEN", partnerTok)
	r = partner.must(0, "pings", "upload", "--stream", "--batch", "4", "--rep", "budi", pings, "-o", "json")
	if got := decodeJSON[totals](t, r.stdout); got.Batches != 7 || got.Duplicates != 25 || got.Accepted != 0 {
		t.Errorf("streamed re-upload = %+v, want 25 duplicates in 7 batches", got)
	}
	if r := partner.must(1, "pings", "upload", pings); !strings.Contains(r.stderr, "INVALID_ARGUMENT") || !strings.Contains(r.stderr, "rep") {
		t.Errorf("partner upload without --rep: stderr %q", r.stderr)
	}
	if r := admin.must(1, "pings", "upload", "--rep", "budi", pings); !strings.Contains(r.stderr, "PERMISSION_DENIED") {
		t.Errorf("admin upload: stderr %q", r.stderr)
	}

	// Rejected fixes are listed with their lines, in both modes, including a
	// batch whose every fix is bad.
	now := time.Now().UTC().Add(-5 * time.Minute).Format(time.RFC3339)
	mixed := filepath.Join(tmp, "mixed.jsonl")
	writePings(t, mixed, 100, 2,
		fmt.Sprintf(`{"id":"bad-lat","time":%q,"lat":95,"lng":106.8,"accuracy_m":5}`, now),
		fmt.Sprintf(`{"id":"bad-acc","time":%q,"lat":-6.2,"lng":106.8,"accuracy_m":-1}`, now))
	for _, mode := range [][]string{{"--batch", "2"}, {"--batch", "2", "--stream"}} {
		r = rep.must(1, append([]string{"pings", "upload", mixed, "-o", "json"}, mode...)...)
		got := decodeJSON[totals](t, r.stdout)
		if got.Rejected != 2 || len(got.Rejections) != 2 ||
			got.Rejections[0].Line != 3 || got.Rejections[0].ID != "bad-lat" || got.Rejections[0].Reasons[0].Field != "position.lat" ||
			got.Rejections[1].Line != 4 || got.Rejections[1].Reasons[0].Field != "accuracy_meters" {
			t.Errorf("upload %v with bad fixes = %+v", mode, got)
		}
	}
	r = rep.must(1, "pings", "upload", mixed)
	if !strings.Contains(r.stdout, "Rejected:    2") || !strings.Contains(r.stdout, "bad-lat") || !strings.Contains(r.stdout, "LINE") {
		t.Errorf("rejections table:\n%s", r.stdout)
	}

	// Erasing the rep's history: confirmed, by an admin alone; afterwards
	// the same pings are new again.
	if r := admin.must(2, "reps", "erase-history", "budi"); !strings.Contains(r.stderr, "--yes") {
		t.Errorf("erase without --yes: stderr %q", r.stderr)
	}
	if r := rep.must(1, "reps", "erase-history", "budi", "--yes"); !strings.Contains(r.stderr, "PERMISSION_DENIED") {
		t.Errorf("erase by the rep: stderr %q", r.stderr)
	}
	r = admin.must(0, "reps", "erase-history", "budi", "--yes", "-o", "json")
	if got := decodeJSON[struct{ Fixes_erased int }](t, r.stdout); got.Fixes_erased != 27 {
		t.Errorf("erase = %s, want the 27 fixes stored", r.stdout)
	}
	if r := rep.must(0, "pings", "upload", pings); !strings.Contains(r.stdout, "Accepted:    25") {
		t.Errorf("upload after the erase:\n%s", r.stdout)
	}

	// A fix without an id is an input error, and the user is told why ids
	// matter.
	noID := filepath.Join(tmp, "noid.jsonl")
	writePings(t, noID, 200, 1, fmt.Sprintf(`{"time":%q,"lat":-6.2,"lng":106.8,"accuracy_m":5}`, now))
	if r := rep.must(1, "pings", "upload", noID); !strings.Contains(r.stderr, "line 2: fix has no id") || !strings.Contains(r.stderr, "idempotent") {
		t.Errorf("fix without id: stderr %q", r.stderr)
	}

	// Global flags before the command; an unreachable server.
	if r := c.must(0, "--addr", addr, "-o", "json", "health"); !strings.Contains(r.stdout, `"status": "SERVING"`) {
		t.Errorf("health -o json: %q", r.stdout)
	}
	if r := c.must(1, "health", "--addr", "127.0.0.1:1", "--timeout", "5s"); !strings.Contains(r.stderr, "UNAVAILABLE") {
		t.Errorf("health of a closed port: stderr %q", r.stderr)
	}
}

func TestUsage(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	if r := c.must(0, "help"); !strings.Contains(r.stdout, "clients import") || !strings.Contains(r.stdout, "pings upload") {
		t.Errorf("help:\n%s", r.stdout)
	}
	c.must(2)
	if r := c.must(0, "clients", "import", "-h"); !strings.Contains(r.stderr, "Usage: dwellctl clients import [flags] FILE") ||
		!strings.Contains(r.stderr, "-format") || !strings.Contains(r.stderr, "-addr") {
		t.Errorf("clients import -h:\n%s", r.stderr)
	}
	if r := c.must(0, "help", "reps", "create"); !strings.Contains(r.stderr, "mon-fri 08:00-17:00") {
		t.Errorf("help reps create:\n%s", r.stderr)
	}
	if r := c.must(2, "clients"); !strings.Contains(r.stderr, "clients list") {
		t.Errorf("dwellctl clients:\n%s", r.stderr)
	}
	if r := c.must(2, "clients", "frobnicate"); !strings.Contains(r.stderr, `unknown command "clients frobnicate"`) {
		t.Errorf("unknown subcommand:\n%s", r.stderr)
	}
	c.must(2, "nope")
	c.must(2, "clients", "get")
	c.must(2, "clients", "get", "a", "b")
	c.must(2, "clients", "list", "--bogus")
	c.must(2, "clients", "list", "-o", "yaml")
	c.must(2, "clients", "import", "-")
	if r := c.must(1, "clients", "import", "does-not-exist.csv"); !strings.Contains(r.stderr, "no such file") {
		t.Errorf("missing file: %q", r.stderr)
	}
	// The token never shows in help output, even when set in the
	// environment.
	secret := c.with("DWELL_TOKEN", "s3cret")
	if r := secret.must(0, "clients", "list", "-h"); strings.Contains(r.stderr, "s3cret") {
		t.Errorf("help output shows the token:\n%s", r.stderr)
	}
}

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args []string
		pos  string
		fmt  string
		all  bool
	}{
		{[]string{"a.csv"}, "a.csv", "", false},
		{[]string{"--format", "csv", "a.csv"}, "a.csv", "csv", false},
		{[]string{"a.csv", "--format", "csv", "--all"}, "a.csv", "csv", true},
		{[]string{"a", "--all", "b"}, "a b", "", true},
		{[]string{"--all", "--", "--format", "-"}, "--format -", "", true},
		{[]string{"-", "--format=geojson"}, "-", "geojson", false},
	}
	for _, tt := range tests {
		fs := newFlagSetForTest()
		var format string
		var all bool
		fs.StringVar(&format, "format", "", "")
		fs.BoolVar(&all, "all", false, "")
		pos, err := parseInterleaved(fs, tt.args)
		if err != nil || strings.Join(pos, " ") != tt.pos || format != tt.fmt || all != tt.all {
			t.Errorf("parseInterleaved(%q) = %q, format %q, all %v, %v; want %q, %q, %v", tt.args, pos, format, all, err, tt.pos, tt.fmt, tt.all)
		}
	}
}

func newFlagSetForTest() *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// TestInputFilesWithBOM checks that a UTF-8 byte order mark at the start of
// an input file, as Windows Notepad and Excel write it, is skipped in every
// format (GeoJSON, JSONL, CSV with a quoted header; a file or stdin), and
// that lines and columns in messages count as an editor shows the file.
func TestInputFilesWithBOM(t *testing.T) {
	addr, dataDir := testServer(t)
	c := &cli{t: t, env: map[string]string{"DWELL_ADDR": addr}}
	mint := func(role, subject string) *cli {
		tok := strings.TrimSpace(c.must(0, "token", "mint", "--data-dir", dataDir, "--tenant", "default", "--role", role, "--subject", subject).stdout)
		return c.with("DWELL_TOKEN", tok)
	}
	admin := mint("admin", "admin")
	const bom = "\ufeff"
	dir := t.TempDir()

	gj := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[106.8,-6.2]},"properties":{"id":"a","display_name":"A","kind":"prospect","radius_m":50}}]}`
	admin.must(0, "clients", "import", writeFile(t, dir, "clients.geojson", bom+gj))
	admin.must(0, "clients", "get", "a")
	// A syntax error on the first line: its column as an editor shows it.
	r := admin.must(1, "clients", "import", writeFile(t, dir, "bad.geojson", bom+`{"type":"FeatureCollection",}`))
	if !strings.Contains(r.stderr, "line 1: column 29: ") {
		t.Errorf("GeoJSON with a BOM and a syntax error at column 29 of line 1: stderr %q", r.stderr)
	}

	csv := bom + "\"id\",\"display_name\",\"time_zone\"\nbudi,Budi,Asia/Jakarta\n"
	admin.must(0, "reps", "import", writeFile(t, dir, "reps.csv", csv))
	admin.must(0, "reps", "get", "budi")
	if r := admin.runIn(bom+"id,display_name,time_zone\nsari,Sari,Asia/Jakarta\n", "reps", "import", "-"); r.code != 0 {
		t.Errorf("reps import - of CSV with a BOM: exit %d, stderr %q", r.code, r.stderr)
	}
	admin.must(0, "reps", "get", "sari")

	rep := mint("rep", "budi")
	jl := `{"id":"f1","time":"2026-03-02T01:15:30Z","lat":-6.21,"lng":106.81,"accuracy_m":8}` + "\n"
	if r := rep.must(0, "pings", "upload", writeFile(t, dir, "p.jsonl", bom+jl)); !strings.Contains(r.stdout, "Accepted:    1\n") {
		t.Errorf("pings upload of JSONL with a BOM:\n%s", r.stdout)
	}
	r = rep.must(1, "pings", "upload", writeFile(t, dir, "bad.jsonl", bom+jl+`{"id":"f2"}`+"\n"))
	if !strings.Contains(r.stderr, "  line 2: ") || strings.Contains(r.stderr, "line 1:") {
		t.Errorf("JSONL with a BOM and line 2 malformed: stderr %q", r.stderr)
	}
}
