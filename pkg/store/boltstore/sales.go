package boltstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// The sales inputs (store.Sales), in tenant buckets:
//
//	appointments        appointment id -> version byte + JSON record
//	appointments.byrep  rep-day-style rep prefix + time key of planned start + id -> empty
//	appointments.req    request id -> appointment id
//	opportunities       opportunity id -> version byte + JSON record
//	opportunities.byrep rep prefix + opportunity id -> empty
//	quotas              rep-day key of (rep, start day) -> version byte + JSON record; a rep's periods never overlap (PutQuotas)
//	sales.req           "o/" or "q/" + request id -> SHA-256 of the batch (idempotent upserts; empty before it was kept)
var (
	bktAppointments     = []byte("appointments")
	bktAppointmentsRep  = []byte("appointments.byrep")
	bktAppointmentsReqs = []byte("appointments.req")
	bktOpportunities    = []byte("opportunities")
	bktOpportunitiesRep = []byte("opportunities.byrep")
	bktQuotas           = []byte("quotas")
	bktSalesReqs        = []byte("sales.req")
)

type appointmentRec struct {
	Rep          string    `json:"r"`
	Client       string    `json:"c"`
	PlannedStart time.Time `json:"ps"`
	PlannedEnd   time.Time `json:"pe"`
	RequestID    string    `json:"rid,omitempty"`
	CreateTime   time.Time `json:"ct"`
}

func toAppointmentRec(a *dwell.Appointment) appointmentRec {
	return appointmentRec{Rep: string(a.Rep), Client: string(a.Client), PlannedStart: a.PlannedStart.UTC(),
		PlannedEnd: a.PlannedEnd.UTC(), RequestID: a.RequestID, CreateTime: a.CreateTime.UTC()}
}

func (r *appointmentRec) domain(id string) dwell.Appointment {
	return dwell.Appointment{ID: dwell.AppointmentID(id), Rep: dwell.RepID(r.Rep), Client: dwell.ClientID(r.Client),
		PlannedStart: r.PlannedStart.UTC(), PlannedEnd: r.PlannedEnd.UTC(), RequestID: r.RequestID, CreateTime: r.CreateTime.UTC()}
}

type moneyRec struct {
	Currency string `json:"cur"`
	Minor    int64  `json:"amt"`
}

type opportunityRec struct {
	Rep        string    `json:"r"`
	Client     string    `json:"c"`
	Stage      int       `json:"s"`
	Amount     moneyRec  `json:"a"`
	OpenTime   time.Time `json:"ot"`
	CloseTime  time.Time `json:"cl,omitzero"`
	ExternalID string    `json:"x,omitempty"`
	Rev        int64     `json:"rev,omitempty"` // as clientRec.Rev
}

func toOpportunityRec(o *dwell.Opportunity) opportunityRec {
	r := opportunityRec{Rep: string(o.Rep), Client: string(o.Client), Stage: int(o.Stage),
		Amount: moneyRec{o.Amount.Currency, o.Amount.AmountMinor}, OpenTime: o.OpenTime.UTC(), ExternalID: o.ExternalID}
	if !o.CloseTime.IsZero() {
		r.CloseTime = o.CloseTime.UTC()
	}
	return r
}

func (r *opportunityRec) domain(id string) dwell.Opportunity {
	o := dwell.Opportunity{ID: dwell.OpportunityID(id), Rep: dwell.RepID(r.Rep), Client: dwell.ClientID(r.Client),
		Stage: dwell.OpportunityStage(r.Stage), Amount: dwell.Money{Currency: r.Amount.Currency, AmountMinor: r.Amount.Minor},
		OpenTime: r.OpenTime.UTC(), ExternalID: r.ExternalID, Revision: storedRevision(r.Rev)}
	if !r.CloseTime.IsZero() {
		o.CloseTime = r.CloseTime.UTC()
	}
	return o
}

type quotaRec struct {
	Start  dateRec  `json:"s"`
	End    dateRec  `json:"e"`
	Target moneyRec `json:"t"`
}

