package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file puts the simulator's city and days on the wire, for the demo,
// the load tool and the tests: the same requests a CRM and a phone send.

func latLngPB(p dwell.LatLng) *dwellv1.LatLng { return &dwellv1.LatLng{Lat: p.Lat, Lng: p.Lng} }

func ringPB(r []dwell.LatLng) *dwellv1.LinearRing {
	out := &dwellv1.LinearRing{}
	for _, p := range r {
		out.Vertices = append(out.Vertices, latLngPB(p))
	}
	return out
}

// simAddress is the address of every simulated site dwellctl stores (the
// simulator gives its sites none). It marks the client as the simulator's:
// load and demo may replace such a client with another seed's site of the
// same id, never a client without it, which is someone's real client.
const simAddress = "Simulated site (dwellctl load and demo)"

// simClientPB converts a simulated client site, marked as such by its
// address (simAddress).
func simClientPB(c dwell.Client) *dwellv1.Client {
	out := &dwellv1.Client{
		Name:        resourceName("clients", string(c.ID)),
		DisplayName: c.DisplayName,
		Kind:        dwellv1.ClientKind(c.Kind),
		Address:     simAddress,
		ExternalId:  c.ExternalID,
		Geofence:    &dwellv1.Geofence{},
	}
	switch {
	case c.Fence.Circle != nil:
		out.Geofence.Shape = &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{
			Center: latLngPB(c.Fence.Circle.Center), RadiusMeters: c.Fence.Circle.RadiusM,
		}}
	case c.Fence.Polygon != nil:
		p := &dwellv1.Polygon{Shell: ringPB(c.Fence.Polygon.Shell)}
		for _, h := range c.Fence.Polygon.Holes {
			p.Holes = append(p.Holes, ringPB(h))
		}
		out.Geofence.Shape = &dwellv1.Geofence_Polygon{Polygon: p}
	}
	return out
}

// simFixPB converts a simulated fix; unknown speed and bearing (negative)
// stay unset.
func simFixPB(f dwell.Fix) *dwellv1.Fix {
	out := &dwellv1.Fix{Id: f.ID, DeviceTime: timestamppb.New(f.Time), Position: latLngPB(f.Pos), AccuracyMeters: f.AccuracyM, Mock: f.Mock}
	if f.SpeedMPS >= 0 {
		out.SpeedMetersPerSecond = &f.SpeedMPS
	}
	if f.BearingDeg >= 0 {
		out.BearingDegrees = &f.BearingDeg
	}
	if f.HasAltitude {
		out.AltitudeMeters = &f.AltitudeM
	}
	return out
}

func simFixesPB(fs []dwell.Fix) []*dwellv1.Fix {
	out := make([]*dwellv1.Fix, len(fs))
	for i, f := range fs {
		out[i] = simFixPB(f)
	}
	return out
}

func simCheckInPB(rep string, ci sim.CheckIn) *dwellv1.CheckInRequest {
	r := &dwellv1.CheckInRequest{RequestId: ci.RequestID, Rep: rep, Client: resourceName("clients", string(ci.Client)), CheckInTime: timestamppb.New(ci.Time)}
	if ci.Fix != nil {
		r.Fix = simFixPB(*ci.Fix)
	}
	return r
}

func simCheckOutPB(rep string, co sim.CheckOut) *dwellv1.CheckOutRequest {
	r := &dwellv1.CheckOutRequest{
		RequestId: co.RequestID, Rep: rep, Client: resourceName("clients", string(co.Client)), CheckOutTime: timestamppb.New(co.Time),
		Outcome: dwellv1.Outcome(co.Outcome), RejectionReason: dwellv1.RejectionReason(co.RejectionReason), RejectionText: co.RejectionText, Notes: co.Notes,
	}
	if co.Fix != nil {
		r.Fix = simFixPB(*co.Fix)
	}
	if !co.FollowUpDate.IsZero() {
		d := co.FollowUpDate
		r.FollowUpDate = &dwellv1.Date{Year: int32(d.Year), Month: int32(d.Month), Day: int32(d.Day)}
	}
	return r
}

