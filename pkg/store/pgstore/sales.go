package pgstore

// The sales inputs (store.Sales) are the tables of salesSchema:
//
//	appointments          (tenant, id) -> rep, planned_start, request_id, rec
//	appointment_requests  (tenant, request_id) -> appointment id; kept
//	                      after the appointment is deleted, so the request
//	                      id stays spent (also once another request created
//	                      an appointment under the id: its request_id
//	                      tells the two apart)
//	opportunities         (tenant, id) -> rep, client, rec
//	quotas                (tenant, rep, start_day) -> end_day, currency, amount;
//	                      a rep's periods never overlap (PutQuotas)
//	sales_requests        (tenant, kind, request_id) -> SHA-256 of the batch
//	                      ('o' for PutOpportunities, 'q' for PutQuotas)
//
// rec columns hold what no query filters on, as JSON records of this file
// (appointmentRec, opportunityRec). No sales write marks a day: the
// timeline does not derive from them (KPIs read them beside the days).
//
// Idempotency is by unique keys: two concurrent creates under one request
// id both insert its row, and SERIALIZABLE aborts one of them (it read the
// key before), which is then run again and finds the other's row.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// salesSchema holds the tables of this file (see coreSchema).
const salesSchema = `
CREATE TABLE IF NOT EXISTS appointments (
	tenant        text COLLATE "C" NOT NULL,
	id            text COLLATE "C" NOT NULL,
	rep           text COLLATE "C" NOT NULL,
	planned_start bigint NOT NULL,
	request_id    text COLLATE "C" NOT NULL DEFAULT '',
	rec           json NOT NULL,
	PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS appointments_by_rep ON appointments (tenant, rep, planned_start, id);
CREATE TABLE IF NOT EXISTS appointment_requests (
	tenant      text COLLATE "C" NOT NULL,
	request_id  text COLLATE "C" NOT NULL,
	appointment text COLLATE "C" NOT NULL,
	PRIMARY KEY (tenant, request_id)
);

CREATE TABLE IF NOT EXISTS opportunities (
	tenant text COLLATE "C" NOT NULL,
	id     text COLLATE "C" NOT NULL,
	rep    text COLLATE "C" NOT NULL,
	client   text COLLATE "C" NOT NULL,
	rec      json NOT NULL,
	revision bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS opportunities_by_rep ON opportunities (tenant, rep, id);

CREATE TABLE IF NOT EXISTS quotas (
	tenant    text COLLATE "C" NOT NULL,
	rep       text COLLATE "C" NOT NULL,
	start_day date NOT NULL,
	end_day   date NOT NULL,
	currency  text NOT NULL,
	amount    bigint NOT NULL,
	PRIMARY KEY (tenant, rep, start_day)
);

CREATE TABLE IF NOT EXISTS sales_requests (
	tenant     text COLLATE "C" NOT NULL,
	kind       text COLLATE "C" NOT NULL,
	request_id text COLLATE "C" NOT NULL,
	digest     bytea NOT NULL,
	PRIMARY KEY (tenant, kind, request_id)
);
`

// appointmentRec is the stored form of the parts of a dwell.Appointment
// that are not columns.
type appointmentRec struct {
	Client     string    `json:"c"`
	PlannedEnd time.Time `json:"pe"`
	CreateTime time.Time `json:"ct"`
}

// opportunityRec is the stored form of the parts of a dwell.Opportunity
// that are not columns. Amount is in minor units.
type opportunityRec struct {
	Stage      int       `json:"s"`
	Currency   string    `json:"cur"`
	Amount     int64     `json:"amt"`
	OpenTime   time.Time `json:"ot"`
	CloseTime  time.Time `json:"cl,omitzero"`
	ExternalID string    `json:"x,omitempty"`
}