func toDateRec(d dwell.Date) dateRec { return dateRec{d.Year, int(d.Month), d.Day} }
func (r dateRec) domain() dwell.Date {
	return dwell.Date{Year: r.Year, Month: time.Month(r.Month), Day: r.Day}
}

// repPrefix is the rep part of rep-day keys.
func repPrefix(rep dwell.RepID) []byte { return append([]byte{byte(len(rep))}, rep...) }

// appointmentRepKey is the key of an appointment in appointments.byrep.
func appointmentRepKey(a *dwell.Appointment) []byte {
	k := repPrefix(a.Rep)
	return append(append(k, timeKey(a.PlannedStart)...), a.ID...)
}

// CreateAppointment implements store.Sales.
func (s *Store) CreateAppointment(ctx context.Context, tenant dwell.TenantID, a dwell.Appointment) (dwell.Appointment, bool, error) {
	const op = dwell.Op("boltstore.CreateAppointment")
	if err := checkTenantID(op, tenant, "appointment_id", string(a.ID)); err != nil {
		return a, false, err
	}
	if err := checkID(op, "appointment.rep", string(a.Rep)); err != nil {
		return a, false, err
	}
	if !keyTimeOK(a.PlannedStart) || len(a.RequestID) > maxRequestIDBytes {
		return a, false, dwell.E(op, dwell.Invalid, "planned start or request id out of range")
	}
	val, err := encodeJSON(op, toAppointmentRec(&a))
	if err != nil {
		return a, false, err
	}
	var prev *dwell.Appointment
	err = s.write(ctx, op, 1, func(t *txn) error {
		prev = nil
		id, v, err := t.createOnce(tenant, bktAppointments, bktAppointmentsReqs, "appointment", string(a.ID), a.RequestID, val, func(v []byte) (string, error) {
			var r appointmentRec
			err := decodeJSON(op, "appointment", v, &r)
			return r.RequestID, err
		}, func() error {
			byRep, err := t.tenantSub(tenant, bktAppointmentsRep, true)
			if err != nil {
				return err
			}
			return byRep.Put(appointmentRepKey(&a), nil)
		})
		if err != nil || v == nil {
			return err
		}
		var r appointmentRec
		if err := decodeJSON(op, "appointment", v, &r); err != nil {
			return err
		}
		p := r.domain(string(id))
		prev = &p
		return nil
	})
	switch {
	case err != nil:
		return dwell.Appointment{}, false, err
	case prev != nil:
		return *prev, true, nil
	}
	a.PlannedStart, a.PlannedEnd, a.CreateTime = a.PlannedStart.UTC(), a.PlannedEnd.UTC(), a.CreateTime.UTC()
	return a, false, nil
}

// GetAppointment implements store.Sales.
func (s *Store) GetAppointment(ctx context.Context, tenant dwell.TenantID, id dwell.AppointmentID) (dwell.Appointment, error) {
	return getOne(ctx, s, "boltstore.GetAppointment", tenant, bktAppointments, "appointment", string(id), func(k, v []byte) (dwell.Appointment, error) {
		var r appointmentRec
		if err := decodeJSON("boltstore.GetAppointment", "appointment", v, &r); err != nil {
			return dwell.Appointment{}, err
		}
		return r.domain(string(k)), nil
	})
}

// DeleteAppointment implements store.Sales. The request id that created
// the appointment stays spent.
func (s *Store) DeleteAppointment(ctx context.Context, tenant dwell.TenantID, id dwell.AppointmentID) error {
	const op = dwell.Op("boltstore.DeleteAppointment")
	if err := checkTenantID(op, tenant, "name", string(id)); err != nil {
		return err
	}
	return s.write(ctx, op, 1, func(t *txn) error {
		all, err := t.tenantSub(tenant, bktAppointments, false)
		if err != nil {
			return err
		}
		var v []byte
		if all != nil {
			v = all.Get([]byte(id))
		}
		if v == nil {
			return notFound("appointment", string(id))
		}
		var r appointmentRec
		if err := decodeJSON(op, "appointment", v, &r); err != nil {
			return err
		}
		a := r.domain(string(id))
		byRep, err := t.tenantSub(tenant, bktAppointmentsRep, true)
		if err != nil {
			return err
		}
		if err := byRep.Delete(appointmentRepKey(&a)); err != nil {
			return err
		}
		return all.Delete([]byte(id))
	})
}

