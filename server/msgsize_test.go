package server_test

import (
	"bytes"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// rawCodec sends pre-encoded bytes, so that the test's client holds no
// decoded message of its own.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	return proto.Unmarshal(data, v.(proto.Message))
}
func (rawCodec) Name() string { return "proto" }

// allocated returns the bytes the process has allocated on the heap so far.
func allocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// TestUploadPingsTooLargeRefusedBeforeDecoding: an UploadPings request of
// 32 MiB (the server-wide message limit) of empty fixes, two bytes each on
// the wire, is RESOURCE_EXHAUSTED (LIMIT_REACHED) without being decoded:
// the whole call allocates a few times the message's size, where decoding
// its 16.7 million fixes allocated over 2 GB. One of more than 1,000
// fixes that fits the size bound is INVALID_ARGUMENT on "fixes" without
// being decoded either, and a batch of 1,000 fixes as large as a phone
// sends them still passes.
func TestUploadPingsTooLargeRefusedBeforeDecoding(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	budi := e.as(acme, dwell.RoleRep, "budi")
	body := bytes.Repeat([]byte{0x12, 0x00}, (32<<20-64)/2) // field 2 (fixes), an empty Fix
	runtime.GC()
	before := allocated()
	err := e.conn.Invoke(budi, "/dwell.v1.IngestService/UploadPings", body, new(dwellv1.UploadPingsResponse), grpc.ForceCodec(rawCodec{}))
	spent := allocated() - before
	wantReason(t, "32 MiB of empty fixes", err, codes.ResourceExhausted, dwell.ReasonLimitReached)
	t.Logf("a %d MB request cost %d MB of allocations", len(body)>>20, spent>>20)
	if spent > 300<<20 {
		t.Fatalf("a refused %d MB request made the process allocate %d MB", len(body)>>20, spent>>20)
	}

	// 100,000 empty fixes (200 KB): under the size bound, over the count.
	body = bytes.Repeat([]byte{0x12, 0x00}, 100_000)
	err = e.conn.Invoke(budi, "/dwell.v1.IngestService/UploadPings", body, new(dwellv1.UploadPingsResponse), grpc.ForceCodec(rawCodec{}))
	wantViolation(t, "100,000 empty fixes", err, "fixes")

	// The same over StreamPings ends the stream.
	st, err := e.ingest.StreamPings(budi)
	if err != nil {
		t.Fatal(err)
	}
	big := &dwellv1.StreamPingsRequest{BatchId: 1}
	for range 3000 {
		big.Fixes = append(big.Fixes, &dwellv1.Fix{Id: strings.Repeat("x", 64), DeviceTime: timestamppb.New(e.now()),
			Position: &dwellv1.LatLng{Lat: -6.2, Lng: 106.8}, AccuracyMeters: 5})
	}
	_ = st.Send(big)
	_, err = st.Recv()
	wantReason(t, "a StreamPings message of 3,000 fixes of 64-byte ids", err, codes.ResourceExhausted, dwell.ReasonLimitReached)

	if fs, err := e.st.ListFixes(t.Context(), acme, "budi", e.now().Add(-48*time.Hour), e.now().Add(48*time.Hour)); err != nil || len(fs) != 0 {
		t.Fatalf("after the refused requests: %d fixes stored (%v), want none", len(fs), err)
	}

	// 1,000 fixes of 64-byte ids with every value set.
	speed, bearing, alt := 1.5, 270.0, 12.5
	var fixes []*dwellv1.Fix
	for i := range dwell.MaxFixesPerBatch {
		fixes = append(fixes, &dwellv1.Fix{Id: fmt.Sprintf("%064d", i), DeviceTime: timestamppb.New(e.now().Add(-time.Duration(i) * time.Second)),
			Position: &dwellv1.LatLng{Lat: -6.123456789, Lng: 106.987654321}, AccuracyMeters: 4.5,
			SpeedMetersPerSecond: &speed, BearingDegrees: &bearing, AltitudeMeters: &alt, Mock: true})
	}
	req := &dwellv1.UploadPingsRequest{Rep: "reps/budi", Fixes: fixes}
	resp, err := e.ingest.UploadPings(budi, req)
	if err != nil {
		t.Fatalf("1,000 full fixes (%d bytes): %v", proto.Size(req), err)
	}
	if n := resp.GetAck().GetAccepted() + resp.GetAck().GetRejected() + resp.GetAck().GetDuplicates(); n != dwell.MaxFixesPerBatch {
		t.Fatalf("1,000 full fixes: %d acknowledged", n)
	}
}

