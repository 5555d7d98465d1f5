package server

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Request size bounds, in encoded bytes, checked before a message is
// decoded: decoding is what costs, about a hundred bytes of heap per
// element of a repeated field that may take two bytes on the wire, so one
// 32 MiB message of empty fixes used to cost over 2 GB of heap and seconds
// of CPU before UploadPings refused it for holding more than 1,000.
const (
	// maxPingsBytes bounds UploadPingsRequest and StreamPingsRequest:
	// 1,000 fixes (dwell.MaxFixesPerBatch) of the largest a phone sends
	// (a 64-byte id, every optional value set: about 150 bytes each on
	// the wire) are about 150 KB.
	maxPingsBytes = 256 << 10
	// maxClientBytes bounds CreateClientRequest and UpdateClientRequest:
	// a polygon of 101 rings of 1,000 vertices is about 2 MB.
	maxClientBytes = 4 << 20
	// maxRepBytes bounds CreateRepRequest and UpdateRepRequest: working
	// hours that do not overlap are at most one a minute of the week
	// (10,080, about 100 KB).
	maxRepBytes = 1 << 20
	// maxSalesBatchBytes bounds UpsertOpportunitiesRequest and
	// UpsertQuotasRequest: 1,000 opportunities with a 4,096-byte
	// external id each are about 4.5 MB.
	maxSalesBatchBytes = 8 << 20
	// maxNamedRepsBytes bounds GetTimeBreakdownRequest and
	// ListRepStatusesRequest, which may name up to maxPageSize (1,000)
	// reps: 1,000 names "reps/{rep_id}" of 64-byte ids are about 71 KB.
	// Their lists are not counted here: a list of strings this size costs
	// little to decode, and the handler answers one over 1,000 with every
	// violation of the request (namedRepsViolations).
	maxNamedRepsBytes = 128 << 10
	// maxSmallRequestBytes bounds every other request but the imports'
	// (check-ins, calls, reads, settings, teams...): the largest, a team
	// of 100 managers, is about 26 KB.
	maxSmallRequestBytes = 64 << 10
)

// sizeLimit is what a request message type may hold: at most bytes
// encoded bytes and, when most > 0, at most most elements of its repeated
// field number field (named name), counted on the wire before decoding.
type sizeLimit struct {
	bytes int
	field protowire.Number
	name  string
	most  int
}

// sizeLimits are the limits of the request types that have other limits
// than maxSmallRequestBytes alone. The imports keep the server-wide
// maxRecvMsgBytes (a message of 500 polygon sites is about 10 MB).
var sizeLimits = map[protoreflect.FullName]sizeLimit{
	"dwell.v1.UploadPingsRequest":         {bytes: maxPingsBytes, field: 2, name: "fixes", most: dwell.MaxFixesPerBatch},
	"dwell.v1.StreamPingsRequest":         {bytes: maxPingsBytes, field: 2, name: "fixes", most: dwell.MaxFixesPerBatch},
	"dwell.v1.CreateClientRequest":        {bytes: maxClientBytes},
	"dwell.v1.UpdateClientRequest":        {bytes: maxClientBytes},
	"dwell.v1.CreateRepRequest":           {bytes: maxRepBytes},
	"dwell.v1.UpdateRepRequest":           {bytes: maxRepBytes},
	"dwell.v1.UpsertOpportunitiesRequest": {bytes: maxSalesBatchBytes, field: 2, name: "opportunities", most: dwell.MaxSalesBatch},
	"dwell.v1.UpsertQuotasRequest":        {bytes: maxSalesBatchBytes, field: 2, name: "quotas", most: dwell.MaxSalesBatch},
	"dwell.v1.GetTimeBreakdownRequest":    {bytes: maxNamedRepsBytes},
	"dwell.v1.ListRepStatusesRequest":     {bytes: maxNamedRepsBytes},
	"dwell.v1.ImportClientsRequest":       {bytes: maxRecvMsgBytes},
	"dwell.v1.ImportRepsRequest":          {bytes: maxRecvMsgBytes},
}

// limitOf returns the limit of a request message of type name.
func limitOf(name protoreflect.FullName) sizeLimit {
	if l, ok := sizeLimits[name]; ok {
		return l
	}
	return sizeLimit{bytes: maxSmallRequestBytes}
}

// limitCodec is the server's codec (grpc.ForceServerCodecV2): gRPC's proto
// codec, but a request message over its type's limit (sizeLimits) is not
// decoded. gRPC turns an error of Unmarshal into INTERNAL, so the codec
// leaves such a message empty and notes why in refused, and the first
// interceptors (limitUnary, limitStream) answer the call with that error:
// RESOURCE_EXHAUSTED (LIMIT_REACHED) for a message too large,
// INVALID_ARGUMENT on the field for one of too many elements, as the
// handler would answer, before anything else reads the message.
type limitCodec struct {
	base encoding.CodecV2
	// refused maps a message left empty to the error of its call; the
	// interceptors take the entry as soon as the message is received.
	refused *sync.Map
}

func (c limitCodec) Name() string { return c.base.Name() }

func (c limitCodec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

func (c limitCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return c.base.Unmarshal(data, v)
	}
	name := m.ProtoReflect().Descriptor().FullName()
	l := limitOf(name)
	const op = dwell.Op("server.decode")
	if n := data.Len(); n > l.bytes {
		c.refused.Store(v, dwell.E(op, dwell.ResourceExhausted, dwell.ReasonLimitReached, fmt.Sprintf(
			"a %s may be at most %d bytes, got %d; send less in each message", name.Name(), l.bytes, n)))
		return nil
	}
	if l.most == 0 {
		return c.base.Unmarshal(data, v)
	}
	b := data.Materialize()
	if n := countField(b, l.field); n > l.most {
		c.refused.Store(v, invalid(op, []dwell.Violation{{Field: l.name, Description: fmt.Sprintf("at most %d %s per request, got %d", l.most, l.name, n)}}))
		return nil
	}
	return proto.Unmarshal(b, m)
}

// countField returns how many times field number f occurs at the top level
// of the encoded message b, without decoding it; a malformed b counts what
// precedes the fault (decoding reports the fault).
func countField(b []byte, f protowire.Number) int {
	n := 0
	for len(b) > 0 {
		num, typ, tl := protowire.ConsumeTag(b)
		if tl < 0 {
			return n
		}
		vl := protowire.ConsumeFieldValue(num, typ, b[tl:])
		if vl < 0 {
			return n
		}
		if num == f {
			n++
		}
		b = b[tl+vl:]
	}
	return n
}

// refusal takes the error the codec noted for message m, if any.
func (s *Server) refusal(m any) error {
	if err, ok := s.refused.LoadAndDelete(m); ok {
		return err.(error)
	}
	return nil
}

// limitUnary answers a call whose request the codec refused. It is the
// first interceptor (inside metrics alone, which calls it always): gRPC
// decodes the request before any runs.
func (s *Server) limitUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.refusal(req); err != nil {
		return nil, toStatus(ctx, s.log, err)
	}
	return h(ctx, req)
}

// limitStream makes a stream's RecvMsg return the error of a message the
// codec refused: the handler ends the stream with it.
func (s *Server) limitStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	return h(srv, &limitedStream{ServerStream: ss, s: s})
}

type limitedStream struct {
	grpc.ServerStream
	s *Server
}

func (l *limitedStream) RecvMsg(m any) error {
	if err := l.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := l.s.refusal(m); err != nil {
		return toStatus(l.Context(), l.s.log, err)
	}
	return nil
}