// ListAppointments implements store.Sales.
func (s *Store) ListAppointments(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Appointment, error) {
	const op = dwell.Op("boltstore.ListAppointments")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return nil, err
	}
	out := []dwell.Appointment{}
	if !from.Before(to) {
		return out, nil
	}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		var err error
		out, err = appendAppointments(op, tx, tenant, rep, from, to, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appendAppointments appends rep's appointments with from <= PlannedStart
// < to, by planned start, to out.
func appendAppointments(op dwell.Op, tx *bolt.Tx, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time, out []dwell.Appointment) ([]dwell.Appointment, error) {
	if !from.Before(to) {
		return out, nil
	}
	byRep := readTenantSub(tx, tenant, bktAppointmentsRep)
	all := readTenantSub(tx, tenant, bktAppointments)
	if byRep == nil || all == nil {
		return out, nil
	}
	prefix := repPrefix(rep)
	lo, hi := append(bytes.Clone(prefix), timeKey(from)...), append(bytes.Clone(prefix), timeKey(to)...)
	c := byRep.Cursor()
	for k, _ := c.Seek(lo); k != nil && bytes.Compare(k[:min(len(k), len(hi))], hi) < 0; k, _ = c.Next() {
		id := k[len(hi):]
		v := all.Get(id)
		if v == nil {
			return nil, dwell.E(dwell.Other, fmt.Sprintf("appointment %q is indexed but missing", id))
		}
		var r appointmentRec
		if err := decodeJSON(op, "appointment", v, &r); err != nil {
			return nil, err
		}
		out = append(out, r.domain(string(id)))
	}
	return out, nil
}

// ListRepSales implements store.Sales.
func (s *Store) ListRepSales(ctx context.Context, tenant dwell.TenantID, spans []store.RepSpan) ([]dwell.Appointment, []dwell.Quota, error) {
	const op = dwell.Op("boltstore.ListRepSales")
	if err := checkTenant(op, tenant); err != nil {
		return nil, nil, err
	}
	for i, sp := range spans {
		if err := checkID(op, fmt.Sprintf("spans[%d].rep", i), string(sp.Rep)); err != nil {
			return nil, nil, err
		}
	}
	as, qs := []dwell.Appointment{}, []dwell.Quota{}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		var err error
		for _, sp := range spans {
			if as, err = appendAppointments(op, tx, tenant, sp.Rep, sp.From, sp.To, as); err != nil {
				return err
			}
			if qs, err = appendQuotas(op, tx, tenant, sp.Rep, qs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return as, qs, nil
}

// putOnce runs put, which writes keys[i] -> vals[i] (and what goes with
// them), unless the request id (under kind "o/" or "q/") was seen: then it
// writes nothing and returns true if that put wrote the same keys and
// values, else a dwell.Invalid error on request_id. The request id keeps
// the SHA-256 of the batch (empty for puts stored before it did, which
// every batch matches).
func (s *Store) putOnce(ctx context.Context, op dwell.Op, tenant dwell.TenantID, kind, requestID string, keys, vals [][]byte, put func(t *txn) error) (bool, error) {
	if len(requestID) > maxRequestIDBytes {
		return false, dwell.E(op, dwell.Invalid, dwell.Violation{Field: "request_id", Description: fmt.Sprintf("must be at most %d bytes", maxRequestIDBytes)})
	}
	var digest []byte
	if requestID != "" {
		digest = batchDigest(keys, vals)
	}
	var existed bool
	err := s.write(ctx, op, len(keys), func(t *txn) error {
		existed = false
		var reqs *bolt.Bucket
		if requestID != "" {
			var err error
			if reqs, err = t.tenantSub(tenant, bktSalesReqs, true); err != nil {
				return err
			}
			if v := reqs.Get([]byte(kind + requestID)); v != nil {
				if len(v) > 0 && !bytes.Equal(v, digest) {
					return dwell.E(op, dwell.Invalid, dwell.ReasonRequestIDReused, dwell.Violation{Field: "request_id",
						Description: "was used by another batch; a retry repeats the batch it retries, new data needs a new request id"})
				}
				existed = true
				return nil
			}
		}
		if err := put(t); err != nil {
			return err
		}
		if reqs != nil {
			return reqs.Put([]byte(kind+requestID), digest)
		}
		return nil
	})
	return existed, err
}

// batchDigest returns the SHA-256 of keys[i], vals[i] in order, each
// prefixed by its length.
func batchDigest(keys, vals [][]byte) []byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for i := range keys {
		for _, b := range [2][]byte{keys[i], vals[i]} {
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
			h.Write(b)
		}
	}
	return h.Sum(nil)
}

// PutOpportunities implements store.Sales: all of them or, on error, none.
func (s *Store) PutOpportunities(ctx context.Context, tenant dwell.TenantID, requestID string, os []dwell.Opportunity) (bool, error) {
	const op = dwell.Op("boltstore.PutOpportunities")
	if err := checkTenant(op, tenant); err != nil {
		return false, err
	}
	keys, vals := make([][]byte, len(os)), make([][]byte, len(os))
	recs := make([]opportunityRec, len(os))
	for i := range os {
		if err := checkID(op, fmt.Sprintf("opportunities[%d].name", i), string(os[i].ID)); err != nil {
			return false, err
		}
		recs[i] = toOpportunityRec(&os[i])
		var err error
		// The request's digest (putOnce) is of the records without their
		// revisions, which the store sets.
		if vals[i], err = encodeJSON(op, recs[i]); err != nil {
			return false, err
		}
		keys[i] = []byte(os[i].ID)
	}
	return s.putOnce(ctx, op, tenant, "o/", requestID, keys, vals, func(t *txn) error {
		all, byRep, err := opportunityBuckets(t, tenant)
		if err != nil {
			return err
		}
		// Each deal is stored before the next is read, so a batch naming
		// a deal twice leaves only its last entry's rep indexed and its
		// revision raised twice.
		for i, k := range keys {
			if err := putOpportunity(op, all, byRep, k, &recs[i], 0, false); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateOpportunity implements store.Sales.
func (s *Store) UpdateOpportunity(ctx context.Context, tenant dwell.TenantID, o dwell.Opportunity) error {
	const op = dwell.Op("boltstore.UpdateOpportunity")
	if err := checkTenantID(op, tenant, "opportunity.name", string(o.ID)); err != nil {
		return err
	}
	rec := toOpportunityRec(&o)
	return s.write(ctx, op, 1, func(t *txn) error {
		all, byRep, err := opportunityBuckets(t, tenant)
		if err != nil {
			return err
		}
		return putOpportunity(op, all, byRep, []byte(o.ID), &rec, o.Revision, true)
	})
}

// opportunityBuckets returns the tenant's opportunities and their index by
// rep, created if need be.
func opportunityBuckets(t *txn, tenant dwell.TenantID) (all, byRep *bolt.Bucket, err error) {
	if all, err = t.tenantSub(tenant, bktOpportunities, true); err != nil {
		return nil, nil, err
	}
	byRep, err = t.tenantSub(tenant, bktOpportunitiesRep, true)
	return all, byRep, err
}

// putOpportunity stores rec under key k of all, with the revision after the
// stored one, and keeps the index byRep. want is a precondition on the
// stored revision (store.CheckRevision; 0: none); update refuses an
// absent opportunity (dwell.NotFound). Both refusals come before any write.
func putOpportunity(op dwell.Op, all, byRep *bolt.Bucket, k []byte, rec *opportunityRec, want int64, update bool) error {
	old := all.Get(k)
	if old == nil && update {
		return notFound("opportunity", string(k))
	}
	rev, err := nextRevision(op, "opportunity", old)
	if err != nil {
		return err
	}
	if err := store.CheckRevision(fmt.Sprintf("opportunity %q", k), want, rev-1); err != nil {
		return err
	}
	// A deal that changes hands leaves its old rep's index.
	if old != nil {
		o, err := decodeOpportunity(k, old)
		if err != nil {
			return err
		}
		if err := byRep.Delete(append(repPrefix(o.Rep), k...)); err != nil {
			return err
		}
	}
	rec.Rev = rev
	val, err := encodeJSON(op, rec)
	if err != nil {
		return err
	}
	if err := byRep.Put(append(repPrefix(dwell.RepID(rec.Rep)), k...), []byte{}); err != nil {
		return err
	}
	return all.Put(k, val)
}

func decodeOpportunity(k, v []byte) (dwell.Opportunity, error) {
	var r opportunityRec
	if err := decodeJSON("boltstore.decodeOpportunity", "opportunity", v, &r); err != nil {
		return dwell.Opportunity{}, err
	}
	return r.domain(string(k)), nil
}

// GetOpportunity implements store.Sales.
func (s *Store) GetOpportunity(ctx context.Context, tenant dwell.TenantID, id dwell.OpportunityID) (dwell.Opportunity, error) {
	return getOne(ctx, s, "boltstore.GetOpportunity", tenant, bktOpportunities, "opportunity", string(id), decodeOpportunity)
}

// ListOpportunities implements store.Sales. It scans the tenant's
// opportunities in id order from p.After.
func (s *Store) ListOpportunities(ctx context.Context, tenant dwell.TenantID, f store.OpportunityFilter, p store.Page) ([]dwell.Opportunity, bool, error) {
	const op = dwell.Op("boltstore.ListOpportunities")
	if err := checkTenant(op, tenant); err != nil {
		return nil, false, err
	}
	if err := checkPage(op, p); err != nil {
		return nil, false, err
	}
	reps := make(map[dwell.RepID]bool, len(f.Reps))
	for _, r := range f.Reps {
		reps[r] = true
	}
	keep := func(o *dwell.Opportunity) bool {
		return (len(reps) == 0 || reps[o.Rep]) && (f.Client == "" || f.Client == o.Client)
	}
	var out []dwell.Opportunity
	var more bool
	err := s.view(ctx, op, func(tx *bolt.Tx) (err error) {
		all := readTenantSub(tx, tenant, bktOpportunities)
		if len(f.Reps) == 0 || all == nil {
			out, more, err = list(all, p, decodeOpportunity, keep)
			return err
		}
		// By the reps' index: their ids, in id order, after p.After.
		byRep := readTenantSub(tx, tenant, bktOpportunitiesRep)
		if byRep == nil {
			return nil
		}
		var ids []string
		c := byRep.Cursor()
		for rep := range reps {
			prefix := repPrefix(rep)
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				if id := string(k[len(prefix):]); id > p.After {
					ids = append(ids, id)
				}
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			v := all.Get([]byte(id))
			if v == nil {
				return dwell.E(dwell.Other, fmt.Sprintf("opportunity %q is indexed but missing", id))
			}
			o, err := decodeOpportunity([]byte(id), v)
			if err != nil {
				return err
			}
			if !keep(&o) {
				continue
			}
			if len(out) == p.Limit {
				more = true
				return nil
			}
			out = append(out, o)
		}
		return nil
	})
	return out, more, err
}

// PutQuotas implements store.Sales: all of them or, on error, none.
func (s *Store) PutQuotas(ctx context.Context, tenant dwell.TenantID, requestID string, qs []dwell.Quota) (bool, error) {
	const op = dwell.Op("boltstore.PutQuotas")
	if err := checkTenant(op, tenant); err != nil {
		return false, err
	}
	keys, vals := make([][]byte, len(qs)), make([][]byte, len(qs))
	for i := range qs {
		q := &qs[i]
		if err := checkID(op, fmt.Sprintf("quotas[%d].rep", i), string(q.Rep)); err != nil {
			return false, err
		}
		if !q.Start.Valid() || !q.End.Valid() {
			return false, dwell.E(op, dwell.Invalid, dwell.Violation{Field: fmt.Sprintf("quotas[%d]", i), Description: "start and end must be real days"})
		}
		var err error
		if vals[i], err = encodeJSON(op, quotaRec{Start: toDateRec(q.Start), End: toDateRec(q.End), Target: moneyRec{q.Target.Currency, q.Target.AmountMinor}}); err != nil {
			return false, err
		}
		keys[i] = dayKey(q.Rep, q.Start)
	}
	return s.putOnce(ctx, op, tenant, "q/", requestID, keys, vals, func(t *txn) error {
		// The overlap check reads the reps' quotas in this transaction,
		// the only writer, and refuses before writing a quota (commit: an
		// Invalid request fails alone, its group's others commit).
		b, err := t.tenantSub(tenant, bktQuotas, true)
		if err != nil {
			return err
		}
		var stored []dwell.Quota
		seen := map[dwell.RepID]bool{}
		for _, q := range qs {
			if !seen[q.Rep] {
				seen[q.Rep] = true
				if stored, err = appendQuotasOf(op, b, q.Rep, stored); err != nil {
					return err
				}
			}
		}
		if vs := dwell.QuotaOverlaps("quotas", qs, stored); vs != nil {
			return dwell.E(op, dwell.Invalid, vs)
		}
		for i := range keys {
			if err := b.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteQuota implements store.Sales.
func (s *Store) DeleteQuota(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, start dwell.Date) error {
	const op = dwell.Op("boltstore.DeleteQuota")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return err
	}
	what := string(rep) + " from " + start.String()
	if !start.Valid() {
		return notFound("quota", what)
	}
	k := dayKey(rep, start)
	return s.write(ctx, op, 1, func(t *txn) error {
		b, err := t.tenantSub(tenant, bktQuotas, false)
		if err != nil {
			return err
		}
		if b == nil || b.Get(k) == nil {
			return notFound("quota", what)
		}
		return b.Delete(k)
	})
}

// ListQuotas implements store.Sales.
func (s *Store) ListQuotas(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) ([]dwell.Quota, error) {
	const op = dwell.Op("boltstore.ListQuotas")
	if err := checkTenantID(op, tenant, "rep", string(rep)); err != nil {
		return nil, err
	}
	out := []dwell.Quota{}
	err := s.view(ctx, op, func(tx *bolt.Tx) error {
		var err error
		out, err = appendQuotas(op, tx, tenant, rep, out)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// appendQuotas appends rep's quotas, by start day, to out.
func appendQuotas(op dwell.Op, tx *bolt.Tx, tenant dwell.TenantID, rep dwell.RepID, out []dwell.Quota) ([]dwell.Quota, error) {
	return appendQuotasOf(op, readTenantSub(tx, tenant, bktQuotas), rep, out)
}

// appendQuotasOf appends rep's quotas in b, the tenant's quotas bucket
// (nil: none), by start day, to out.
func appendQuotasOf(op dwell.Op, b *bolt.Bucket, rep dwell.RepID, out []dwell.Quota) ([]dwell.Quota, error) {
	if b == nil {
		return out, nil
	}
	n := len(out)
	prefix := repPrefix(rep)
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+dayKeyLen; k, v = c.Next() {
		var r quotaRec
		if err := decodeJSON(op, "quota", v, &r); err != nil {
			return nil, err
		}
		out = append(out, dwell.Quota{Rep: rep, Start: r.Start.domain(), End: r.End.domain(),
			Target: dwell.Money{Currency: r.Target.Currency, AmountMinor: r.Target.Minor}})
	}
	slices.SortFunc(out[n:], func(a, b dwell.Quota) int { return a.Start.DaysSince(b.Start) })
	return out, nil
}