// TestSmallRequestBound: a check-in (any request but the batches, the
// client and rep writes and the imports) of more than 64 KiB is
// RESOURCE_EXHAUSTED (LIMIT_REACHED) and nothing is stored.
func TestSmallRequestBound(t *testing.T) {
	e := newEnv(t)
	seedTeams(e)
	budi := e.as(acme, dwell.RoleRep, "budi")
	_, err := e.ingest.CheckIn(budi, &dwellv1.CheckInRequest{RequestId: strings.Repeat("r", 70<<10), Rep: "reps/budi", Client: "clients/toko", CheckInTime: timestamppb.New(e.now())})
	wantReason(t, "a 70 KiB check-in", err, codes.ResourceExhausted, dwell.ReasonLimitReached)
}

// TestNamedRepsBound: GetTimeBreakdown and ListRepStatuses may name up to
// 1,000 reps, and 1,000 names of 64-byte ids (dwell.MaxIDBytes) are about
// 71 KB: more than the 64 KiB of other small requests, so they have a
// bound of their own and are answered; a list of 1,001 names is
// INVALID_ARGUMENT on reps, counted before decoding.
func TestNamedRepsBound(t *testing.T) {
	e := newEnvSync(t, false)
	seedTeams(e)
	admin := e.admin(acme)
	var names []string
	for i := range 1000 {
		id := fmt.Sprintf("%064d", i)
		e.mustCreateRep(admin, id, "north")
		names = append(names, "reps/"+id)
	}
	req := &dwellv1.GetTimeBreakdownRequest{Reps: names, StartDate: &dwellv1.Date{Year: 2026, Month: 11, Day: 1}, EndDate: &dwellv1.Date{Year: 2026, Month: 11, Day: 20}}
	if proto.Size(req) <= 64<<10 {
		t.Fatalf("request of %d bytes, want one over 64 KiB", proto.Size(req))
	}
	if resp, err := e.report.GetTimeBreakdown(admin, req); err != nil || len(resp.GetRows()) == 0 {
		t.Errorf("GetTimeBreakdown of 1,000 reps (%d bytes): %v", proto.Size(req), err)
	}
	lreq := &dwellv1.ListRepStatusesRequest{Reps: names, PageSize: 1000}
	if resp, err := e.report.ListRepStatuses(admin, lreq); err != nil || len(resp.GetRepStatuses()) != 1000 {
		t.Errorf("ListRepStatuses of 1,000 reps (%d bytes): %d statuses, %v", proto.Size(lreq), len(resp.GetRepStatuses()), err)
	}
	// A list over 1,000 is answered by the handler, with every violation
	// of the request and its advice (a team), not refused while decoded.
	lreq.Reps = append(lreq.Reps, "reps/one-more")
	_, err := e.report.ListRepStatuses(admin, lreq)
	wantViolation(t, "ListRepStatuses of 1,001 reps", err, "reps")
	if err == nil || !strings.Contains(err.Error(), "name a team") {
		t.Errorf("ListRepStatuses of 1,001 reps: %v, want the handler's advice to name a team", err)
	}
	breq := &dwellv1.GetTimeBreakdownRequest{Reps: append(slices.Clone(names[:1000]), names[4])}
	_, err = e.report.GetTimeBreakdown(admin, breq)
	for _, field := range []string{"reps", "reps[1000]", "start_date"} {
		wantViolation(t, "GetTimeBreakdown of 1,001 reps, one twice, no dates", err, field)
	}
}