// simClashError is the clients of a tenant under the ids of simulated
// sites that are not the simulator's: importSimClients replaces none of
// them, and stores nothing.
type simClashError struct {
	ids []string // "clients/c0001", in id order
}

func (e *simClashError) Error() string {
	const show = 5
	list := strings.Join(e.ids[:min(len(e.ids), show)], ", ")
	if n := len(e.ids) - show; n > 0 {
		list += fmt.Sprintf(" and %d more", n)
	}
	return fmt.Sprintf("the tenant has clients of its own under the simulated sites' ids (%s), which this would replace, "+
		"deriving the tenant's last 35 days again: nothing was changed", list)
}

// importSimClients stores the city's sites with ImportClients, 500 a
// message, and fails unless every one was stored. It reads the tenant's
// clients first and sends only what it must: a site stored as the
// simulator makes it is left as it is (a rerun rewrites nothing, so no day
// is derived again), and one an earlier run stored with another seed or
// size (its address simAddress) is replaced; any other client under a
// site's id is someone's own, and then it stores nothing and returns a
// *simClashError naming them.
func importSimClients(ctx context.Context, dc dwellv1.DirectoryServiceClient, city *sim.City) error {
	want := map[string]*dwellv1.Client{}
	for _, c := range city.Clients() {
		pb := simClientPB(c)
		want[pb.GetName()] = pb
	}
	var clash []string
	req := &dwellv1.ListClientsRequest{PageSize: 1000}
	for {
		resp, err := dc.ListClients(ctx, req)
		if status.Code(err) == codes.PermissionDenied {
			return fmt.Errorf("reading the tenant's clients, to be sure no client of its own is under a simulated site's id before writing them: %w (a partner account needs the scope directory-read besides directory-write and ingest: dwellctl partners update ID --scope directory-read,directory-write,ingest)", err)
		}
		if err != nil {
			return err
		}
		for _, stored := range resp.GetClients() {
			w, ok := want[stored.GetName()]
			switch {
			case !ok:
			case sameSimSite(stored, w):
				delete(want, stored.GetName()) // nothing to send
			case stored.GetAddress() != simAddress:
				clash = append(clash, stored.GetName())
			}
		}
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	if len(clash) > 0 {
		return &simClashError{ids: clash}
	}
	if len(want) == 0 {
		return nil
	}
	var rows []*dwellv1.Client
	for _, c := range city.Clients() { // in the city's order
		if pb, ok := want[resourceName("clients", string(c.ID))]; ok {
			rows = append(rows, pb)
		}
	}
	stream, err := dc.ImportClients(ctx)
	if err != nil {
		return err
	}
	var sendErr error
	for i := 0; i < len(rows) && sendErr == nil; i += 500 {
		sendErr = stream.Send(&dwellv1.ImportClientsRequest{Clients: rows[i:min(i+500, len(rows))]})
	}
	resp, err := stream.CloseAndRecv()
	switch {
	case err != nil:
		return err
	case sendErr != nil && !errors.Is(sendErr, io.EOF):
		return sendErr
	case resp.GetStored() != int64(len(rows)):
		msg := ""
		if es := resp.GetErrors(); len(es) > 0 {
			msg = fmt.Sprintf(": row %d: %v", es[0].GetRow(), es[0].GetFieldErrors())
		}
		return fmt.Errorf("imported %d of %d simulated clients%s", resp.GetStored(), len(rows), msg)
	}
	return nil
}

// sameSimSite reports whether the stored client is the simulated site
// want: every field an import writes is as the simulator makes it, the
// address empty (stored by a dwellctl that did not mark its sites yet) or
// simAddress.
func sameSimSite(stored, want *dwellv1.Client) bool {
	return stored.GetDisplayName() == want.GetDisplayName() && stored.GetKind() == want.GetKind() &&
		(stored.GetAddress() == "" || stored.GetAddress() == simAddress) && stored.GetExternalId() == want.GetExternalId() &&
		proto.Equal(stored.GetGeofence(), want.GetGeofence())
}

// ensureTenantKey gives tenant a signing key in dataDir/keys unless it
// has one, as "dwellctl tenants create" does, and reports whether it made
// one: load and demo run in a tenant of their own. The keys directory must
// exist (dwelld makes it on its first start), unless fresh is set: the
// directory of the demo's in-process dwelld, not started yet.
func ensureTenantKey(ctx context.Context, dataDir, tenant string, fresh bool) (created bool, err error) {
	keys := filepath.Join(dataDir, "keys")
	if !fresh {
		if _, err := os.Stat(keys); err != nil {
			return false, fmt.Errorf("%s: %v (is it a dwelld data directory?)", keys, err)
		}
	}
	kr, err := auth.OpenKeyring(keys)
	if err != nil {
		return false, err
	}
	if slices.Contains(kr.Tenants(), dwell.TenantID(tenant)) {
		return false, nil
	}
	if err := checkOwner(keys); err != nil {
		return false, err
	}
	return kr.EnsureTenant(ctx, dwell.TenantID(tenant))
}

// checkSimTenant returns a usage problem with the tenant id of --tenant,
// or "".
func checkSimTenant(tenant string) string {
	if err := auth.CheckTenantID(dwell.TenantID(tenant)); err != nil {
		return fmt.Sprintf("--tenant %q: %s", tenant, dwell.ViolationsOf(err)[0].Description)
	}
	return ""
}

// tenantKeyWait is how long load and demo wait for a running dwelld to
// accept the tokens of a tenant they have just created: dwelld reads its
// keys again every 10 s.
const tenantKeyWait = 30 * time.Second

// awaitTenant waits until the server accepts the token of the connection
// of dc, whose tenant's key was just created in the server's data
// directory, polling every 200 ms for at most tenantKeyWait. It returns
// the last refusal, or nil once accepted.
func awaitTenant(ctx context.Context, g *globals, dc dwellv1.DirectoryServiceClient) error {
	deadline := time.Now().Add(tenantKeyWait)
	for {
		rctx, cancel := g.rpcCtx(ctx)
		_, err := dc.ListClients(rctx, &dwellv1.ListClientsRequest{PageSize: 1})
		cancel()
		if status.Code(err) != codes.Unauthenticated || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// simSetupError prints why load or demo (name) could not set up its data
// and returns the exit code: the clients it would not replace, with what
// to do instead, or the failed call.
func (e *env) simSetupError(name string, g *globals, dataDir, tenant string, err error) int {
	var clash *simClashError
	if !errors.As(err, &clash) {
		code := e.rpcError(name, g, err)
		if status.Code(err) == codes.Unauthenticated && dataDir != "" {
			fmt.Fprintf(e.stderr, "hint: is %s the data directory of the dwelld at %s? It did not accept tenant %q's token, signed with the key in %s "+
				"(a dwelld on PostgreSQL keeps its keys in the database: dwellctl tenants create --postgres \"$DWELL_POSTGRES\" %s)\n",
				dataDir, g.addr, tenant, filepath.Join(dataDir, "keys"), tenant)
		}
		return code
	}
	e.fail(name, err)
	if dataDir != "" {
		fmt.Fprintf(e.stderr, "hint: %s keeps its simulated data in a tenant of its own (--tenant, default %q), and tenant %q has clients of its own: name another with --tenant\n", name, name, tenant)
	} else {
		fmt.Fprintf(e.stderr, "hint: with a token, %s runs in the token's tenant: give it --data-dir of the dwelld instead, and it runs in a tenant of its own (--tenant, default %q), or a partner token of such a tenant\n", name, name)
	}
	return exitFail
}

// pbDate converts a local day.
func pbDate(d dwell.Date) *dwellv1.Date {
	return &dwellv1.Date{Year: int32(d.Year), Month: int32(d.Month), Day: int32(d.Day)}
}

// dwellDate is the local day of t in loc.
func dwellDate(t time.Time, loc *time.Location) dwell.Date {
	y, m, d := t.In(loc).Date()
	return dwell.Date{Year: y, Month: m, Day: d}
}