// CreateAppointment implements store.Sales.
func (s *Store) CreateAppointment(ctx context.Context, tenant dwell.TenantID, a dwell.Appointment) (dwell.Appointment, bool, error) {
	const op = dwell.Op("pgstore.CreateAppointment")
	if err := checkTenantKey(op, tenant, "appointment_id", string(a.ID)); err != nil {
		return a, false, err
	}
	if err := checkKey(op, "appointment.rep", string(a.Rep)); err != nil {
		return a, false, err
	}
	start, ok := nanos(a.PlannedStart)
	if !ok {
		return a, false, timeInvalid(op, "appointment.planned_start_time", a.PlannedStart)
	}
	if err := checkRequestID(op, a.RequestID); err != nil {
		return a, false, err
	}
	a.PlannedStart, a.PlannedEnd, a.CreateTime = a.PlannedStart.UTC(), a.PlannedEnd.UTC(), a.CreateTime.UTC()
	rec, err := json.Marshal(appointmentRec{Client: string(a.Client), PlannedEnd: a.PlannedEnd, CreateTime: a.CreateTime})
	if err != nil {
		return a, false, dwell.E(op, dwell.Other, "encoding an appointment", err)
	}
	var prev *dwell.Appointment
	err = s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		prev = nil
		if a.RequestID != "" {
			var id string
			err := tx.QueryRow(ctx, `SELECT appointment FROM appointment_requests WHERE tenant = $1 AND request_id = $2`,
				string(tenant), a.RequestID).Scan(&id)
			switch {
			case err == nil:
				// The request id created one: that is the answer, or
				// it was deleted since and the request id is spent;
				// so is it when the row under its id is another
				// request's (request_id), created after the delete.
				rows, _ := tx.Query(ctx, `SELECT `+appointmentColumns+` FROM appointments a WHERE a.tenant = $1 AND a.id = $2`, string(tenant), id)
				p, err := pgx.CollectExactlyOneRow(rows, scanAppointment)
				if errors.Is(err, pgx.ErrNoRows) || (err == nil && p.RequestID != a.RequestID) {
					return dwell.E(dwell.FailedPrecondition, dwell.ReasonRequestTargetDeleted, fmt.Sprintf("the appointment of request %q was deleted", a.RequestID))
				}
				prev = &p
				return err
			case !errors.Is(err, pgx.ErrNoRows):
				return err
			}
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO appointments (tenant, id, rep, planned_start, request_id, rec)
			VALUES ($1, $2, $3, $4, $5, $6::json) ON CONFLICT DO NOTHING`,
			string(tenant), string(a.ID), string(a.Rep), start, a.RequestID, string(rec))
		switch {
		case err != nil:
			return err
		case tag.RowsAffected() == 0:
			return alreadyExists("appointment", string(a.ID))
		case a.RequestID == "":
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO appointment_requests (tenant, request_id, appointment) VALUES ($1, $2, $3)`,
			string(tenant), a.RequestID, string(a.ID))
		return err
	})
	switch {
	case err != nil:
		return dwell.Appointment{}, false, err
	case prev != nil:
		return *prev, true, nil
	}
	return a, false, nil
}

// appointmentColumns are the columns scanAppointment reads, in its
// order, of the appointments table a.
const appointmentColumns = `a.id, a.rep, a.planned_start, a.request_id, a.rec::text`

// scanAppointment returns the appointment of a row of appointmentColumns.
func scanAppointment(row pgx.CollectableRow) (dwell.Appointment, error) {
	var id, rep, requestID string
	var start int64
	var rec []byte
	if err := row.Scan(&id, &rep, &start, &requestID, &rec); err != nil {
		return dwell.Appointment{}, err
	}
	var r appointmentRec
	if err := json.Unmarshal(rec, &r); err != nil {
		return dwell.Appointment{}, dwell.E(dwell.Other, fmt.Sprintf("decoding appointment %q", id), err)
	}
	return dwell.Appointment{ID: dwell.AppointmentID(id), Rep: dwell.RepID(rep), Client: dwell.ClientID(r.Client),
		PlannedStart: fromNanos(start), PlannedEnd: r.PlannedEnd.UTC(), RequestID: requestID, CreateTime: r.CreateTime.UTC()}, nil
}

// GetAppointment implements store.Sales.
func (s *Store) GetAppointment(ctx context.Context, tenant dwell.TenantID, id dwell.AppointmentID) (dwell.Appointment, error) {
	const op = dwell.Op("pgstore.GetAppointment")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return dwell.Appointment{}, err
	}
	return getOne(ctx, s, op, "appointment", string(id),
		`SELECT `+appointmentColumns+` FROM appointments a WHERE a.tenant = $1 AND a.id = $2`,
		[]any{string(tenant), string(id)}, scanAppointment)
}

// DeleteAppointment implements store.Sales. The request id that created
// the appointment stays spent.
func (s *Store) DeleteAppointment(ctx context.Context, tenant dwell.TenantID, id dwell.AppointmentID) error {
	const op = dwell.Op("pgstore.DeleteAppointment")
	if err := checkTenantKey(op, tenant, "name", string(id)); err != nil {
		return err
	}
	return s.execOne(ctx, op, notFound, "appointment", string(id),
		`DELETE FROM appointments WHERE tenant = $1 AND id = $2`, []any{string(tenant), string(id)}, nil)
}

