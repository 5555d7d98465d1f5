package server_test

import (
	"fmt"
	"io"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

func TestDirectoryCRUDSurvivesRestart(t *testing.T) {
	e := newEnv(t)
	ctx := e.admin(acme)
	e.mustCreateTeam(ctx, "north", "mgr-ana")
	e.mustCreateRep(ctx, "budi", "north")
	e.mustCreateClient(ctx, "toko-1", -6.2, 106.8, 50)

	_, err := e.dirc.CreateClient(ctx, &dwellv1.CreateClientRequest{ClientId: "toko-1", Client: circleClient("toko-1", -6.2, 106.8, 50)})
	wantCode(t, "create twice", err, codes.AlreadyExists)

	upd, err := e.dirc.UpdateClient(ctx, &dwellv1.UpdateClientRequest{
		Client:     &dwellv1.Client{Name: "clients/toko-1", DisplayName: "Toko Satu", Kind: dwellv1.ClientKind_CLIENT_KIND_CUSTOMER},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}},
	})
	if err != nil {
		t.Fatalf("UpdateClient: %v", err)
	}
	if upd.GetClient().GetDisplayName() != "Toko Satu" || upd.GetClient().GetKind() != dwellv1.ClientKind_CLIENT_KIND_PROSPECT {
		t.Fatalf("UpdateClient with mask display_name = %v, want only the name changed", upd.GetClient())
	}
	_, err = e.dirc.UpdateClient(ctx, &dwellv1.UpdateClientRequest{
		Client:     &dwellv1.Client{Name: "clients/toko-1"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"create_time"}},
	})
	wantViolation(t, "update of an output-only field", err, "update_mask")

	e.restart()
	ctx = e.admin(acme)
	got, err := e.dirc.GetClient(ctx, &dwellv1.GetClientRequest{Name: "clients/toko-1"})
	if err != nil {
		t.Fatalf("GetClient after restart: %v", err)
	}
	if !proto.Equal(got.GetClient(), upd.GetClient()) {
		t.Fatalf("GetClient after restart = %v, want %v", got.GetClient(), upd.GetClient())
	}
	rep, err := e.dirc.GetRep(ctx, &dwellv1.GetRepRequest{Name: "reps/budi"})
	if err != nil || rep.GetRep().GetTeam() != "teams/north" || rep.GetRep().GetTimeZone() != "Asia/Jakarta" {
		t.Fatalf("GetRep after restart = %v, %v", rep, err)
	}
	if _, err := e.dirc.DeleteClient(ctx, &dwellv1.DeleteClientRequest{Name: "clients/toko-1"}); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	_, err = e.dirc.GetClient(ctx, &dwellv1.GetClientRequest{Name: "clients/toko-1"})
	wantCode(t, "get deleted", err, codes.NotFound)
}

