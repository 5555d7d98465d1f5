package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// importRepWorkers is how many rows of an ImportReps chunk are written at
// once. Each row is its own store write (CreateRep or UpdateRep, which
// keep their side effects: a new zone or new hours mark the rep's days),
// so the writes of a chunk ride the store's group commit together instead
// of paying an fsync each.
const importRepWorkers = 32

// ImportReps reads rows until the client closes its side, validates each
// row on its own (its team must exist), and stores the good rows chunk by
// chunk: each creates its rep, or replaces it whole as an UpdateRep of
// every field would, keeping its create_time, conditionally on the rep
// as read (putRep). A later row for an id
// already pending replaces the earlier one, which is stored with it or,
// when the store refuses the later row (its team deleted since its
// check), reported not stored with it. It answers once with the
// per-row errors (the first ones: rowErrors). A store failure aborts the
// import; the error says which rows are stored.
func (d *directoryService) ImportReps(stream dwellv1.DirectoryService_ImportRepsServer) error {
	const op = dwell.Op("server.ImportReps")
	ctx := stream.Context()
	p, err := principalFrom(ctx)
	if err != nil {
		return err
	}
	resp := &dwellv1.ImportRepsResponse{}
	var errs rowErrors
	// teams memoises the check of each team a row names.
	type teamCheck struct {
		id dwell.TeamID
		vs []dwell.Violation
	}
	teams := map[string]teamCheck{}
	var pending []dwell.Rep
	var rowOf []int64 // the row of each pending rep
	// earlier holds, per pending rep, the earlier rows of its id that its
	// row replaced: stored with it, or refused with it.
	var earlier [][]int64
	at := map[dwell.RepID]int{} // pending index of each id
	rows := int64(0)            // good rows pending
	// durable is the first row not stored by a flush yet.
	var durable int64
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		// Rows replace reps whole and raise their revisions, so a masked
		// update that read one before applies its fields to the row
		// (updateMasked); on this server they queue with them.
		unlock := d.updates.lock(p.Tenant)
		created, gone, err := d.putReps(ctx, p.Tenant, pending)
		unlock()
		if err != nil {
			return dwell.E(op, fmt.Sprintf("import stopped in rows %d to %d: the %d rows stored before them stay stored, none after them is stored, and some of them may be",
				durable, resp.Received-1, resp.Stored), err)
		}
		// A row whose team was deleted after its check is answered as if
		// the check had found it missing.
		for _, i := range gone {
			r := pending[i]
			teams[collTeams+"/"+string(r.Team)] = teamCheck{vs: []dwell.Violation{noTeam("team", r.Team)}}
			name := collReps + "/" + string(r.ID)
			errs.add(rowOf[i], name, []dwell.Violation{noTeam("team", r.Team)})
			for _, e := range earlier[i] {
				errs.add(e, name, []dwell.Violation{{Field: "name",
					Description: fmt.Sprintf("not stored: row %d, a later row for the same rep, replaced it and was refused (team %s does not exist)", rowOf[i], r.Team)}})
			}
			rows -= int64(1 + len(earlier[i]))
		}
		resp.Stored += rows
		resp.Created += int64(created)
		durable = resp.Received
		pending, rowOf, earlier, rows = pending[:0], rowOf[:0], earlier[:0], 0
		clear(at)
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
		for _, pr := range msg.GetReps() {
			row := resp.Received
			resp.Received++
			r := repFromPB(pr)
			id, vs := idFromName(collReps, "name", pr.GetName())
			r.ID = dwell.RepID(id)
			vs = append(vs, dwell.ValidateRep("", r, false)...)
			if name := pr.GetTeam(); name != "" {
				tc, ok := teams[name]
				if !ok {
					if tc.id, tc.vs, err = d.repTeam(ctx, p.Tenant, "team", name); err != nil {
						return err
					}
					teams[name] = tc
				}
				r.Team, vs = tc.id, append(vs, tc.vs...)
			}
			if len(vs) > 0 {
				errs.add(row, pr.GetName(), vs)
				continue
			}
			rows++
			if i, ok := at[r.ID]; ok {
				earlier[i] = append(earlier[i], rowOf[i])
				pending[i], rowOf[i] = r, row
				continue
			}
			at[r.ID] = len(pending)
			pending, rowOf, earlier = append(pending, r), append(rowOf, row), append(earlier, nil)
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

// putReps stores reps of distinct ids, each created or replaced, up to
// importRepWorkers at a time, and returns how many it created and the
// indexes in rs of those the store refused because their team is gone
// (noTeamRefusal), in order. On another error it returns the first; the
// other rows may or may not be stored.
func (d *directoryService) putReps(ctx context.Context, tenant dwell.TenantID, rs []dwell.Rep) (int, []int, error) {
	now := d.s.now().UTC()
	var (
		mu       sync.Mutex
		created  int
		gone     []int
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan int)
	for range min(importRepWorkers, len(rs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := d.putRep(ctx, tenant, rs[i], now)
				mu.Lock()
				if c {
					created++
				}
				if noTeamRefusal(rs[i], err) {
					gone, err = append(gone, i), nil
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range rs {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	slices.Sort(gone)
	return created, gone, firstErr
}

// putRep creates r, or replaces the rep of its id keeping its create_time,
// and reports whether it created it. A row replaces the rep whole, so r
// carries no revision of its own, but the replace is conditional on the
// rep as putRep read it: its revision and its life, the create_time read
// (store.CheckLife), which the store compares in the write's own atomic
// step. Unconditional, a rep deleted and created again by another call
// between the read and the write would be written over with the deleted
// rep's create_time, and its etag (lifeEtagOf) would name a life that no
// longer exists. The replace raises the revision, so a masked update that
// read the rep before applies its fields to the row rather than write
// the old ones back. A rep created, deleted or written by another call
// between the read and the write is read and written again: at once for
// a create or a delete, after retryPause for a write (dwell.Conflict), up
// to maxUpdateTries in all.
func (d *directoryService) putRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep, now time.Time) (bool, error) {
	const op = dwell.Op("server.ImportReps")
	conflicts := 0
	for range maxUpdateTries {
		cur, err := d.s.store.GetRep(ctx, tenant, r.ID)
		switch {
		case err == nil:
			r.Revision, r.CreateTime, r.UpdateTime = cur.Revision, cur.CreateTime, now
			err = d.s.store.UpdateRep(ctx, tenant, r)
			if dwell.Is(dwell.Conflict, err) {
				if err := retryPause(ctx, op, conflicts); err != nil {
					return false, err
				}
				conflicts++
				continue
			}
			if !dwell.Is(dwell.NotFound, err) {
				return false, err
			}
		case dwell.Is(dwell.NotFound, err):
			r.Revision, r.CreateTime, r.UpdateTime = 0, now, now
			if err = d.s.store.CreateRep(ctx, tenant, r); !dwell.Is(dwell.AlreadyExists, err) {
				return err == nil, err
			}
		default:
			return false, err
		}
	}
	if conflicts > 0 {
		return false, dwell.E(op, dwell.Conflict, fmt.Sprintf("rep %s changed under this import %d times in a row (written, created or deleted by other calls); import it again", r.ID, maxUpdateTries))
	}
	return false, dwell.E(op, dwell.FailedPrecondition, dwell.ReasonConcurrentDelete, fmt.Sprintf("rep %s was created and deleted concurrently; import it again", r.ID))
}