// ListAppointments implements store.Sales.
func (s *Store) ListAppointments(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, from, to time.Time) ([]dwell.Appointment, error) {
	const op = dwell.Op("pgstore.ListAppointments")
	if err := checkTenantKey(op, tenant, "rep", string(rep)); err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return []dwell.Appointment{}, nil
	}
	return readRows(ctx, s, op, scanAppointment, listAppointmentsSQL, spanArgs(tenant, []store.RepSpan{{Rep: rep, From: from, To: to}})...)
}

// readRows runs query with args in one read and returns its rows as scan
// reads them; no rows is an empty slice, not nil.
func readRows[T any](ctx context.Context, s *Store, op dwell.Op, scan func(pgx.CollectableRow) (T, error), query string, args ...any) ([]T, error) {
	out := []T{}
	err := s.read(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, query, args...)
		var err error
		out, err = pgx.AppendRows(out[:0], rows, scan)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// The reads of many reps below join the reps' array to the table
// LATERAL: one index range per rep, whatever the plan cache keeps (a
// prepared statement's generic plan may otherwise hash-join the tenant's
// whole table, as chosen while it was small).

// listAppointmentsSQL reads the appointments of tenant $1 for the spans
// given as arrays ($2 reps, $3 and $4 the bounds in Unix nanoseconds), in
// spans order, then by planned start and id; its columns are
// appointmentColumns'.
const listAppointmentsSQL = `
SELECT a.id, a.rep, a.planned_start, a.request_id, a.rec
FROM unnest($2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS s(rep, lo, hi, i)
CROSS JOIN LATERAL (
	SELECT ` + appointmentColumns + ` FROM appointments a
	WHERE a.tenant = $1 AND a.rep = s.rep AND a.planned_start >= s.lo AND a.planned_start < s.hi
) a
ORDER BY s.i, a.planned_start, a.id`

// listQuotasSQL reads the quotas of tenant $1 for the reps $2, in their
// order, then by start day.
const listQuotasSQL = `
SELECT q.rep, q.start_day, q.end_day, q.currency, q.amount
FROM unnest($2::text[]) WITH ORDINALITY AS s(rep, i)
CROSS JOIN LATERAL (SELECT * FROM quotas q WHERE q.tenant = $1 AND q.rep = s.rep) q
ORDER BY s.i, q.start_day`

// spanArgs returns the arguments of listAppointmentsSQL.
func spanArgs(tenant dwell.TenantID, spans []store.RepSpan) []any {
	reps, lo, hi := make([]string, len(spans)), make([]int64, len(spans)), make([]int64, len(spans))
	for i, sp := range spans {
		reps[i], lo[i], hi[i] = string(sp.Rep), boundNanos(sp.From), boundNanos(sp.To)
	}
	return []any{string(tenant), reps, lo, hi}
}

// scanQuota returns the quota of a row of listQuotasSQL.
func scanQuota(row pgx.CollectableRow) (dwell.Quota, error) {
	var rep, currency string
	var start, end pgtype.Date
	var amount int64
	err := row.Scan(&rep, &start, &end, &currency, &amount)
	return dwell.Quota{Rep: dwell.RepID(rep), Start: fromPGDate(start), End: fromPGDate(end),
		Target: dwell.Money{Currency: currency, AmountMinor: amount}}, err
}

// ListQuotas implements store.Sales.
func (s *Store) ListQuotas(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID) ([]dwell.Quota, error) {
	const op = dwell.Op("pgstore.ListQuotas")
	if err := checkTenantKey(op, tenant, "rep", string(rep)); err != nil {
		return nil, err
	}
	return readRows(ctx, s, op, scanQuota, listQuotasSQL, string(tenant), []string{string(rep)})
}

// ListRepSales implements store.Sales: both queries go in one round trip,
// in one snapshot.
func (s *Store) ListRepSales(ctx context.Context, tenant dwell.TenantID, spans []store.RepSpan) ([]dwell.Appointment, []dwell.Quota, error) {
	const op = dwell.Op("pgstore.ListRepSales")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, nil, err
	}
	reps := make([]string, len(spans))
	for i, sp := range spans {
		if err := checkKey(op, fmt.Sprintf("spans[%d].rep", i), string(sp.Rep)); err != nil {
			return nil, nil, err
		}
		reps[i] = string(sp.Rep)
	}
	as, qs := []dwell.Appointment{}, []dwell.Quota{}
	if len(spans) == 0 {
		return as, qs, nil
	}
	err := s.read(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue(listAppointmentsSQL, spanArgs(tenant, spans)...)
		b.Queue(listQuotasSQL, string(tenant), reps)
		br := tx.SendBatch(ctx, &b)
		rows, _ := br.Query()
		var err error
		if as, err = pgx.AppendRows(as[:0], rows, scanAppointment); err == nil {
			rows, _ = br.Query()
			qs, err = pgx.AppendRows(qs[:0], rows, scanQuota)
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return as, qs, nil
}

// salesDigest returns the SHA-256 of the fields of every item of a batch,
// in order, each prefixed by its length: what a request id of a sales
// upsert keeps, so a retry can be told from new data.
func salesDigest(items [][]string) []byte {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, fields := range items {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(fields)))])
		for _, f := range fields {
			h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
			h.Write([]byte(f))
		}
	}
	return h.Sum(nil)
}