func TestListClientsPagination(t *testing.T) {
	e := newEnv(t)
	ctx := e.admin(acme)
	for i := range 25 {
		c := circleClient(fmt.Sprintf("c%02d", i), -6.2, 106.8, 40)
		if i%2 == 1 {
			c.Kind = dwellv1.ClientKind_CLIENT_KIND_CUSTOMER
		}
		if _, err := e.dirc.CreateClient(ctx, &dwellv1.CreateClientRequest{ClientId: fmt.Sprintf("c%02d", i), Client: c}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	tok := ""
	pages := 0
	for {
		resp, err := e.dirc.ListClients(ctx, &dwellv1.ListClientsRequest{PageSize: 10, PageToken: tok})
		if err != nil {
			t.Fatalf("ListClients page %d: %v", pages, err)
		}
		pages++
		for _, c := range resp.GetClients() {
			names = append(names, c.GetName())
		}
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
		if pages == 1 {
			_, err := e.dirc.ListClients(ctx, &dwellv1.ListClientsRequest{PageSize: 10, PageToken: tok, Kind: dwellv1.ClientKind_CLIENT_KIND_CUSTOMER})
			wantViolation(t, "token with another filter", err, "page_token")
		}
	}
	if pages != 3 || len(names) != 25 || names[0] != "clients/c00" || names[24] != "clients/c24" {
		t.Fatalf("paged %d pages, names %v; want 3 pages of c00..c24", pages, names)
	}
	resp, err := e.dirc.ListClients(ctx, &dwellv1.ListClientsRequest{Kind: dwellv1.ClientKind_CLIENT_KIND_CUSTOMER})
	if err != nil || len(resp.GetClients()) != 12 {
		t.Fatalf("ListClients(customers) = %d clients, %v; want 12", len(resp.GetClients()), err)
	}
	_, err = e.dirc.ListClients(ctx, &dwellv1.ListClientsRequest{PageToken: "not-a-token"})
	wantViolation(t, "garbage token", err, "page_token")
	_, err = e.dirc.ListClients(ctx, &dwellv1.ListClientsRequest{PageSize: -1})
	wantViolation(t, "negative page size", err, "page_size")
}

func TestImportTenThousandClients(t *testing.T) {
	e := newEnv(t)
	ctx := e.admin(acme)
	stream, err := e.dirc.ImportClients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	bad := map[int64]string{17: "geofence.circle.radius_meters", 4242: "display_name", 9999: "name"}
	var msg dwellv1.ImportClientsRequest
	for i := range n {
		c := circleClient(fmt.Sprintf("imp-%05d", i), -6.2+float64(i%100)*0.001, 106.8+float64(i/100)*0.001, 60)
		switch bad[int64(i)] {
		case "geofence.circle.radius_meters":
			c.GetGeofence().GetCircle().RadiusMeters = 5
		case "display_name":
			c.DisplayName = ""
		case "name":
			c.Name = "imp-bad"
		}
		msg.Clients = append(msg.Clients, c)
		if len(msg.Clients) == 500 {
			if err := stream.Send(&msg); err != nil {
				t.Fatal(err)
			}
			msg.Clients = nil
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatalf("ImportClients: %v", err)
	}
	if resp.GetReceived() != n || resp.GetStored() != n-int64(len(bad)) || len(resp.GetErrors()) != len(bad) {
		t.Fatalf("import = received %d stored %d errors %d; want %d, %d, %d", resp.GetReceived(), resp.GetStored(), len(resp.GetErrors()), n, n-len(bad), len(bad))
	}
	for _, re := range resp.GetErrors() {
		field, ok := bad[re.GetRow()]
		if !ok || len(re.GetFieldErrors()) == 0 || re.GetFieldErrors()[0].GetField() != field {
			t.Errorf("row error %v, want row in %v with field %q", re, bad, field)
		}
	}
	cs, _, err := e.st.ListClients(t.Context(), acme, store.ClientFilter{}, store.Page{Limit: 2 * n})
	if err != nil || len(cs) != n-len(bad) {
		t.Fatalf("stored clients = %d, %v; want %d", len(cs), err, n-len(bad))
	}
	ix, err := server.FenceIndex(t.Context(), e.srv, acme)
	if err != nil || ix.Len() != n-len(bad) {
		t.Fatalf("fence index holds %d fences (%v), want %d", ix.Len(), err, n-len(bad))
	}
}

func TestImportEmptyStream(t *testing.T) {
	e := newEnv(t)
	stream, err := e.dirc.ImportClients(e.admin(acme))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := stream.CloseAndRecv()
	if err != nil || resp.GetReceived() != 0 || resp.GetStored() != 0 {
		t.Fatalf("empty import = %v, %v", resp, err)
	}
	if err == io.EOF {
		t.Fatal("unexpected EOF")
	}
}

// TestBadDirectoryInput sends each kind of bad directory input and checks
// the field violation and that nothing was stored.
func TestBadDirectoryInput(t *testing.T) {
	e := newEnv(t)
	ctx := e.admin(acme)
	e.mustCreateTeam(ctx, "north")
	circle := func(lat, lng, r float64) *dwellv1.Geofence {
		return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{Center: &dwellv1.LatLng{Lat: lat, Lng: lng}, RadiusMeters: r}}}
	}
	ring := func(pts ...[2]float64) *dwellv1.LinearRing {
		r := &dwellv1.LinearRing{}
		for _, p := range pts {
			r.Vertices = append(r.Vertices, &dwellv1.LatLng{Lat: p[0], Lng: p[1]})
		}
		return r
	}
	poly := func(shell *dwellv1.LinearRing, holes ...*dwellv1.LinearRing) *dwellv1.Geofence {
		return &dwellv1.Geofence{Shape: &dwellv1.Geofence_Polygon{Polygon: &dwellv1.Polygon{Shell: shell, Holes: holes}}}
	}
	square := ring([2]float64{0, 0}, [2]float64{0, 0.001}, [2]float64{0.001, 0.001}, [2]float64{0.001, 0})
	big := &dwellv1.LinearRing{}
	for i := range 1001 {
		a := float64(i) / 1001 * 6.283185307179586
		big.Vertices = append(big.Vertices, &dwellv1.LatLng{Lat: 0.001 * sin(a), Lng: 0.001 * cos(a)})
	}
	client := func(g *dwellv1.Geofence) *dwellv1.Client {
		return &dwellv1.Client{DisplayName: "x", Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT, Geofence: g}
	}
	cases := []struct {
		name  string
		id    string
		c     *dwellv1.Client
		field string
	}{
		{"no id", "", client(circle(0, 0, 50)), "client_id"},
		{"bad id", "a/b", client(circle(0, 0, 50)), "client_id"},
		{"no client", "x1", nil, "client"},
		{"no name", "x1", &dwellv1.Client{Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT, Geofence: circle(0, 0, 50)}, "client.display_name"},
		{"no kind", "x1", &dwellv1.Client{DisplayName: "x", Geofence: circle(0, 0, 50)}, "client.kind"},
		{"no geofence", "x1", client(nil), "client.geofence"},
		{"radius too small", "x1", client(circle(0, 0, 9.99)), "client.geofence.circle.radius_meters"},
		{"radius too large", "x1", client(circle(0, 0, 5000.01)), "client.geofence.circle.radius_meters"},
		{"lat out of range", "x1", client(circle(91, 0, 50)), "client.geofence.circle.center.lat"},
		{"lng out of range", "x1", client(circle(0, 181, 50)), "client.geofence.circle.center.lng"},
		{"two vertices", "x1", client(poly(ring([2]float64{0, 0}, [2]float64{0, 0.001}))), "client.geofence.polygon.shell."},
		{"1001 vertices", "x1", client(poly(big)), "client.geofence.polygon.shell."},
		{"self-intersecting", "x1", client(poly(ring([2]float64{0, 0}, [2]float64{0.001, 0.001}, [2]float64{0, 0.001}, [2]float64{0.001, 0}))), "client.geofence.polygon.shell."},
		{"hole outside shell", "x1", client(poly(square, ring([2]float64{0.002, 0.002}, [2]float64{0.002, 0.0025}, [2]float64{0.0025, 0.0025}))), "client.geofence.polygon.holes[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.dirc.CreateClient(ctx, &dwellv1.CreateClientRequest{ClientId: tc.id, Client: tc.c})
			wantViolation(t, tc.name, err, tc.field)
		})
	}
	repCases := []struct {
		name  string
		rep   *dwellv1.Rep
		field string
	}{
		{"no time zone", &dwellv1.Rep{DisplayName: "r"}, "rep.time_zone"},
		{"bad time zone", &dwellv1.Rep{DisplayName: "r", TimeZone: "Mars/Olympus"}, "rep.time_zone"},
		{"unknown team", &dwellv1.Rep{DisplayName: "r", TimeZone: "UTC", Team: "teams/south"}, "rep.team"},
		{"bad team name", &dwellv1.Rep{DisplayName: "r", TimeZone: "UTC", Team: "south"}, "rep.team"},
		{"bad hours", &dwellv1.Rep{DisplayName: "r", TimeZone: "UTC", WorkingHours: []*dwellv1.WorkingHours{{DayOfWeek: 1, StartMinute: 600, EndMinute: 500}}}, "rep.working_hours[0]."},
	}
	for _, tc := range repCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.dirc.CreateRep(ctx, &dwellv1.CreateRepRequest{RepId: "r1", Rep: tc.rep})
			wantViolation(t, tc.name, err, tc.field)
		})
	}
	cs, _, err := e.st.ListClients(t.Context(), acme, store.ClientFilter{}, store.Page{Limit: 10})
	if err != nil || len(cs) != 0 {
		t.Fatalf("clients stored after bad input: %v, %v", cs, err)
	}
	rs, _, err := e.st.ListReps(t.Context(), acme, store.RepFilter{}, store.Page{Limit: 10})
	if err != nil || len(rs) != 0 {
		t.Fatalf("reps stored after bad input: %v, %v", rs, err)
	}
	_ = dwell.MaxPolygonVertices
}

