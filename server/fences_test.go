package server

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// TestFenceIndexFollowsDirectory checks that every client write through
// DirectoryService reaches the tenant's geofence index, and that a new
// server builds the index from the store.
func TestFenceIndexFollowsDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dwell.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := New(Config{Store: st})
	ctx := withPrincipal(t.Context(), dwell.Principal{Tenant: "acme", Subject: "admin", Role: dwell.RoleAdmin})
	circle := func(lat, lng, r float64) *dwellv1.Client {
		return &dwellv1.Client{DisplayName: "c", Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT,
			Geofence: &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{
				Center: &dwellv1.LatLng{Lat: lat, Lng: lng}, RadiusMeters: r}}}}
	}
	matches := func(s *Server, p dwell.LatLng) []string {
		t.Helper()
		ix, err := s.fences.index(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range ix.Query(p, 5, nil) {
			if m.Relation == geofence.RelationInside {
				ids = append(ids, m.ID)
			}
		}
		return ids
	}
	here := dwell.LatLng{Lat: -6.2, Lng: 106.8}
	if _, err := s.dir.CreateClient(ctx, &dwellv1.CreateClientRequest{ClientId: "a", Client: circle(-6.2, 106.8, 50)}); err != nil {
		t.Fatal(err)
	}
	if got := matches(s, here); fmt.Sprint(got) != "[a]" {
		t.Fatalf("after create: inside %v, want [a]", got)
	}
	// Move the fence away: the point is no longer inside.
	if _, err := s.dir.UpdateClient(ctx, &dwellv1.UpdateClientRequest{
		Client:     &dwellv1.Client{Name: "clients/a", Geofence: circle(-6.3, 106.8, 50).GetGeofence()},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"geofence"}},
	}); err != nil {
		t.Fatal(err)
	}
	if got := matches(s, here); len(got) != 0 {
		t.Fatalf("after update: inside %v, want none", got)
	}
	if _, err := s.dir.CreateClient(ctx, &dwellv1.CreateClientRequest{ClientId: "b", Client: circle(-6.2, 106.8, 30)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.dir.DeleteClient(ctx, &dwellv1.DeleteClientRequest{Name: "clients/a"}); err != nil {
		t.Fatal(err)
	}
	// A failed write (id taken) changes nothing.
	if _, err := s.dir.CreateClient(ctx, &dwellv1.CreateClientRequest{ClientId: "b", Client: circle(10, 10, 30)}); !dwell.Is(dwell.AlreadyExists, err) {
		t.Fatalf("create of a taken id: %v", err)
	}
	if got := matches(s, here); fmt.Sprint(got) != "[b]" {
		t.Fatalf("after create b, delete a: inside %v, want [b]", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// A new server over the same file builds the index from the store.
	st2, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	s2 := New(Config{Store: st2})
	if err := s2.LoadFences(t.Context(), []dwell.TenantID{"acme"}); err != nil {
		t.Fatal(err)
	}
	if got := matches(s2, here); fmt.Sprint(got) != "[b]" {
		t.Fatalf("after restart: inside %v, want [b]", got)
	}
	if got := matches(s2, dwell.LatLng{Lat: -6.3, Lng: 106.8}); len(got) != 0 {
		t.Fatalf("deleted fence still matches after restart: %v", got)
	}
}