// putOnce runs put in one write unless requestID (of kind 'o' or 'q') was
// stored before: then it writes nothing and returns true if that write's
// batch had the digest given, else a dwell.Invalid error on request_id. An
// empty requestID is never kept.
func (s *Store) putOnce(ctx context.Context, op dwell.Op, tenant dwell.TenantID, kind, requestID string, digest []byte, put func(ctx context.Context, tx pgx.Tx) error) (bool, error) {
	if err := checkRequestID(op, requestID); err != nil {
		return false, err
	}
	var existed bool
	err := s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		existed = false
		if requestID != "" {
			var old []byte
			err := tx.QueryRow(ctx, `SELECT digest FROM sales_requests WHERE tenant = $1 AND kind = $2 AND request_id = $3`,
				string(tenant), kind, requestID).Scan(&old)
			switch {
			case err == nil && string(old) != string(digest):
				return dwell.E(dwell.Invalid, dwell.ReasonRequestIDReused, dwell.Violation{Field: "request_id",
					Description: "was used by another batch; a retry repeats the batch it retries, new data needs a new request id"})
			case err == nil:
				existed = true
				return nil
			case err != pgx.ErrNoRows:
				return err
			}
		}
		if err := put(ctx, tx); err != nil {
			return err
		}
		if requestID == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO sales_requests (tenant, kind, request_id, digest) VALUES ($1, $2, $3, $4)`,
			string(tenant), kind, requestID, digest)
		return err
	})
	return existed, err
}

// lastEntries returns the indexes of the items of a batch to write: for
// each key, in the order of its first entry, its last entry (a batch that
// names one key twice stores the last, as boltstore does, and one INSERT
// may not update a row twice).
func lastEntries(n int, key func(i int) string) []int {
	at := make(map[string]int, n)
	var out []int
	for i := range n {
		k := key(i)
		if j, ok := at[k]; ok {
			out[j] = i
			continue
		}
		at[k] = len(out)
		out = append(out, i)
	}
	return out
}

// PutOpportunities implements store.Sales: all of them or, on error, none.
func (s *Store) PutOpportunities(ctx context.Context, tenant dwell.TenantID, requestID string, os []dwell.Opportunity) (bool, error) {
	const op = dwell.Op("pgstore.PutOpportunities")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return false, err
	}
	recs, items := make([]string, len(os)), make([][]string, len(os))
	for i := range os {
		o := &os[i]
		if err := checkKey(op, fmt.Sprintf("opportunities[%d].name", i), string(o.ID)); err != nil {
			return false, err
		}
		var err error
		if recs[i], err = encodeOpportunity(op, o); err != nil {
			return false, err
		}
		items[i] = []string{string(o.ID), string(o.Rep), string(o.Client), recs[i]}
	}
	write := lastEntries(len(os), func(i int) string { return string(os[i].ID) })
	ids, reps, clients, vals := make([]string, len(write)), make([]string, len(write)), make([]string, len(write)), make([]string, len(write))
	for j, i := range write {
		ids[j], reps[j], clients[j], vals[j] = string(os[i].ID), string(os[i].Rep), string(os[i].Client), recs[i]
	}
	return s.putOnce(ctx, op, tenant, "o", requestID, salesDigest(items), func(ctx context.Context, tx pgx.Tx) error {
		if len(write) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO opportunities AS o (tenant, id, rep, client, rec)
			SELECT $1, u.id, u.rep, u.client, u.rec::json FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(id, rep, client, rec)
			ON CONFLICT (tenant, id) DO UPDATE SET rep = excluded.rep, client = excluded.client, rec = excluded.rec,
				revision = o.revision + 1`,
			string(tenant), ids, reps, clients, vals)
		return err
	})
}