// TestDeleteTeamFreesItsReps: a team deleted and created again under the
// same id does not hand the old team's reps to its new manager.
func TestDeleteTeamFreesItsReps(t *testing.T) {
	e := newEnv(t)
	seedTeams(e) // north (ana) with budi, south (rudi) with sari
	admin := e.admin(acme)
	if _, err := e.dirc.DeleteTeam(admin, &dwellv1.DeleteTeamRequest{Name: "teams/north"}); err != nil {
		t.Fatal(err)
	}
	r, err := e.dirc.GetRep(admin, &dwellv1.GetRepRequest{Name: "reps/budi"})
	if err != nil || r.GetRep().GetTeam() != "" {
		t.Fatalf("budi after its team was deleted = %v, %v; want no team", r.GetRep(), err)
	}
	e.mustCreateTeam(admin, "north", "eve")
	eve := e.as(acme, dwell.RoleManager, "eve")
	_, err = e.report.GetRepDay(eve, &dwellv1.GetRepDayRequest{Rep: "reps/budi", Date: pbDate(2026, 11, 19)})
	wantCode(t, "the new north's manager reading budi", err, codes.PermissionDenied)
	reps, err := e.dirc.ListReps(admin, &dwellv1.ListRepsRequest{Team: "teams/north"})
	if err != nil || len(reps.GetReps()) != 0 {
		t.Fatalf("the new north's reps = %v, %v; want none", reps.GetReps(), err)
	}
	// sari stays in south.
	if r, err := e.dirc.GetRep(admin, &dwellv1.GetRepRequest{Name: "reps/sari"}); err != nil || r.GetRep().GetTeam() != "teams/south" {
		t.Fatalf("sari = %v, %v; want in teams/south", r.GetRep(), err)
	}
}
