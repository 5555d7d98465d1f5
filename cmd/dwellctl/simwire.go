package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

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

// simClientPB converts a simulated client site.
func simClientPB(c dwell.Client) *dwellv1.Client {
	out := &dwellv1.Client{
		Name:        resourceName("clients", string(c.ID)),
		DisplayName: c.DisplayName,
		Kind:        dwellv1.ClientKind(c.Kind),
		Address:     c.Address,
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

// importSimClients stores the city's sites with ImportClients, 500 a
// message, and fails unless every one was stored.
func importSimClients(ctx context.Context, dc dwellv1.DirectoryServiceClient, city *sim.City) error {
	stream, err := dc.ImportClients(ctx)
	if err != nil {
		return err
	}
	cs := city.Clients()
	var sendErr error
	for i := 0; i < len(cs) && sendErr == nil; i += 500 {
		req := &dwellv1.ImportClientsRequest{}
		for _, c := range cs[i:min(i+500, len(cs))] {
			req.Clients = append(req.Clients, simClientPB(c))
		}
		sendErr = stream.Send(req)
	}
	resp, err := stream.CloseAndRecv()
	switch {
	case err != nil:
		return err
	case sendErr != nil && !errors.Is(sendErr, io.EOF):
		return sendErr
	case resp.GetStored() != int64(len(cs)):
		msg := ""
		if es := resp.GetErrors(); len(es) > 0 {
			msg = fmt.Sprintf(": row %d: %v", es[0].GetRow(), es[0].GetFieldErrors())
		}
		return fmt.Errorf("imported %d of %d simulated clients%s", resp.GetStored(), len(cs), msg)
	}
	return nil
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