// encodeOpportunity returns the rec column of o.
func encodeOpportunity(op dwell.Op, o *dwell.Opportunity) (string, error) {
	rec, err := json.Marshal(opportunityRec{Stage: int(o.Stage), Currency: o.Amount.Currency, Amount: o.Amount.AmountMinor,
		OpenTime: o.OpenTime.UTC(), CloseTime: o.CloseTime.UTC(), ExternalID: o.ExternalID})
	if err != nil {
		return "", dwell.E(op, dwell.Other, "encoding an opportunity", err)
	}
	return string(rec), nil
}

// UpdateOpportunity implements store.Sales: one statement compares the
// revision and writes.
func (s *Store) UpdateOpportunity(ctx context.Context, tenant dwell.TenantID, o dwell.Opportunity) error {
	const op = dwell.Op("pgstore.UpdateOpportunity")
	if err := checkTenantKey(op, tenant, "opportunity.name", string(o.ID)); err != nil {
		return err
	}
	rec, err := encodeOpportunity(op, &o)
	if err != nil {
		return err
	}
	return s.write(ctx, op, updateOneTx("opportunities", "opportunity", tenant, string(o.ID), o.Revision, nil, `
		UPDATE opportunities SET rep = $3, client = $4, rec = $5::json, revision = revision + 1
		WHERE tenant = $1 AND id = $2 AND ($6::bigint = 0 OR revision = $6)`,
		[]any{string(tenant), string(o.ID), string(o.Rep), string(o.Client), rec, o.Revision}, nil))
}

// opportunityColumns are the columns scanOpportunity reads, in order.
const opportunityColumns = `id, rep, client, rec::text, revision`

// scanOpportunity returns the opportunity of a row of opportunityColumns.
func scanOpportunity(row pgx.CollectableRow) (dwell.Opportunity, error) {
	var id, rep, client string
	var rec []byte
	var rev int64
	if err := row.Scan(&id, &rep, &client, &rec, &rev); err != nil {
		return dwell.Opportunity{}, err
	}
	var r opportunityRec
	if err := json.Unmarshal(rec, &r); err != nil {
		return dwell.Opportunity{}, dwell.E(dwell.Other, fmt.Sprintf("decoding opportunity %q", id), err)
	}
	o := dwell.Opportunity{ID: dwell.OpportunityID(id), Rep: dwell.RepID(rep), Client: dwell.ClientID(client),
		Stage: dwell.OpportunityStage(r.Stage), Amount: dwell.Money{Currency: r.Currency, AmountMinor: r.Amount},
		OpenTime: r.OpenTime.UTC(), ExternalID: r.ExternalID, Revision: rev}
	if !r.CloseTime.IsZero() {
		o.CloseTime = r.CloseTime.UTC()
	}
	return o, nil
}

// GetOpportunity implements store.Sales.
func (s *Store) GetOpportunity(ctx context.Context, tenant dwell.TenantID, id dwell.OpportunityID) (dwell.Opportunity, error) {
	const op = dwell.Op("pgstore.GetOpportunity")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return dwell.Opportunity{}, err
	}
	return getOne(ctx, s, op, "opportunity", string(id),
		`SELECT `+opportunityColumns+` FROM opportunities WHERE tenant = $1 AND id = $2`,
		[]any{string(tenant), string(id)}, scanOpportunity)
}

// ListOpportunities implements store.Sales: in id order from the primary
// key, or, when f.Reps is set, from at most a page of each rep's
// opportunities by opportunities_by_rep.
func (s *Store) ListOpportunities(ctx context.Context, tenant dwell.TenantID, f store.OpportunityFilter, p store.Page) ([]dwell.Opportunity, bool, error) {
	const op = dwell.Op("pgstore.ListOpportunities")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, false, err
	}
	if len(f.Reps) == 0 {
		return listPage(ctx, s, op, p, `
			SELECT `+opportunityColumns+` FROM opportunities
			WHERE tenant = $1 AND ($2 = '' OR client = $2) AND id > $3
			ORDER BY id LIMIT $4`,
			[]any{string(tenant), string(f.Client), p.After}, scanOpportunity)
	}
	var reps []string
	seen := make(map[dwell.RepID]bool, len(f.Reps))
	for _, r := range f.Reps {
		if !seen[r] {
			seen[r] = true
			reps = append(reps, string(r))
		}
	}
	return listPage(ctx, s, op, p, `
		SELECT o.* FROM unnest($2::text[]) AS r(rep)
		CROSS JOIN LATERAL (
			SELECT `+opportunityColumns+` FROM opportunities o
			WHERE o.tenant = $1 AND o.rep = r.rep AND ($3 = '' OR o.client = $3) AND o.id > $4
			ORDER BY o.id LIMIT $5
		) o
		ORDER BY o.id LIMIT $5`,
		[]any{string(tenant), reps, string(f.Client), p.After}, scanOpportunity)
}

