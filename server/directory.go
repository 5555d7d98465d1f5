package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/dwellhq/dwell/geofence"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// directoryService implements dwellv1.DirectoryServiceServer.
type directoryService struct {
	dwellv1.UnimplementedDirectoryServiceServer
	s       *Server
	updates updateLocks
}

// updateLocks queues the writes of each tenant's records made through this
// server: masked updates (updateMasked) and the whole-record writes
// (imports, upserts) they may race. Safety does not rest on it: the
// store's conditional write keeps a masked update from undoing another,
// whichever server made it. It is for liveness: without it, writers of
// one record on one server fight rather than queue, and on PostgreSQL,
// where a write holds the row for milliseconds, a masked update can lose
// maxUpdateTries times in a row to a writer that keeps winning (a bulk
// upsert in a loop, TestConcurrentUpdatesOfOtherFieldsKeepBoth), and is
// refused with ABORTED. Queued, an update conflicts only with other
// servers' writes. The zero value is ready to use.
type updateLocks struct {
	mu      sync.Mutex
	tenants map[dwell.TenantID]*sync.Mutex
}

// lock takes tenant t's update lock and returns the function that
// releases it.
func (l *updateLocks) lock(t dwell.TenantID) (unlock func()) {
	l.mu.Lock()
	if l.tenants == nil {
		l.tenants = map[dwell.TenantID]*sync.Mutex{}
	}
	m, ok := l.tenants[t]
	if !ok {
		m = &sync.Mutex{}
		l.tenants[t] = m
	}
	l.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// maxUpdateTries bounds how many times a masked update is applied to a
// record that keeps changing between its read and its write.
const maxUpdateTries = 10

// maxUpdatePause bounds the pause before a masked update's next try.
const maxUpdatePause = 20 * time.Millisecond

// updateMasked runs one masked update (AIP-134) of the record name (its
// resource name): try reads the record, sets the fields the mask names,
// validates it and writes it whole with the store's conditional write,
// based on the revision it read. A masked update without that condition
// would write back the fields others changed since its read, undoing an
// acknowledged update (a manager removed from a team would come back),
// whichever server of those sharing the store made it. When the record
// changed since the read (dwell.Conflict), updateMasked tries again from
// the read, after a short random pause (up to 1 ms, doubling per try, at
// most maxUpdatePause) that spreads out writers colliding again; after
// maxUpdateTries it gives up with dwell.Conflict (ABORTED), which asks the
// caller to retry. Any other outcome of try is returned as it is. Callers
// hold the tenant's update lock (updateLocks) around it, so that only
// other servers' writes make it try again.
//
// etag is the revision the request's etag names (etagRevision), 0 if it
// gave none. A caller that sent an etag read the record itself (AIP-154):
// try writes conditionally on that revision instead of the one it read,
// and a conflict is not tried again but answered at once.
func updateMasked(ctx context.Context, op dwell.Op, name string, etag int64, try func() error) error {
	for i := range maxUpdateTries {
		err := try()
		switch {
		case !dwell.Is(dwell.Conflict, err):
			return err
		case etag != 0:
			return dwell.E(op, dwell.ReasonEtagMismatch, name+" changed since the etag given was read; read it again for its current etag", err)
		case i == maxUpdateTries-1:
			return dwell.E(op, fmt.Sprintf("%s changed under this update %d times in a row; read it and try again", name, maxUpdateTries), err)
		}
		if err := retryPause(ctx, op, i); err != nil {
			return err
		}
	}
	panic("unreachable")
}

// retryPause waits before try i+1 of a write that lost a race with
// another (dwell.Conflict): a random pause of up to 1 ms after the first
// try, doubling per try to at most maxUpdatePause, which spreads out
// writers that would collide again. It returns early with the context's
// error, wrapped, when ctx is done.
func retryPause(ctx context.Context, op dwell.Op, i int) error {
	pause := min(time.Millisecond<<i, maxUpdatePause)
	select {
	case <-ctx.Done():
		return dwell.E(op, ctx.Err())
	case <-time.After(rand.N(pause) + 1):
		return nil
	}
}

// etagOf returns the etag of a record at revision rev (AIP-154): the
// revision in decimal, which callers must treat as opaque. Settings never
// stored have revision 0, so etag "0".
func etagOf(rev int64) string { return strconv.FormatInt(rev, 10) }

// lifeEtagOf returns the etag of a record that can be deleted and created
// again under its id (a client, rep, team or partner account): its
// revision and its creation instant in Unix nanoseconds, "REV-NANOS". A
// record created again starts again at revision 1, so the revision alone
// would let an etag of one life of the record pass for one of the next.
func lifeEtagOf(rev int64, created time.Time) string {
	return etagOf(rev) + "-" + strconv.FormatInt(created.UnixNano(), 10)
}

// lifeEtag is what the etag of such a record names; zero for none.
type lifeEtag struct {
	rev     int64
	created int64 // Unix nanoseconds
}

// parseLifeEtag returns what the etag at field of an update request names
// (zero for an empty one), or dwell.Invalid for one this server could not
// have given for such a record.
func parseLifeEtag(op dwell.Op, field, etag string) (lifeEtag, error) {
	if etag == "" {
		return lifeEtag{}, nil
	}
	r, c, _ := strings.Cut(etag, "-")
	rev, err1 := strconv.ParseInt(r, 10, 64)
	created, err2 := strconv.ParseInt(c, 10, 64)
	if err1 != nil || err2 != nil || rev < 1 || lifeEtagOf(rev, time.Unix(0, created)) != etag {
		return lifeEtag{}, invalid(op, []dwell.Violation{{Field: field, Description: "is not an etag of this API; send the etag of the record as read, or none"}})
	}
	return lifeEtag{rev: rev, created: created}, nil
}

// begin prepares a record read for a masked update, its revision at rev
// and created at created: it returns dwell.Conflict if the etag was read
// in another life of the record, else sets *rev to the precondition of
// the write (see precondition).
func (e lifeEtag) begin(rev *int64, created time.Time) error {
	if e.rev != 0 && created.UnixNano() != e.created {
		return dwell.E(dwell.Conflict, dwell.ReasonEtagMismatch, "the record was deleted and created again since the etag was read")
	}
	*rev = precondition(e.rev, *rev)
	return nil
}

// etagRevision returns the precondition the etag of an opportunity (a
// record never deleted: its etag is the revision alone) in an update
// request (at field) sets: 0 for none (an empty etag), else the revision
// it names. An etag this server could not have given is dwell.Invalid,
// "0" among them: opportunities start at revision 1, so "0" names no state
// they were ever read in (and answering it ABORTED, "changed since read",
// would send the caller to read again for nothing).
func etagRevision(op dwell.Op, field, etag string) (int64, error) {
	rev, err := parseEtag(op, field, etag)
	if err == nil && rev == 0 && etag != "" {
		return 0, invalid(op, []dwell.Violation{{Field: field, Description: "is not an etag of this record: its etags start at \"1\"; send the etag of the record as read, or none"}})
	}
	return rev, err
}

// settingsEtagRevision is etagRevision for the etag of a tenant's
// settings, where "0" (read before any were stored) stands for
// dwell.RevisionAbsent.
func settingsEtagRevision(op dwell.Op, field, etag string) (int64, error) {
	rev, err := parseEtag(op, field, etag)
	if err == nil && rev == 0 && etag != "" {
		return dwell.RevisionAbsent, nil
	}
	return rev, err
}

// parseEtag returns the revision an etag names (0 for an empty one), or
// dwell.Invalid at field for one that is not an etag of this API.
func parseEtag(op dwell.Op, field, etag string) (int64, error) {
	if etag == "" {
		return 0, nil
	}
	rev, err := strconv.ParseInt(etag, 10, 64)
	if err != nil || rev < 0 || etagOf(rev) != etag {
		return 0, invalid(op, []dwell.Violation{{Field: field, Description: "is not an etag of this API; send the etag of the record as read, or none"}})
	}
	return rev, nil
}

// precondition returns the revision a masked update writes conditionally
// on: the one its request's etag names, else rev, the one it read; a read
// of a record never stored (settings) asks that none be stored yet.
func precondition(etag, rev int64) int64 {
	switch {
	case etag != 0:
		return etag
	case rev == 0:
		return dwell.RevisionAbsent
	}
	return rev
}

// written returns the revision a conditional write based on rev stored.
func written(rev int64) int64 { return max(rev, 0) + 1 }

// importChunk is how many imported rows are written per durable store call:
// large enough to amortise the fsync, small enough to bound memory.
const importChunk = 1000

// Bounds of an import's answer (ImportClients, ImportReps), so that it
// stays far below the 4 MiB a gRPC client accepts by default (a client
// that cannot receive the answer never learns what was stored) and the
// server's memory bounded, however many rows are bad and however bad each
// is: the answer lists the first maxImportErrors bad rows, while their
// errors take at most maxImportErrorBytes encoded; received - stored
// counts them all. A row lists its first maxRowFieldErrors violations,
// each field path and description cut to maxStatusMessageBytes, and one
// more, of an empty field, that counts the others (the validators
// themselves build a bounded number: dwell.ValidateGeofence).
const (
	maxImportErrors     = 1000
	maxImportErrorBytes = 1 << 20
	maxRowFieldErrors   = 10
)

// rowErrors is the error list of an import's answer: rows in row order,
// the first ones, within the bounds above.
type rowErrors struct {
	list []*dwellv1.ImportRowError
	// bytes is the encoded size of list in the answer.
	bytes int
	// full is set once a bad row was left out: no row after the last
	// listed one may be listed any more.
	full bool
}

// add lists the error of bad row row (name as sent, to identify it), in
// row order: a row refused by the store may come after later rows were
// listed. It is left out when the list is full before it.
func (e *rowErrors) add(row int64, name string, vs []dwell.Violation) {
	i, _ := slices.BinarySearchFunc(e.list, row, func(re *dwellv1.ImportRowError, row int64) int { return cmp.Compare(re.GetRow(), row) })
	if i == len(e.list) && (e.full || i >= maxImportErrors) {
		e.full = true
		return
	}
	re := rowError(row, name, vs)
	e.list = slices.Insert(e.list, i, re)
	e.bytes += entryBytes(re)
	for len(e.list) > maxImportErrors || e.bytes > maxImportErrorBytes {
		last := e.list[len(e.list)-1]
		e.list, e.bytes, e.full = e.list[:len(e.list)-1], e.bytes-entryBytes(last), true
	}
}

// entryBytes is the encoded size of re as an element of the answer's
// errors: its tag, length and body.
func entryBytes(re *dwellv1.ImportRowError) int {
	n := proto.Size(re)
	return 1 + protowire.SizeVarint(uint64(n)) + n
}

// rowError is the error of a bad imported row: the row's name, as sent
// (a valid one is far shorter than maxStatusMessageBytes), and its first
// maxRowFieldErrors violations, with one more that counts the others.
func rowError(row int64, name string, vs []dwell.Violation) *dwellv1.ImportRowError {
	re := &dwellv1.ImportRowError{Row: row, Name: truncateUTF8(name, maxStatusMessageBytes)}
	for _, v := range vs[:min(len(vs), maxRowFieldErrors)] {
		re.FieldErrors = append(re.FieldErrors, &dwellv1.FieldError{
			Field:       truncateUTF8(v.Field, maxStatusMessageBytes),
			Description: truncateUTF8(v.Description, maxStatusMessageBytes)})
	}
	if more := len(vs) - maxRowFieldErrors; more > 0 {
		re.FieldErrors = append(re.FieldErrors, &dwellv1.FieldError{
			Description: fmt.Sprintf("%d more violations of this row are not listed", more)})
	}
	return re
}

// maskPaths returns the set of fields an update of res changes, as
// AIP-134 has it: the mask's paths, each of which must be allowed; every
// allowed field for "*" (a whole replacement: a field res leaves empty is
// cleared); and for an empty mask the allowed fields that res populates (a
// scalar or enum that is not zero, a message that is set, a list that is
// not empty), so that a client that sends only what it changes never
// clears the rest. The onlyNamed fields change only when the mask names
// them, never through "*" or an empty mask (a client that predates one
// sends its zero value). An empty mask that populates nothing else changes
// nothing and is INVALID_ARGUMENT, as a client's mistake.
func maskPaths(op dwell.Op, m *fieldmaskpb.FieldMask, res proto.Message, allowed []string, onlyNamed ...string) (map[string]bool, error) {
	set := make(map[string]bool, len(allowed))
	paths := m.GetPaths()
	switch {
	case len(paths) == 1 && paths[0] == "*":
		for _, a := range allowed {
			if !slices.Contains(onlyNamed, a) {
				set[a] = true
			}
		}
		return set, nil
	case len(paths) == 0:
		msg := res.ProtoReflect()
		var named []string
		for _, a := range allowed {
			fd := msg.Descriptor().Fields().ByName(protoreflect.Name(a))
			if fd == nil {
				return nil, dwell.E(op, dwell.Other, fmt.Sprintf("%s has no field %q", msg.Descriptor().FullName(), a))
			}
			switch {
			case !msg.Has(fd):
			case slices.Contains(onlyNamed, a):
				named = append(named, a)
			default:
				set[a] = true
			}
		}
		switch {
		case len(set) > 0:
			return set, nil
		case len(named) > 0:
			return nil, invalid(op, []dwell.Violation{{Field: "update_mask", Description: "is empty and sets only " + strings.Join(named, ", ") +
				", which changes only when update_mask names it"}})
		}
		return nil, invalid(op, []dwell.Violation{{Field: "update_mask", Description: "is empty and the request sets none of the updatable fields (" +
			strings.Join(allowed, ", ") + "): nothing to change; name the fields to change, or \"*\" to replace them all"}})
	}
	var vs []dwell.Violation
	for _, p := range paths {
		if !slices.Contains(allowed, p) {
			vs = append(vs, dwell.Violation{Field: "update_mask", Description: "cannot update " + p + "; updatable: " + strings.Join(allowed, ", ")})
			continue
		}
		set[p] = true
	}
	return set, invalid(op, vs)
}

// callerAndID returns the authenticated caller and the id in the resource
// name field of a request: the opening of every handler that names one
// resource.
func callerAndID(ctx context.Context, op dwell.Op, coll, field, name string) (dwell.Principal, string, error) {
	p, err := principalFrom(ctx)
	if err != nil {
		return p, "", err
	}
	id, err := nameID(op, coll, field, name)
	return p, id, err
}

// nameID parses a resource name field of a request (see idFromName).
func nameID(op dwell.Op, coll, field, name string) (string, error) {
	id, vs := idFromName(coll, field, name)
	return id, invalid(op, vs)
}

// --- Clients ---

func (d *directoryService) CreateClient(ctx context.Context, req *dwellv1.CreateClientRequest) (*dwellv1.CreateClientResponse, error) {
	const op = dwell.Op("server.CreateClient")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	c := clientFromPB(req.GetClient())
	c.ID = dwell.ClientID(req.GetClientId())
	vs := dwell.ValidateID("client_id", req.GetClientId())
	if req.GetClient() == nil {
		vs = append(vs, dwell.Violation{Field: "client", Description: "is required"})
	} else {
		vs = append(vs, dwell.ValidateClient("client", c, false)...)
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	now := d.s.now().UTC()
	c.CreateTime, c.UpdateTime = now, now
	err = d.s.fences.write(ctx, p.Tenant,
		func() error { return d.s.store.CreateClient(ctx, p.Tenant, c) },
		func(ix *geofence.Index) error { return ix.Put(string(c.ID), c.Fence) })
	if err != nil {
		return nil, err
	}
	c.Revision = written(0)
	return &dwellv1.CreateClientResponse{Client: clientToPB(c)}, nil
}

func (d *directoryService) GetClient(ctx context.Context, req *dwellv1.GetClientRequest) (*dwellv1.GetClientResponse, error) {
	const op = dwell.Op("server.GetClient")
	p, id, err := callerAndID(ctx, op, collClients, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := d.s.store.GetClient(ctx, p.Tenant, dwell.ClientID(id))
	if err != nil {
		return nil, err
	}
	return &dwellv1.GetClientResponse{Client: clientToPB(c)}, nil
}

func (d *directoryService) UpdateClient(ctx context.Context, req *dwellv1.UpdateClientRequest) (*dwellv1.UpdateClientResponse, error) {
	const op = dwell.Op("server.UpdateClient")
	p, id, err := callerAndID(ctx, op, collClients, "client.name", req.GetClient().GetName())
	if err != nil {
		return nil, err
	}
	set, err := maskPaths(op, req.GetUpdateMask(), req.GetClient(), []string{"display_name", "kind", "address", "external_id", "geofence"})
	if err != nil {
		return nil, err
	}
	le, err := parseLifeEtag(op, "client.etag", req.GetClient().GetEtag())
	if err != nil {
		return nil, err
	}
	in := clientFromPB(req.GetClient())
	var cur dwell.Client
	defer d.updates.lock(p.Tenant)()
	err = updateMasked(ctx, op, req.GetClient().GetName(), le.rev, func() error {
		var err error
		if cur, err = d.s.store.GetClient(ctx, p.Tenant, dwell.ClientID(id)); err != nil {
			return err
		}
		if err := le.begin(&cur.Revision, cur.CreateTime); err != nil {
			return err
		}
		if set["display_name"] {
			cur.DisplayName = in.DisplayName
		}
		if set["kind"] {
			cur.Kind = in.Kind
		}
		if set["address"] {
			cur.Address = in.Address
		}
		if set["external_id"] {
			cur.ExternalID = in.ExternalID
		}
		if set["geofence"] {
			cur.Fence = in.Fence
		}
		if err := invalid(op, dwell.ValidateClient("client", cur, false)); err != nil {
			return err
		}
		cur.UpdateTime = d.s.now().UTC()
		// The index takes the client only once the store took it.
		return d.s.fences.write(ctx, p.Tenant,
			func() error { return d.s.store.UpdateClient(ctx, p.Tenant, cur) },
			func(ix *geofence.Index) error { return ix.Put(string(cur.ID), cur.Fence) })
	})
	if err != nil {
		return nil, err
	}
	cur.Revision = written(cur.Revision)
	return &dwellv1.UpdateClientResponse{Client: clientToPB(cur)}, nil
}

func (d *directoryService) DeleteClient(ctx context.Context, req *dwellv1.DeleteClientRequest) (*dwellv1.DeleteClientResponse, error) {
	const op = dwell.Op("server.DeleteClient")
	p, id, err := callerAndID(ctx, op, collClients, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	err = d.s.fences.write(ctx, p.Tenant,
		func() error { return d.s.store.DeleteClient(ctx, p.Tenant, dwell.ClientID(id)) },
		func(ix *geofence.Index) error { ix.Delete(id); return nil })
	if err != nil {
		return nil, err
	}
	return &dwellv1.DeleteClientResponse{}, nil
}

func (d *directoryService) ListClients(ctx context.Context, req *dwellv1.ListClientsRequest) (*dwellv1.ListClientsResponse, error) {
	const op = dwell.Op("server.ListClients")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	kind := dwell.ClientKind(req.GetKind())
	var vs []dwell.Violation
	if kind < 0 || kind > dwell.ClientKindCustomer {
		vs = append(vs, dwell.Violation{Field: "kind", Description: "unknown client kind"})
	}
	cs, next, err := listPage(op, p.Tenant, "clients", req.GetKind().String(), req.GetPageSize(), req.GetPageToken(), vs,
		func(pg store.Page) ([]dwell.Client, bool, error) {
			return d.s.store.ListClients(ctx, p.Tenant, store.ClientFilter{Kind: kind}, pg)
		}, func(c dwell.Client) string { return string(c.ID) })
	if err != nil {
		return nil, err
	}
	resp := &dwellv1.ListClientsResponse{Clients: make([]*dwellv1.Client, len(cs)), NextPageToken: next}
	for i, c := range cs {
		resp.Clients[i] = clientToPB(c)
	}
	return resp, nil
}

// ImportClients reads rows until the client closes its side, validates each
// row on its own, stores good rows in durable chunks and answers once with
// the per-row errors (the first ones: rowErrors). A store failure aborts the import: rows stored before
// it stay stored (each chunk is durable), which the error message says.
func (d *directoryService) ImportClients(stream dwellv1.DirectoryService_ImportClientsServer) error {
	const op = dwell.Op("server.ImportClients")
	ctx := stream.Context()
	p, err := principalFrom(ctx)
	if err != nil {
		return err
	}
	resp := &dwellv1.ImportClientsResponse{}
	var errs rowErrors
	var pending []dwell.Client
	// durable is the first row not stored by a flush yet: every good row
	// before it is durable, none from it on.
	var durable int64
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		fs := make([]geofence.Fence, len(pending))
		for i, c := range pending {
			fs[i] = geofence.Fence{ID: string(c.ID), Geofence: c.Fence}
		}
		// Rows replace clients whole and raise their revisions, so a
		// masked update that read one before finds it changed and
		// applies its fields to the row (updateMasked); on this server
		// they queue with them.
		unlock := d.updates.lock(p.Tenant)
		err := d.s.fences.write(ctx, p.Tenant,
			func() error { return d.s.store.PutClients(ctx, p.Tenant, pending) },
			func(ix *geofence.Index) error { return ix.PutAll(fs) })
		unlock()
		if err != nil {
			return dwell.E(op, fmt.Sprintf("import stopped at row %d: the %d rows stored before it stay stored, none from it on is stored",
				durable, resp.Stored), err)
		}
		resp.Stored += int64(len(pending))
		durable = resp.Received
		pending = pending[:0]
		return nil
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		now := d.s.now().UTC()
		for _, pc := range msg.GetClients() {
			row := resp.Received
			resp.Received++
			c := clientFromPB(pc)
			id, vs := idFromName(collClients, "name", pc.GetName())
			c.ID = dwell.ClientID(id)
			vs = append(vs, dwell.ValidateClient("", c, false)...)
			if len(vs) > 0 {
				errs.add(row, pc.GetName(), vs)
				continue
			}
			c.CreateTime, c.UpdateTime = now, now
			pending = append(pending, c)
			if len(pending) >= importChunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	resp.Errors = errs.list
	return stream.SendAndClose(resp)
}

// --- Reps ---

// repTeam parses and checks the team reference of a rep.
func (d *directoryService) repTeam(ctx context.Context, tenant dwell.TenantID, field, name string) (dwell.TeamID, []dwell.Violation, error) {
	if name == "" {
		return "", nil, nil
	}
	id, vs := idFromName(collTeams, field, name)
	if vs != nil {
		return "", vs, nil
	}
	if _, err := d.s.store.GetTeam(ctx, tenant, dwell.TeamID(id)); err != nil {
		if dwell.Is(dwell.NotFound, err) {
			return "", []dwell.Violation{noTeam(field, dwell.TeamID(id))}, nil
		}
		return "", nil, err
	}
	return dwell.TeamID(id), nil, nil
}

// noTeam is the violation of a rep's team reference (at field) to team,
// which does not exist.
func noTeam(field string, team dwell.TeamID) dwell.Violation {
	return dwell.Violation{Field: field, Description: "team " + string(team) + " does not exist"}
}

// teamGone returns err, the failure of a store write of rep r, as the
// check of repTeam answers a team that does not exist (a violation at
// field) when the store refused r because its team is gone: deleted
// after that check (store.Store.CreateRep), so the caller sees the same
// answer either way. Any other err is returned as it is.
func teamGone(op dwell.Op, field string, r dwell.Rep, err error) error {
	if !noTeamRefusal(r, err) {
		return err
	}
	return invalid(op, []dwell.Violation{noTeam(field, r.Team)})
}

// noTeamRefusal reports whether err is the store's refusal of a write of
// rep r because r's team does not exist: dwell.Invalid on field "team".
func noTeamRefusal(r dwell.Rep, err error) bool {
	if r.Team == "" || !dwell.Is(dwell.Invalid, err) {
		return false
	}
	vs := dwell.ViolationsOf(err)
	return len(vs) == 1 && vs[0].Field == "team"
}

func (d *directoryService) CreateRep(ctx context.Context, req *dwellv1.CreateRepRequest) (*dwellv1.CreateRepResponse, error) {
	const op = dwell.Op("server.CreateRep")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	r := repFromPB(req.GetRep())
	r.ID = dwell.RepID(req.GetRepId())
	vs := dwell.ValidateID("rep_id", req.GetRepId())
	if req.GetRep() == nil {
		vs = append(vs, dwell.Violation{Field: "rep", Description: "is required"})
	} else {
		vs = append(vs, dwell.ValidateRep("rep", r, false)...)
		team, tvs, err := d.repTeam(ctx, p.Tenant, "rep.team", req.GetRep().GetTeam())
		if err != nil {
			return nil, err
		}
		r.Team, vs = team, append(vs, tvs...)
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	now := d.s.now().UTC()
	r.CreateTime, r.UpdateTime = now, now
	if err := d.s.store.CreateRep(ctx, p.Tenant, r); err != nil {
		return nil, teamGone(op, "rep.team", r, err)
	}
	r.Revision = written(0)
	return &dwellv1.CreateRepResponse{Rep: repToPB(r)}, nil
}

func (d *directoryService) GetRep(ctx context.Context, req *dwellv1.GetRepRequest) (*dwellv1.GetRepResponse, error) {
	const op = dwell.Op("server.GetRep")
	p, id, err := callerAndID(ctx, op, collReps, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	if err := d.s.canReadRep(ctx, op, p, dwell.RepID(id)); err != nil {
		return nil, err
	}
	r, err := d.s.store.GetRep(ctx, p.Tenant, dwell.RepID(id))
	if err != nil {
		return nil, err
	}
	return &dwellv1.GetRepResponse{Rep: repToPB(r)}, nil
}

func (d *directoryService) UpdateRep(ctx context.Context, req *dwellv1.UpdateRepRequest) (*dwellv1.UpdateRepResponse, error) {
	const op = dwell.Op("server.UpdateRep")
	p, id, err := callerAndID(ctx, op, collReps, "rep.name", req.GetRep().GetName())
	if err != nil {
		return nil, err
	}
	set, err := maskPaths(op, req.GetUpdateMask(), req.GetRep(), []string{"display_name", "email", "time_zone", "team", "working_hours"})
	if err != nil {
		return nil, err
	}
	le, err := parseLifeEtag(op, "rep.etag", req.GetRep().GetEtag())
	if err != nil {
		return nil, err
	}
	in := repFromPB(req.GetRep())
	var cur dwell.Rep
	defer d.updates.lock(p.Tenant)()
	err = updateMasked(ctx, op, req.GetRep().GetName(), le.rev, func() error {
		var err error
		if cur, err = d.s.store.GetRep(ctx, p.Tenant, dwell.RepID(id)); err != nil {
			return err
		}
		if err := le.begin(&cur.Revision, cur.CreateTime); err != nil {
			return err
		}
		var vs []dwell.Violation
		if set["display_name"] {
			cur.DisplayName = in.DisplayName
		}
		if set["email"] {
			cur.Email = in.Email
		}
		if set["time_zone"] {
			cur.TimeZone = in.TimeZone
		}
		if set["working_hours"] {
			cur.WorkingHours = in.WorkingHours
		}
		if set["team"] {
			team, tvs, err := d.repTeam(ctx, p.Tenant, "rep.team", req.GetRep().GetTeam())
			if err != nil {
				return err
			}
			cur.Team, vs = team, tvs
		}
		vs = append(vs, dwell.ValidateRep("rep", cur, false)...)
		if err := invalid(op, vs); err != nil {
			return err
		}
		cur.UpdateTime = d.s.now().UTC()
		return teamGone(op, "rep.team", cur, d.s.store.UpdateRep(ctx, p.Tenant, cur))
	})
	if err != nil {
		return nil, err
	}
	cur.Revision = written(cur.Revision)
	return &dwellv1.UpdateRepResponse{Rep: repToPB(cur)}, nil
}

func (d *directoryService) DeleteRep(ctx context.Context, req *dwellv1.DeleteRepRequest) (*dwellv1.DeleteRepResponse, error) {
	const op = dwell.Op("server.DeleteRep")
	p, id, err := callerAndID(ctx, op, collReps, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	if err := d.s.store.DeleteRep(ctx, p.Tenant, dwell.RepID(id)); err != nil {
		return nil, err
	}
	return &dwellv1.DeleteRepResponse{}, nil
}

func (d *directoryService) ListReps(ctx context.Context, req *dwellv1.ListRepsRequest) (*dwellv1.ListRepsResponse, error) {
	const op = dwell.Op("server.ListReps")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var team dwell.TeamID
	if req.GetTeam() != "" {
		id, err := nameID(op, collTeams, "team", req.GetTeam())
		if err != nil {
			return nil, err
		}
		team = dwell.TeamID(id)
	}
	if p.Role == dwell.RoleManager {
		ok := false
		if team != "" {
			if ok, err = d.s.managesTeam(ctx, p, team); err != nil {
				return nil, err
			}
		}
		if !ok {
			return nil, d.s.deny(ctx, op, p, req.GetTeam(), "a manager lists only the reps of a team it manages; name it in team")
		}
	}
	rs, next, err := listPage(op, p.Tenant, "reps", string(team), req.GetPageSize(), req.GetPageToken(), nil,
		func(pg store.Page) ([]dwell.Rep, bool, error) {
			return d.s.store.ListReps(ctx, p.Tenant, store.RepFilter{Team: team}, pg)
		}, func(r dwell.Rep) string { return string(r.ID) })
	if err != nil {
		return nil, err
	}
	resp := &dwellv1.ListRepsResponse{Reps: make([]*dwellv1.Rep, len(rs)), NextPageToken: next}
	for i, r := range rs {
		resp.Reps[i] = repToPB(r)
	}
	return resp, nil
}

// --- Teams ---

func (d *directoryService) CreateTeam(ctx context.Context, req *dwellv1.CreateTeamRequest) (*dwellv1.CreateTeamResponse, error) {
	const op = dwell.Op("server.CreateTeam")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	t := teamFromPB(req.GetTeam())
	t.ID = dwell.TeamID(req.GetTeamId())
	vs := dwell.ValidateID("team_id", req.GetTeamId())
	if req.GetTeam() == nil {
		vs = append(vs, dwell.Violation{Field: "team", Description: "is required"})
	} else {
		vs = append(vs, dwell.ValidateTeam("team", t, false)...)
	}
	if err := invalid(op, vs); err != nil {
		return nil, err
	}
	now := d.s.now().UTC()
	t.CreateTime, t.UpdateTime = now, now
	err = d.s.store.CreateTeam(ctx, p.Tenant, t)
	d.s.teamGens.bump(p.Tenant)
	if err != nil {
		return nil, err
	}
	t.Revision = written(0)
	return &dwellv1.CreateTeamResponse{Team: teamToPB(t)}, nil
}

func (d *directoryService) GetTeam(ctx context.Context, req *dwellv1.GetTeamRequest) (*dwellv1.GetTeamResponse, error) {
	const op = dwell.Op("server.GetTeam")
	p, id, err := callerAndID(ctx, op, collTeams, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	switch p.Role {
	case dwell.RoleManager:
		ok, err := d.s.managesTeam(ctx, p, dwell.TeamID(id))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, d.s.deny(ctx, op, p, req.GetName(), "a manager reads only its teams")
		}
	case dwell.RoleRep:
		r, err := d.s.store.GetRep(ctx, p.Tenant, dwell.RepID(p.Subject))
		if err != nil && !dwell.Is(dwell.NotFound, err) {
			return nil, err
		}
		if err != nil || string(r.Team) != id {
			return nil, d.s.deny(ctx, op, p, req.GetName(), "a rep reads only its own team")
		}
	}
	t, err := d.s.store.GetTeam(ctx, p.Tenant, dwell.TeamID(id))
	if err != nil {
		return nil, err
	}
	return &dwellv1.GetTeamResponse{Team: teamToPB(t)}, nil
}

func (d *directoryService) UpdateTeam(ctx context.Context, req *dwellv1.UpdateTeamRequest) (*dwellv1.UpdateTeamResponse, error) {
	const op = dwell.Op("server.UpdateTeam")
	p, id, err := callerAndID(ctx, op, collTeams, "team.name", req.GetTeam().GetName())
	if err != nil {
		return nil, err
	}
	set, err := maskPaths(op, req.GetUpdateMask(), req.GetTeam(), []string{"display_name", "managers"})
	if err != nil {
		return nil, err
	}
	le, err := parseLifeEtag(op, "team.etag", req.GetTeam().GetEtag())
	if err != nil {
		return nil, err
	}
	in := teamFromPB(req.GetTeam())
	var cur dwell.Team
	defer d.updates.lock(p.Tenant)()
	err = updateMasked(ctx, op, req.GetTeam().GetName(), le.rev, func() error {
		var err error
		if cur, err = d.s.store.GetTeam(ctx, p.Tenant, dwell.TeamID(id)); err != nil {
			return err
		}
		if err := le.begin(&cur.Revision, cur.CreateTime); err != nil {
			return err
		}
		if set["display_name"] {
			cur.DisplayName = in.DisplayName
		}
		if set["managers"] {
			cur.Managers = in.Managers
		}
		if err := invalid(op, dwell.ValidateTeam("team", cur, false)); err != nil {
			return err
		}
		cur.UpdateTime = d.s.now().UTC()
		// Bumped after the write, failed or not (it may have been
		// stored): the manager streams of the tenant read their teams
		// again before their next event (watch.go, "Scope").
		defer d.s.teamGens.bump(p.Tenant)
		return d.s.store.UpdateTeam(ctx, p.Tenant, cur)
	})
	if err != nil {
		return nil, err
	}
	cur.Revision = written(cur.Revision)
	return &dwellv1.UpdateTeamResponse{Team: teamToPB(cur)}, nil
}

func (d *directoryService) DeleteTeam(ctx context.Context, req *dwellv1.DeleteTeamRequest) (*dwellv1.DeleteTeamResponse, error) {
	const op = dwell.Op("server.DeleteTeam")
	p, id, err := callerAndID(ctx, op, collTeams, "name", req.GetName())
	if err != nil {
		return nil, err
	}
	err = d.s.store.DeleteTeam(ctx, p.Tenant, dwell.TeamID(id))
	d.s.teamGens.bump(p.Tenant)
	if err != nil {
		return nil, err
	}
	return &dwellv1.DeleteTeamResponse{}, nil
}

func (d *directoryService) ListTeams(ctx context.Context, req *dwellv1.ListTeamsRequest) (*dwellv1.ListTeamsResponse, error) {
	const op = dwell.Op("server.ListTeams")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var f store.TeamFilter
	if p.Role == dwell.RoleManager {
		f.Manager = p.Subject
	}
	ts, next, err := listPage(op, p.Tenant, "teams", f.Manager, req.GetPageSize(), req.GetPageToken(), nil,
		func(pg store.Page) ([]dwell.Team, bool, error) { return d.s.store.ListTeams(ctx, p.Tenant, f, pg) },
		func(t dwell.Team) string { return string(t.ID) })
	if err != nil {
		return nil, err
	}
	resp := &dwellv1.ListTeamsResponse{Teams: make([]*dwellv1.Team, len(ts)), NextPageToken: next}
	for i, t := range ts {
		resp.Teams[i] = teamToPB(t)
	}
	return resp, nil
}

// --- Settings ---

func (d *directoryService) GetSettings(ctx context.Context, req *dwellv1.GetSettingsRequest) (*dwellv1.GetSettingsResponse, error) {
	const op = dwell.Op("server.GetSettings")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if n := req.GetName(); n != "" && n != "settings" {
		return nil, invalid(op, []dwell.Violation{{Field: "name", Description: `must be "settings"`}})
	}
	st, err := d.s.store.GetSettings(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	return &dwellv1.GetSettingsResponse{Settings: settingsToPB(st)}, nil
}

func (d *directoryService) UpdateSettings(ctx context.Context, req *dwellv1.UpdateSettingsRequest) (*dwellv1.UpdateSettingsResponse, error) {
	const op = dwell.Op("server.UpdateSettings")
	p, err := principalFrom(ctx)
	if err != nil {
		return nil, err
	}
	set, err := maskPaths(op, req.GetUpdateMask(), req.GetSettings(),
		[]string{"retention_days", "visit_min_seconds", "idle_min_seconds", "silence_min_seconds", "partner_accounts_required"},
		// A full update from a client that predates the field sends false.
		"partner_accounts_required")
	if err != nil {
		return nil, err
	}
	etag, err := settingsEtagRevision(op, "settings.etag", req.GetSettings().GetEtag())
	if err != nil {
		return nil, err
	}
	in := req.GetSettings()
	partnersNamed := set["partner_accounts_required"] // only when the mask names it (maskPaths)
	var st dwell.Settings
	defer d.updates.lock(p.Tenant)()
	err = updateMasked(ctx, op, "settings", etag, func() error {
		var err error
		if st, err = d.s.store.GetSettings(ctx, p.Tenant); err != nil {
			return err
		}
		st.Revision = precondition(etag, st.Revision)
		var vs []dwell.Violation
		check := func(field string, v, lo, hi int32, unit string) bool {
			if v < lo || v > hi {
				vs = append(vs, dwell.Violation{Field: "settings." + field, Description: "must be between " + itoa(int64(lo)) + " and " + itoa(int64(hi)) + " " + unit})
				return false
			}
			return true
		}
		if set["retention_days"] && check("retention_days", in.GetRetentionDays(), 1, 3650, "days") {
			st.Retention = time.Duration(in.GetRetentionDays()) * 24 * time.Hour
		}
		if set["visit_min_seconds"] && check("visit_min_seconds", in.GetVisitMinSeconds(), 60, 7200, "seconds") {
			st.VisitMin = time.Duration(in.GetVisitMinSeconds()) * time.Second
		}
		if set["idle_min_seconds"] && check("idle_min_seconds", in.GetIdleMinSeconds(), 60, 7200, "seconds") {
			st.IdleMin = time.Duration(in.GetIdleMinSeconds()) * time.Second
		}
		// A full update from a client that predates silence_min_seconds
		// sends 0 for it: that keeps the current threshold.
		if silence := in.GetSilenceMinSeconds(); set["silence_min_seconds"] && (silence != 0 || slices.Contains(req.GetUpdateMask().GetPaths(), "silence_min_seconds")) {
			d := time.Duration(silence) * time.Second
			if v := dwell.ValidateSilenceMin("settings.silence_min_seconds", d); v != nil {
				vs = append(vs, v...)
			} else {
				st.SilenceMin = d
			}
		}
		if partnersNamed {
			st.PartnerAccountsRequired = in.GetPartnerAccountsRequired()
		}
		if err := invalid(op, vs); err != nil {
			return err
		}
		put := func() error { return d.s.store.PutSettings(ctx, p.Tenant, st) }
		if partnersNamed {
			// Through the partner cache, which holds the setting for
			// every call's check.
			return d.s.partners.putSettings(ctx, p.Tenant, put)
		}
		return put()
	})
	if err != nil {
		return nil, err
	}
	st.Revision = written(st.Revision)
	return &dwellv1.UpdateSettingsResponse{Settings: settingsToPB(st)}, nil
}
