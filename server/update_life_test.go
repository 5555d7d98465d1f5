package server_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// hookedStore runs hook once, right after the first GetClient that
// follows arming, and repHook once, right after the first GetRep that
// follows arming repArmed: another admin's requests landing between a
// write's read of a client (a masked update) or of a rep (a masked
// update, an ImportReps row) and its write.
type hookedStore struct {
	store.Store
	armed    atomic.Bool
	hook     func()
	repArmed atomic.Bool
	repHook  func()
}

func (s *hookedStore) GetRep(ctx context.Context, t dwell.TenantID, id dwell.RepID) (dwell.Rep, error) {
	r, err := s.Store.GetRep(ctx, t, id)
	if s.repArmed.CompareAndSwap(true, false) {
		s.repHook()
	}
	return r, err
}

func (s *hookedStore) GetClient(ctx context.Context, t dwell.TenantID, id dwell.ClientID) (dwell.Client, error) {
	c, err := s.Store.GetClient(ctx, t, id)
	if s.armed.CompareAndSwap(true, false) {
		s.hook()
	}
	return c, err
}

// TestMaskedUpdateAcrossDeleteAndCreate renames client "shop" (circle A)
// while another admin deletes it and creates it again with circle B: the
// rename read the first life of the client, and the second starts back at
// revision 1 too. The conditional write must not pass on the revision
// alone (it would write the deleted client, circle A, kind, address and
// creation instant, over the new one, and the fence index would take
// circle A): without an etag the rename applies to the new client, with
// the etag of the deleted one it is ABORTED and changes nothing.
func TestMaskedUpdateAcrossDeleteAndCreate(t *testing.T) {
	circle := func(name string, lat, lng, r float64) *dwellv1.Client {
		return &dwellv1.Client{DisplayName: name, Kind: dwellv1.ClientKind_CLIENT_KIND_PROSPECT,
			Geofence: &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{
				Center: &dwellv1.LatLng{Lat: lat, Lng: lng}, RadiusMeters: r}}}}
	}
	oldAt, newAt := dwell.LatLng{Lat: -6.2, Lng: 106.8}, dwell.LatLng{Lat: -6.3, Lng: 106.9}
	for _, withEtag := range []bool{false, true} {
		name := "no etag"
		if withEtag {
			name = "etag of the deleted client"
		}
		t.Run(name, func(t *testing.T) {
			hs := &hookedStore{}
			e := &env{t: t, dir: t.TempDir(), clock: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
			e.configure = func(c *server.Config) { hs.Store = c.Store; c.Store = hs }
			e.start()
			t.Cleanup(e.stop)
			adm := e.admin(acme)
			first, err := e.dirc.CreateClient(adm, &dwellv1.CreateClientRequest{ClientId: "shop", Client: circle("Old shop", oldAt.Lat, oldAt.Lng, 50)})
			if err != nil {
				t.Fatal(err)
			}
			var second *dwellv1.Client
			hs.hook = func() {
				if _, err := e.dirc.DeleteClient(adm, &dwellv1.DeleteClientRequest{Name: "clients/shop"}); err != nil {
					t.Error(err)
				}
				e.advance(time.Second)
				resp, err := e.dirc.CreateClient(adm, &dwellv1.CreateClientRequest{ClientId: "shop", Client: circle("New shop", newAt.Lat, newAt.Lng, 80)})
				if err != nil {
					t.Error(err)
				}
				second = resp.GetClient()
			}
			hs.armed.Store(true)
			upd := &dwellv1.Client{Name: "clients/shop", DisplayName: "Renamed"}
			if withEtag {
				upd.Etag = first.GetClient().GetEtag()
			}
			resp, err := e.dirc.UpdateClient(adm, &dwellv1.UpdateClientRequest{Client: upd, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
			if second == nil {
				t.Fatal("the delete and create between the update's read and write did not run")
			}
			wantName, wantRev := "Renamed", int64(2)
			if withEtag {
				wantReason(t, "rename with the etag of the deleted client", err, codes.Aborted, dwell.ReasonEtagMismatch)
				wantName, wantRev = "New shop", 1
			} else if err != nil {
				t.Fatalf("rename: %v", err)
			} else if got := resp.GetClient(); got.GetDisplayName() != "Renamed" || got.GetGeofence().GetCircle().GetRadiusMeters() != 80 {
				t.Errorf("rename answered %v, want the new client renamed", got)
			}
			got, err := e.st.GetClient(t.Context(), acme, "shop")
			if err != nil {
				t.Fatal(err)
			}
			c := got.Fence.Circle
			if got.DisplayName != wantName || c == nil || c.Center != newAt || c.RadiusM != 80 ||
				!got.CreateTime.Equal(second.GetCreateTime().AsTime()) || got.Revision != wantRev {
				t.Errorf("stored client: %q, fence %+v, created %v, revision %d; want %q, the new circle (%v, 80 m), created %v, revision %d",
					got.DisplayName, c, got.CreateTime, got.Revision, wantName, newAt, second.GetCreateTime().AsTime(), wantRev)
			}
			ix, err := server.FenceIndex(t.Context(), e.srv, acme)
			if err != nil {
				t.Fatal(err)
			}
			if ms := ix.Query(oldAt, 5, nil); len(ms) != 0 {
				t.Errorf("fence index at the deleted client's centre: %v, want nothing", ms)
			}
			if ms := ix.Query(newAt, 5, nil); len(ms) != 1 || ms[0].ID != "shop" {
				t.Errorf("fence index at the new client's centre: %v, want shop", ms)
			}
		})
	}
}