// PutQuotas implements store.Sales: all of them or, on error, none.
func (s *Store) PutQuotas(ctx context.Context, tenant dwell.TenantID, requestID string, qs []dwell.Quota) (bool, error) {
	const op = dwell.Op("pgstore.PutQuotas")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return false, err
	}
	items := make([][]string, len(qs))
	for i := range qs {
		q := &qs[i]
		if err := checkKey(op, fmt.Sprintf("quotas[%d].rep", i), string(q.Rep)); err != nil {
			return false, err
		}
		if !q.Start.Valid() || !q.End.Valid() {
			return false, dwell.E(op, dwell.Invalid, dwell.Violation{Field: fmt.Sprintf("quotas[%d]", i), Description: "start and end must be real days"})
		}
		items[i] = []string{string(q.Rep), q.Start.String(), q.End.String(), q.Target.Currency, strconv.FormatInt(q.Target.AmountMinor, 10)}
	}
	write := lastEntries(len(qs), func(i int) string { return string(qs[i].Rep) + "\x00" + qs[i].Start.String() })
	reps, currencies := make([]string, len(write)), make([]string, len(write))
	starts, ends := make([]pgtype.Date, len(write)), make([]pgtype.Date, len(write))
	amounts := make([]int64, len(write))
	for j, i := range write {
		q := &qs[i]
		reps[j], starts[j], ends[j], currencies[j], amounts[j] = string(q.Rep), pgDate(q.Start), pgDate(q.End), q.Target.Currency, q.Target.AmountMinor
	}
	var repsOf []string
	seen := map[dwell.RepID]bool{}
	for _, q := range qs {
		if !seen[q.Rep] {
			seen[q.Rep] = true
			repsOf = append(repsOf, string(q.Rep))
		}
	}
	return s.putOnce(ctx, op, tenant, "q", requestID, salesDigest(items), func(ctx context.Context, tx pgx.Tx) error {
		if len(write) == 0 {
			return nil
		}
		// The overlap check reads the reps' quotas in this SERIALIZABLE
		// transaction: of two concurrent puts that would overlap, one
		// is aborted, runs again and finds the other's quota.
		rows, _ := tx.Query(ctx, listQuotasSQL, string(tenant), repsOf)
		stored, err := pgx.CollectRows(rows, scanQuota)
		if err != nil {
			return err
		}
		if vs := dwell.QuotaOverlaps("quotas", qs, stored); vs != nil {
			return dwell.E(op, dwell.Invalid, vs)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO quotas AS q (tenant, rep, start_day, end_day, currency, amount)
			SELECT $1, u.rep, u.start_day, u.end_day, u.currency, u.amount
			FROM unnest($2::text[], $3::date[], $4::date[], $5::text[], $6::bigint[]) AS u(rep, start_day, end_day, currency, amount)
			ON CONFLICT (tenant, rep, start_day) DO UPDATE SET end_day = excluded.end_day, currency = excluded.currency, amount = excluded.amount`,
			string(tenant), reps, starts, ends, currencies, amounts)
		return err
	})
}

// DeleteQuota implements store.Sales.
func (s *Store) DeleteQuota(ctx context.Context, tenant dwell.TenantID, rep dwell.RepID, start dwell.Date) error {
	const op = dwell.Op("pgstore.DeleteQuota")
	if err := checkTenantKey(op, tenant, "rep", string(rep)); err != nil {
		return err
	}
	what := string(rep) + " from " + start.String()
	if !start.Valid() {
		return notFound("quota", what)
	}
	return s.execOne(ctx, op, notFound, "quota", what,
		`DELETE FROM quotas WHERE tenant = $1 AND rep = $2 AND start_day = $3`, []any{string(tenant), string(rep), pgDate(start)}, nil)
}
