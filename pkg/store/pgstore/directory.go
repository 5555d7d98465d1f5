package pgstore

// The directory: clients, reps, teams and the tenant's settings.
//
// Layout. Every table is keyed by (tenant, id), ids COLLATE "C", so that
// a listing in primary-key order is id (byte) order and a page is one
// index range scan: WHERE tenant = $1 AND id > $after ORDER BY id LIMIT
// n+1 (the extra row says whether more follow). Create and update times
// are nullable bigint Unix nanoseconds (NULL: the zero time).
//
//   - clients: kind is a column (ListClients filters on it); the rest of
//     the client (name, address, external id, geofence) is one json
//     record, clientRec, whose short tags are the stored layout.
//   - reps (coreSchema, the zone cuts every part's days): typed columns;
//     working hours a jsonb array of workingHoursRec, NULL when none.
//   - teams: managers as text[] (ListTeams filters with = ANY).
//   - settings: one row per tenant that stored settings, a typed column
//     per field (durations in nanoseconds); a tenant without a row has
//     dwell.DefaultSettings.
//
// Day marks (store.Summaries). A settings change or any client write marks
// the tenant's recent rep-days dirty in its own transaction (markTenant);
// an UpdateRep that changes the zone or working hours marks that rep's
// recent days and the days its fixes and actions fall on in the new zone,
// and after a change to a zone ahead the old zone's day holding the start
// of the first of them (markRep, oldZoneDay). The rules and their cut-offs are boltstore's (its summary.go):
// days dated store.RederiveDays or fewer days before the store's clock,
// except days that may have lost fixes to the retention period (now, or
// as it was when the rep's data was last pruned: rep_data's horizons).
//
// The helpers the package's simple resources share are here too: checkKey
// and checkTenantKey (ids), execOne (a create, update or delete of one
// row), getOne and listPage (a read of one row, of one page).
//
// Caveats. A client or settings write updates every recent rep-day of the
// tenant (37 days of 200 reps: 7,400 rows, some 0.1 to 0.4 s on a loaded
// 2-core machine, BenchmarkClientWriteMarks), in one statement whose cost
// follows the rows marked, not the tenant's history; an import pays it
// once per PutClients call. It reads the range of the tenant's days (a
// predicate under SERIALIZABLE), so it may make a concurrent fix write of
// the tenant retry; client and settings writes are rare.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// directorySchema holds the tables of this file (see coreSchema).
const directorySchema = `
CREATE TABLE IF NOT EXISTS clients (
	tenant      text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	kind        smallint NOT NULL,
	rec         json NOT NULL,
	create_time bigint,
	update_time bigint,
	revision    bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS clients_by_kind ON clients (tenant, kind, id);

CREATE TABLE IF NOT EXISTS teams (
	tenant       text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	display_name text NOT NULL,
	managers     text[] NOT NULL,
	create_time  bigint,
	update_time  bigint,
	revision     bigint NOT NULL DEFAULT 1,
	PRIMARY KEY (tenant, id)
);

CREATE TABLE IF NOT EXISTS settings (
	tenant                    text COLLATE "C" PRIMARY KEY,
	retention_ns              bigint NOT NULL,
	visit_min_ns              bigint NOT NULL,
	idle_min_ns               bigint NOT NULL,
	silence_min_ns            bigint NOT NULL,
	partner_accounts_required boolean NOT NULL,
	revision                  bigint NOT NULL DEFAULT 1
);
`

// checkKey returns dwell.Invalid, naming field, for an empty or overlong
// tenant or resource id (dwell.MaxIDBytes), as boltstore does.
func checkKey(op dwell.Op, field, id string) error {
	if id == "" || len(id) > dwell.MaxIDBytes {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: field, Description: fmt.Sprintf("must be 1 to %d bytes", dwell.MaxIDBytes)})
	}
	return nil
}

// checkTenantKey checks a tenant and a resource id.
func checkTenantKey(op dwell.Op, tenant dwell.TenantID, field, id string) error {
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return err
	}
	return checkKey(op, field, id)
}

// recordTimes returns a record's create and update times as nullable Unix
// nanoseconds, or dwell.Invalid for one out of the storable range.
func recordTimes(op dwell.Op, field string, create, update time.Time) (ct, ut *int64, err error) {
	for _, c := range []struct {
		t   time.Time
		out **int64
		f   string
	}{{create, &ct, "create_time"}, {update, &ut, "update_time"}} {
		if c.t.IsZero() {
			continue
		}
		n, ok := nanos(c.t)
		if !ok {
			return nil, nil, timeInvalid(op, field+"."+c.f, c.t)
		}
		*c.out = &n
	}
	return ct, ut, nil
}

func notFound(what, id string) error {
	return dwell.E(dwell.NotFound, fmt.Sprintf("%s %q not found", what, id))
}

func alreadyExists(what, id string) error {
	return dwell.E(dwell.AlreadyExists, fmt.Sprintf("%s %q already exists", what, id))
}

// execOne runs sql in a write and fails with missing(what, id) unless it
// changed exactly one row; then, if not nil, runs after it in the same
// transaction. It serves the creates (INSERT ... ON CONFLICT DO NOTHING,
// missing = alreadyExists), updates and deletes (missing = notFound).
func (s *Store) execOne(ctx context.Context, op dwell.Op, missing func(what, id string) error, what, id, sql string, args []any, then func(ctx context.Context, tx pgx.Tx) error) error {
	return s.write(ctx, op, execOneTx(missing, what, id, sql, args, then))
}

// execOneTx is the transaction of execOne, for writes at another isolation
// level.
func execOneTx(missing func(what, id string) error, what, id, sql string, args []any, then func(ctx context.Context, tx pgx.Tx) error) func(ctx context.Context, tx pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return missing(what, id)
		}
		if then == nil {
			return nil
		}
		return then(ctx, tx)
	}
}

// updateOneTx is the transaction of a conditional update of the row id of
// table (what names it in errors): sql must raise the row's revision
// (revision = revision + 1) and write only where "($n = 0 OR revision =
// $n)" holds for want, so that the comparison and the write are one
// statement. If it changed no row, the row's revision read then tells
// dwell.NotFound from dwell.Conflict (store.CheckRevision). then, if not
// nil, runs after a write in the same transaction.
func updateOneTx(table, what string, tenant dwell.TenantID, id string, want int64, created *time.Time, sql string, args []any, then func(ctx context.Context, tx pgx.Tx) error) func(ctx context.Context, tx pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return refused(ctx, tx, table, what, tenant, id, want, created, nil)
		}
		if then == nil {
			return nil
		}
		return then(ctx, tx)
	}
}

// refused returns why a conditional update of the row id of table based
// on revision want (and, created not nil, on the life of the record
// created at *created: store.CheckLife) wrote nothing: dwell.NotFound if
// the row is absent, else dwell.Conflict. other, if not nil, is asked
// first when the row's revision and life passed: an error it returns (a
// condition of the update's own other than those) is the answer.
func refused(ctx context.Context, tx pgx.Tx, table, what string, tenant dwell.TenantID, id string, want int64, created *time.Time, other func() error) error {
	var rev int64
	err := tx.QueryRow(ctx, `SELECT revision FROM `+table+` WHERE tenant = $1 AND id = $2`, string(tenant), id).Scan(&rev)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound(what, id)
	}
	if err != nil {
		return err
	}
	desc := fmt.Sprintf("%s %q", what, id)
	if err := store.CheckRevision(desc, want, rev); err != nil {
		return err
	}
	if created != nil && want != 0 {
		var ct *int64
		if err := tx.QueryRow(ctx, `SELECT create_time FROM `+table+` WHERE tenant = $1 AND id = $2`, string(tenant), id).Scan(&ct); err != nil {
			return err
		}
		if err := store.CheckLife(desc, want, *created, fromOptNanos(ct)); err != nil {
			return err
		}
	}
	if other != nil {
		if err := other(); err != nil {
			return err
		}
	}
	// Removed and created again at the revision read, after the update
	// missed it: it still changed since it was read.
	return dwell.E(dwell.Conflict, desc+" was replaced since it was read")
}

// getOne reads one record with sql (its arguments args) in a read and
// scans it, or returns dwell.NotFound.
func getOne[T any](ctx context.Context, s *Store, op dwell.Op, what, id, sql string, args []any, scan func(pgx.CollectableRow) (T, error)) (T, error) {
	var out T
	err := s.readOne(ctx, op, func(ctx context.Context, tx querier) error {
		rows, _ := tx.Query(ctx, sql, args...)
		v, err := pgx.CollectExactlyOneRow(rows, scan)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(what, id)
		}
		out = v
		return err
	})
	return out, err
}

// listPage reads one page with sql, whose arguments args end with the
// page's After; listPage appends the limit (p.Limit+1, to learn whether
// more follow) as the last argument, which sql must use in its LIMIT.
func listPage[T any](ctx context.Context, s *Store, op dwell.Op, p store.Page, sql string, args []any, scan func(pgx.CollectableRow) (T, error)) ([]T, bool, error) {
	if err := checkPage(op, p); err != nil {
		return nil, false, err
	}
	args = append(args, int64(p.Limit)+1)
	var out []T
	err := s.readOne(ctx, op, func(ctx context.Context, tx querier) error {
		rows, _ := tx.Query(ctx, sql, args...)
		var err error
		out, err = pgx.CollectRows(rows, scan)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if len(out) > p.Limit {
		return out[:p.Limit], true, nil
	}
	return out, false, nil
}

// Clients.

type latLngRec struct {
	Lat float64 `json:"a"`
	Lng float64 `json:"o"`
}

type circleRec struct {
	Center  latLngRec `json:"c"`
	RadiusM float64   `json:"r"`
}

type polygonRec struct {
	Shell []latLngRec   `json:"s"`
	Holes [][]latLngRec `json:"h,omitempty"`
}

// clientRec is the json record of a client: what is not a column.
type clientRec struct {
	DisplayName string      `json:"n,omitempty"`
	Address     string      `json:"a,omitempty"`
	ExternalID  string      `json:"x,omitempty"`
	Circle      *circleRec  `json:"fc,omitempty"`
	Polygon     *polygonRec `json:"fp,omitempty"`
}

func toRing(r []dwell.LatLng) []latLngRec {
	out := make([]latLngRec, len(r))
	for i, p := range r {
		out[i] = latLngRec{p.Lat, p.Lng}
	}
	return out
}

func fromRing(r []latLngRec) []dwell.LatLng {
	out := make([]dwell.LatLng, len(r))
	for i, p := range r {
		out[i] = dwell.LatLng{Lat: p.Lat, Lng: p.Lng}
	}
	return out
}

func toClientRec(c *dwell.Client) clientRec {
	r := clientRec{DisplayName: c.DisplayName, Address: c.Address, ExternalID: c.ExternalID}
	if ci := c.Fence.Circle; ci != nil {
		r.Circle = &circleRec{Center: latLngRec{ci.Center.Lat, ci.Center.Lng}, RadiusM: ci.RadiusM}
	}
	if p := c.Fence.Polygon; p != nil {
		r.Polygon = &polygonRec{Shell: toRing(p.Shell)}
		for _, h := range p.Holes {
			r.Polygon.Holes = append(r.Polygon.Holes, toRing(h))
		}
	}
	return r
}

// clientRow is a client as its columns, for a write.
type clientRow struct {
	rec    clientRec
	ct, ut *int64
}

func toClientRow(op dwell.Op, field string, c *dwell.Client) (clientRow, error) {
	ct, ut, err := recordTimes(op, field, c.CreateTime, c.UpdateTime)
	return clientRow{rec: toClientRec(c), ct: ct, ut: ut}, err
}

// clientColumns are the columns scanClient reads, in its order.
const clientColumns = `id, kind, rec, create_time, update_time, revision`

func scanClient(row pgx.CollectableRow) (dwell.Client, error) {
	var (
		id     string
		kind   int16
		rec    clientRec
		ct, ut *int64
		rev    int64
	)
	if err := row.Scan(&id, &kind, &rec, &ct, &ut, &rev); err != nil {
		return dwell.Client{}, err
	}
	c := dwell.Client{ID: dwell.ClientID(id), DisplayName: rec.DisplayName, Kind: dwell.ClientKind(kind),
		Address: rec.Address, ExternalID: rec.ExternalID, CreateTime: fromOptNanos(ct), UpdateTime: fromOptNanos(ut), Revision: rev}
	if r := rec.Circle; r != nil {
		c.Fence.Circle = &dwell.Circle{Center: dwell.LatLng{Lat: r.Center.Lat, Lng: r.Center.Lng}, RadiusM: r.RadiusM}
	}
	if r := rec.Polygon; r != nil {
		p := &dwell.Polygon{Shell: fromRing(r.Shell)}
		for _, h := range r.Holes {
			p.Holes = append(p.Holes, fromRing(h))
		}
		c.Fence.Polygon = p
	}
	return c, nil
}

// CreateClient implements store.Store. It marks the tenant's recent days
// dirty (markTenant).
func (s *Store) CreateClient(ctx context.Context, tenant dwell.TenantID, c dwell.Client) error {
	const op = dwell.Op("pgstore.CreateClient")
	if err := checkTenantKey(op, tenant, "client.id", string(c.ID)); err != nil {
		return err
	}
	row, err := toClientRow(op, "client", &c)
	if err != nil {
		return err
	}
	return s.writeReadCommitted(ctx, op, execOneTx(alreadyExists, "client", string(c.ID), `
		INSERT INTO clients (tenant, id, kind, rec, create_time, update_time)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		[]any{string(tenant), string(c.ID), int16(c.Kind), row.rec, row.ct, row.ut}, s.tenantMarker(tenant)))
}

// GetClient implements store.Store.
func (s *Store) GetClient(ctx context.Context, tenant dwell.TenantID, id dwell.ClientID) (dwell.Client, error) {
	const op = dwell.Op("pgstore.GetClient")
	if err := checkTenantKey(op, tenant, "id", string(id)); err != nil {
		return dwell.Client{}, err
	}
	return getOne(ctx, s, op, "client", string(id),
		`SELECT `+clientColumns+` FROM clients WHERE tenant = $1 AND id = $2`,
		[]any{string(tenant), string(id)}, scanClient)
}

// UpdateClient implements store.Store. It marks the tenant's recent days
// dirty (markTenant).
func (s *Store) UpdateClient(ctx context.Context, tenant dwell.TenantID, c dwell.Client) error {
	const op = dwell.Op("pgstore.UpdateClient")
	if err := checkTenantKey(op, tenant, "client.id", string(c.ID)); err != nil {
		return err
	}
	row, err := toClientRow(op, "client", &c)
	if err != nil {
		return err
	}
	return s.writeReadCommitted(ctx, op, updateOneTx("clients", "client", tenant, string(c.ID), c.Revision, &c.CreateTime, `
		UPDATE clients SET kind = $3, rec = $4, create_time = $5, update_time = $6, revision = revision + 1
		WHERE tenant = $1 AND id = $2 AND ($7::bigint = 0 OR (revision = $7 AND create_time IS NOT DISTINCT FROM $5))`,
		[]any{string(tenant), string(c.ID), int16(c.Kind), row.rec, row.ct, row.ut, c.Revision}, s.tenantMarker(tenant)))
}

// DeleteClient implements store.Store. It marks the tenant's recent days
// dirty (markTenant).
func (s *Store) DeleteClient(ctx context.Context, tenant dwell.TenantID, id dwell.ClientID) error {
	const op = dwell.Op("pgstore.DeleteClient")
	if err := checkTenantKey(op, tenant, "id", string(id)); err != nil {
		return err
	}
	return s.writeReadCommitted(ctx, op, execOneTx(notFound, "client", string(id),
		`DELETE FROM clients WHERE tenant = $1 AND id = $2`,
		[]any{string(tenant), string(id)}, s.tenantMarker(tenant)))
}

// ListClients implements store.Store.
func (s *Store) ListClients(ctx context.Context, tenant dwell.TenantID, f store.ClientFilter, p store.Page) ([]dwell.Client, bool, error) {
	const op = dwell.Op("pgstore.ListClients")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, false, err
	}
	if f.Kind == dwell.ClientKindUnspecified {
		return listPage(ctx, s, op, p, `SELECT `+clientColumns+` FROM clients
			WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3`,
			[]any{string(tenant), p.After}, scanClient)
	}
	return listPage(ctx, s, op, p, `SELECT `+clientColumns+` FROM clients
		WHERE tenant = $1 AND kind = $2 AND id > $3 ORDER BY id LIMIT $4`,
		[]any{string(tenant), int16(f.Kind), p.After}, scanClient)
}

// PutClients implements store.Store: one statement writes every client
// (all of them or, on error, none); of clients with the same id the last
// wins. It marks the tenant's recent days dirty once (markTenant).
func (s *Store) PutClients(ctx context.Context, tenant dwell.TenantID, cs []dwell.Client) error {
	const op = dwell.Op("pgstore.PutClients")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return err
	}
	if len(cs) == 0 {
		return nil
	}
	// ON CONFLICT DO UPDATE may touch a row once per statement: keep the
	// last client of each id.
	last := make(map[dwell.ClientID]int, len(cs))
	for i := range cs {
		field := fmt.Sprintf("clients[%d]", i)
		if err := checkKey(op, field+".id", string(cs[i].ID)); err != nil {
			return err
		}
		last[cs[i].ID] = i
	}
	n := len(last)
	ids, kinds, recs := make([]string, 0, n), make([]int16, 0, n), make([]clientRec, 0, n)
	cts, uts := make([]*int64, 0, n), make([]*int64, 0, n)
	for i := range cs {
		if last[cs[i].ID] != i {
			continue
		}
		row, err := toClientRow(op, fmt.Sprintf("clients[%d]", i), &cs[i])
		if err != nil {
			return err
		}
		ids, kinds, recs = append(ids, string(cs[i].ID)), append(kinds, int16(cs[i].Kind)), append(recs, row.rec)
		cts, uts = append(cts, row.ct), append(uts, row.ut)
	}
	return s.writeReadCommitted(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO clients AS c (tenant, id, kind, rec, create_time, update_time)
			SELECT $1, id, kind, rec, ct, ut
			FROM unnest($2::text[], $3::smallint[], $4::json[], $5::bigint[], $6::bigint[]) AS x(id, kind, rec, ct, ut)
			ON CONFLICT (tenant, id) DO UPDATE SET kind = excluded.kind, rec = excluded.rec,
				update_time = excluded.update_time, revision = c.revision + 1`,
			string(tenant), ids, kinds, recs, cts, uts)
		if err != nil {
			return err
		}
		return s.markTenant(ctx, tx, tenant, nil)
	})
}

// Reps.

type workingHoursRec struct {
	Weekday     int `json:"d"`
	StartMinute int `json:"s"`
	EndMinute   int `json:"e"`
}

// workingHoursValue returns the value of a rep's working_hours column: a
// json array, or nil (NULL) for none.
func workingHoursValue(whs []dwell.WorkingHours) any {
	if len(whs) == 0 {
		return nil
	}
	out := make([]workingHoursRec, len(whs))
	for i, w := range whs {
		out[i] = workingHoursRec{int(w.Weekday), w.StartMinute, w.EndMinute}
	}
	return out
}

func fromWorkingHours(recs []workingHoursRec) []dwell.WorkingHours {
	if len(recs) == 0 {
		return nil
	}
	out := make([]dwell.WorkingHours, len(recs))
	for i, w := range recs {
		out[i] = dwell.WorkingHours{Weekday: time.Weekday(w.Weekday), StartMinute: w.StartMinute, EndMinute: w.EndMinute}
	}
	return out
}

// repColumns are the columns scanRep reads, in its order.
const repColumns = `id, display_name, email, time_zone, team, working_hours, create_time, update_time, revision`

func scanRep(row pgx.CollectableRow) (dwell.Rep, error) {
	var (
		r      dwell.Rep
		id     string
		team   string
		whs    []workingHoursRec
		ct, ut *int64
	)
	if err := row.Scan(&id, &r.DisplayName, &r.Email, &r.TimeZone, &team, &whs, &ct, &ut, &r.Revision); err != nil {
		return dwell.Rep{}, err
	}
	r.ID, r.Team, r.WorkingHours = dwell.RepID(id), dwell.TeamID(team), fromWorkingHours(whs)
	r.CreateTime, r.UpdateTime = fromOptNanos(ct), fromOptNanos(ut)
	return r, nil
}

// repArgs returns the arguments $1 to $10 of a write of r: tenant, id,
// display_name, email, time_zone, team, working_hours, create_time,
// update_time, revision (a precondition).
func repArgs(op dwell.Op, tenant dwell.TenantID, r *dwell.Rep) ([]any, error) {
	if err := checkTenantKey(op, tenant, "rep.id", string(r.ID)); err != nil {
		return nil, err
	}
	ct, ut, err := recordTimes(op, "rep", r.CreateTime, r.UpdateTime)
	if err != nil {
		return nil, err
	}
	return []any{string(tenant), string(r.ID), r.DisplayName, r.Email, r.TimeZone, string(r.Team),
		workingHoursValue(r.WorkingHours), ct, ut, r.Revision}, nil
}

// CreateRep implements store.Store. It marks no day: like boltstore, a
// rep's data written before it was in the directory keeps the UTC days it
// was marked in.
func (s *Store) CreateRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep) error {
	const op = dwell.Op("pgstore.CreateRep")
	args, err := repArgs(op, tenant, &r)
	if err != nil {
		return err
	}
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO reps (tenant, id, display_name, email, time_zone, team, working_hours, create_time, update_time)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9 WHERE `+repTeamExists+`
			ON CONFLICT DO NOTHING`, args[:9]...)
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM reps WHERE tenant = $1 AND id = $2)`,
			string(tenant), string(r.ID)).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return alreadyExists("rep", string(r.ID))
		}
		return noTeam(r.Team)
	})
}

// repTeamExists is the condition, on the arguments of repArgs, that a
// rep's team ($6) is none or a team of the tenant. A rep write states it
// in its own statement: under SERIALIZABLE, a DeleteTeam of that team
// committing meanwhile (it reads the team's reps and deletes the team)
// either is seen or makes one of the two fail and be run again, so no rep
// is ever left in a team that is gone.
const repTeamExists = `($6 = '' OR EXISTS (SELECT 1 FROM teams WHERE tenant = $1 AND id = $6))`

// noTeam is the error of a rep write refused because its team does not
// exist (store.Store's dwell.Invalid on field "team").
func noTeam(team dwell.TeamID) error {
	return dwell.E(dwell.Invalid, fmt.Sprintf("rep's team %q does not exist", team),
		dwell.Violation{Field: "team", Description: fmt.Sprintf("team %s does not exist", team)})
}

// GetRep implements store.Store.
func (s *Store) GetRep(ctx context.Context, tenant dwell.TenantID, id dwell.RepID) (dwell.Rep, error) {
	const op = dwell.Op("pgstore.GetRep")
	if err := checkTenantKey(op, tenant, "id", string(id)); err != nil {
		return dwell.Rep{}, err
	}
	return getOne(ctx, s, op, "rep", string(id),
		`SELECT `+repColumns+` FROM reps WHERE tenant = $1 AND id = $2`,
		[]any{string(tenant), string(id)}, scanRep)
}

// UpdateRep implements store.Store. A change of the rep's time zone or
// working hours marks its days dirty (markRep), in the same transaction.
func (s *Store) UpdateRep(ctx context.Context, tenant dwell.TenantID, r dwell.Rep) error {
	const op = dwell.Op("pgstore.UpdateRep")
	args, err := repArgs(op, tenant, &r)
	if err != nil {
		return err
	}
	return s.write(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		// The self-join returns the row as it was before the update.
		var oldZone string
		var oldHours []workingHoursRec
		err := tx.QueryRow(ctx, `
			UPDATE reps AS r SET display_name = $3, email = $4, time_zone = $5, team = $6,
				working_hours = $7, create_time = $8, update_time = $9, revision = r.revision + 1
			FROM (SELECT time_zone, working_hours FROM reps WHERE tenant = $1 AND id = $2 FOR UPDATE) AS old
			WHERE r.tenant = $1 AND r.id = $2 AND ($10::bigint = 0 OR (r.revision = $10 AND r.create_time IS NOT DISTINCT FROM $8)) AND `+repTeamExists+`
			RETURNING old.time_zone, old.working_hours`, args...).Scan(&oldZone, &oldHours)
		if errors.Is(err, pgx.ErrNoRows) {
			return repRefused(ctx, tx, tenant, &r)
		}
		if err != nil {
			return err
		}
		// The zone cuts the rep's days and the working hours bound them:
		// a change of either derives its recent days again.
		if oldZone == r.TimeZone && slices.Equal(fromWorkingHours(oldHours), r.WorkingHours) {
			return nil
		}
		return s.markRep(ctx, tx, tenant, r.ID, s.location(oldZone), s.location(r.TimeZone))
	})
}

// repRefused returns why the UpdateRep of r wrote nothing: as refused
// says, where a rep whose revision passed was refused because its team
// is gone (noTeam).
func repRefused(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, r *dwell.Rep) error {
	return refused(ctx, tx, "reps", "rep", tenant, string(r.ID), r.Revision, &r.CreateTime, func() error {
		if r.Team == "" {
			return nil
		}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM teams WHERE tenant = $1 AND id = $2)`,
			string(tenant), string(r.Team)).Scan(&ok); err != nil || ok {
			return err
		}
		return noTeam(r.Team)
	})
}

// DeleteRep implements store.Store. It removes the directory entry only;
// the rep's fixes and actions stay (erasing them is a separate operation).
func (s *Store) DeleteRep(ctx context.Context, tenant dwell.TenantID, id dwell.RepID) error {
	const op = dwell.Op("pgstore.DeleteRep")
	if err := checkTenantKey(op, tenant, "id", string(id)); err != nil {
		return err
	}
	return s.execOne(ctx, op, notFound, "rep", string(id),
		`DELETE FROM reps WHERE tenant = $1 AND id = $2`, []any{string(tenant), string(id)}, nil)
}

// ListReps implements store.Store. The team filter reads reps_by_team.
func (s *Store) ListReps(ctx context.Context, tenant dwell.TenantID, f store.RepFilter, p store.Page) ([]dwell.Rep, bool, error) {
	const op = dwell.Op("pgstore.ListReps")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, false, err
	}
	if f.Team == "" {
		return listPage(ctx, s, op, p, `SELECT `+repColumns+` FROM reps
			WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3`,
			[]any{string(tenant), p.After}, scanRep)
	}
	return listPage(ctx, s, op, p, `SELECT `+repColumns+` FROM reps
		WHERE tenant = $1 AND team = $2 AND id > $3 ORDER BY id LIMIT $4`,
		[]any{string(tenant), string(f.Team), p.After}, scanRep)
}

// Teams.

// teamColumns are the columns scanTeam reads, in its order.
const teamColumns = `id, display_name, managers, create_time, update_time, revision`

func scanTeam(row pgx.CollectableRow) (dwell.Team, error) {
	var (
		tm     dwell.Team
		id     string
		ct, ut *int64
	)
	if err := row.Scan(&id, &tm.DisplayName, &tm.Managers, &ct, &ut, &tm.Revision); err != nil {
		return dwell.Team{}, err
	}
	if len(tm.Managers) == 0 {
		tm.Managers = nil
	}
	tm.ID, tm.CreateTime, tm.UpdateTime = dwell.TeamID(id), fromOptNanos(ct), fromOptNanos(ut)
	return tm, nil
}

// teamArgs returns the arguments $1 to $6 of a write of tm: tenant, id,
// display_name, managers, create_time, update_time.
func teamArgs(op dwell.Op, tenant dwell.TenantID, tm *dwell.Team) ([]any, error) {
	if err := checkTenantKey(op, tenant, "team.id", string(tm.ID)); err != nil {
		return nil, err
	}
	ct, ut, err := recordTimes(op, "team", tm.CreateTime, tm.UpdateTime)
	if err != nil {
		return nil, err
	}
	managers := tm.Managers
	if managers == nil {
		managers = []string{}
	}
	return []any{string(tenant), string(tm.ID), tm.DisplayName, managers, ct, ut}, nil
}

// CreateTeam implements store.Store.
func (s *Store) CreateTeam(ctx context.Context, tenant dwell.TenantID, tm dwell.Team) error {
	const op = dwell.Op("pgstore.CreateTeam")
	args, err := teamArgs(op, tenant, &tm)
	if err != nil {
		return err
	}
	return s.execOne(ctx, op, alreadyExists, "team", string(tm.ID), `
		INSERT INTO teams (tenant, id, display_name, managers, create_time, update_time)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, args, nil)
}

// GetTeam implements store.Store.
func (s *Store) GetTeam(ctx context.Context, tenant dwell.TenantID, id dwell.TeamID) (dwell.Team, error) {
	const op = dwell.Op("pgstore.GetTeam")
	if err := checkTenantKey(op, tenant, "id", string(id)); err != nil {
		return dwell.Team{}, err
	}
	return getOne(ctx, s, op, "team", string(id),
		`SELECT `+teamColumns+` FROM teams WHERE tenant = $1 AND id = $2`,
		[]any{string(tenant), string(id)}, scanTeam)
}

// UpdateTeam implements store.Store.
func (s *Store) UpdateTeam(ctx context.Context, tenant dwell.TenantID, tm dwell.Team) error {
	const op = dwell.Op("pgstore.UpdateTeam")
	args, err := teamArgs(op, tenant, &tm)
	if err != nil {
		return err
	}
	return s.write(ctx, op, updateOneTx("teams", "team", tenant, string(tm.ID), tm.Revision, &tm.CreateTime, `
		UPDATE teams SET display_name = $3, managers = $4, create_time = $5, update_time = $6, revision = revision + 1
		WHERE tenant = $1 AND id = $2 AND ($7::bigint = 0 OR (revision = $7 AND create_time IS NOT DISTINCT FROM $5))`, append(args, tm.Revision), nil))
}

// DeleteTeam implements store.Store: in the same transaction, every rep
// of the team is left without one, its UpdateTime the store's clock.
func (s *Store) DeleteTeam(ctx context.Context, tenant dwell.TenantID, id dwell.TeamID) error {
	const op = dwell.Op("pgstore.DeleteTeam")
	if err := checkTenantKey(op, tenant, "id", string(id)); err != nil {
		return err
	}
	return s.execOne(ctx, op, notFound, "team", string(id),
		`DELETE FROM teams WHERE tenant = $1 AND id = $2`, []any{string(tenant), string(id)},
		func(ctx context.Context, tx pgx.Tx) error {
			// A team created later under the same id must not hand these
			// reps to its managers.
			now := boundNanos(s.now())
			_, err := tx.Exec(ctx, `UPDATE reps SET team = '', update_time = $3, revision = revision + 1 WHERE tenant = $1 AND team = $2`,
				string(tenant), string(id), now)
			return err
		})
}

// ListTeams implements store.Store.
func (s *Store) ListTeams(ctx context.Context, tenant dwell.TenantID, f store.TeamFilter, p store.Page) ([]dwell.Team, bool, error) {
	const op = dwell.Op("pgstore.ListTeams")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return nil, false, err
	}
	if f.Manager == "" {
		return listPage(ctx, s, op, p, `SELECT `+teamColumns+` FROM teams
			WHERE tenant = $1 AND id > $2 ORDER BY id LIMIT $3`,
			[]any{string(tenant), p.After}, scanTeam)
	}
	return listPage(ctx, s, op, p, `SELECT `+teamColumns+` FROM teams
		WHERE tenant = $1 AND $2 = ANY (managers) AND id > $3 ORDER BY id LIMIT $4`,
		[]any{string(tenant), f.Manager, p.After}, scanTeam)
}

// Settings.

// loadSettings returns the tenant's settings as tx sees them, or
// dwell.DefaultSettings() if it stored none.
func loadSettings(ctx context.Context, tx querier, tenant dwell.TenantID) (dwell.Settings, error) {
	set := dwell.DefaultSettings()
	var ret, vmin, imin, silence int64
	err := tx.QueryRow(ctx, `
		SELECT retention_ns, visit_min_ns, idle_min_ns, silence_min_ns, partner_accounts_required, revision
		FROM settings WHERE tenant = $1`, string(tenant)).Scan(&ret, &vmin, &imin, &silence, &set.PartnerAccountsRequired, &set.Revision)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return dwell.DefaultSettings(), nil
	case err != nil:
		return dwell.Settings{}, err
	}
	set.Retention, set.VisitMin, set.IdleMin = time.Duration(ret), time.Duration(vmin), time.Duration(imin)
	set.SilenceMin = time.Duration(silence)
	return set, nil
}

// GetSettings implements store.Store.
func (s *Store) GetSettings(ctx context.Context, tenant dwell.TenantID) (dwell.Settings, error) {
	const op = dwell.Op("pgstore.GetSettings")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return dwell.DefaultSettings(), err
	}
	var set dwell.Settings
	err := s.readOne(ctx, op, func(ctx context.Context, tx querier) (err error) {
		set, err = loadSettings(ctx, tx, tenant)
		return err
	})
	if err != nil {
		return dwell.DefaultSettings(), err
	}
	return set, nil
}

// PutSettings implements store.Store. It marks the tenant's recent days
// dirty (markTenant) under the new retention period. The precondition is
// part of the statement that writes: an upsert when there is none, an
// insert that does nothing on a stored row for dwell.RevisionAbsent, an
// update of the row at the revision read otherwise.
func (s *Store) PutSettings(ctx context.Context, tenant dwell.TenantID, set dwell.Settings) error {
	const op = dwell.Op("pgstore.PutSettings")
	if err := checkKey(op, "tenant", string(tenant)); err != nil {
		return err
	}
	const insert = `
		INSERT INTO settings AS s (tenant, retention_ns, visit_min_ns, idle_min_ns, silence_min_ns, partner_accounts_required)
		VALUES ($1, $2, $3, $4, $5, $6)`
	var sql string
	args := []any{string(tenant), int64(set.Retention), int64(set.VisitMin), int64(set.IdleMin), int64(set.SilenceMin),
		set.PartnerAccountsRequired}
	switch want := set.Revision; want {
	case 0:
		sql = insert + `
		ON CONFLICT (tenant) DO UPDATE SET retention_ns = excluded.retention_ns, visit_min_ns = excluded.visit_min_ns,
			idle_min_ns = excluded.idle_min_ns, silence_min_ns = excluded.silence_min_ns,
			partner_accounts_required = excluded.partner_accounts_required, revision = s.revision + 1`
	case dwell.RevisionAbsent:
		sql = insert + ` ON CONFLICT (tenant) DO NOTHING`
	default:
		sql = `
		UPDATE settings SET retention_ns = $2, visit_min_ns = $3, idle_min_ns = $4, silence_min_ns = $5,
			partner_accounts_required = $6, revision = revision + 1
		WHERE tenant = $1 AND revision = $7`
		args = append(args, want)
	}
	return s.writeReadCommitted(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			var stored int64
			err := tx.QueryRow(ctx, `SELECT revision FROM settings WHERE tenant = $1`, string(tenant)).Scan(&stored)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
			if err := store.CheckRevision("the settings of tenant "+string(tenant), set.Revision, stored); err != nil {
				return err
			}
			return dwell.E(dwell.Conflict, "the settings of tenant "+string(tenant)+" changed since they were read")
		}
		return s.markTenant(ctx, tx, tenant, &set)
	})
}

// Day marks of directory and settings changes.

// RederiveAll implements store.Summaries. The derivation version is the
// row 'derivation' of dwell_meta, locked for the transaction, so that of
// servers starting at once one marks and the others find it recorded.
func (s *Store) RederiveAll(ctx context.Context, version uint64) (bool, error) {
	const op = dwell.Op("pgstore.RederiveAll")
	marked := false
	err := s.writeReadCommitted(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		marked = false // a retried transaction runs fn again
		if _, err := tx.Exec(ctx, `INSERT INTO dwell_meta (name, value) VALUES ('derivation', 0) ON CONFLICT (name) DO NOTHING`); err != nil {
			return err
		}
		var cur int64
		if err := tx.QueryRow(ctx, `SELECT value FROM dwell_meta WHERE name = 'derivation' FOR UPDATE`).Scan(&cur); err != nil {
			return err
		}
		if cur >= 0 && uint64(cur) >= version {
			return nil
		}
		// The tenants with days, by a loose index scan of the days' key.
		rows, err := tx.Query(ctx, `
			WITH RECURSIVE t AS (
				(SELECT tenant FROM days ORDER BY tenant LIMIT 1)
				UNION ALL
				SELECT (SELECT d.tenant FROM days AS d WHERE d.tenant > t.tenant ORDER BY d.tenant LIMIT 1)
				FROM t WHERE t.tenant IS NOT NULL
			)
			SELECT tenant FROM t WHERE tenant IS NOT NULL`)
		if err != nil {
			return err
		}
		tenants, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, tn := range tenants {
			if err := s.markTenant(ctx, tx, dwell.TenantID(tn), nil); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE dwell_meta SET value = $1 WHERE name = 'derivation'`, int64(version)); err != nil {
			return err
		}
		marked = len(tenants) > 0
		return nil
	})
	return marked, err
}

// tenantMarker returns a function that marks the tenant's recent days in
// a transaction (markTenant), for execOne.
func (s *Store) tenantMarker(tenant dwell.TenantID) func(ctx context.Context, tx pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error { return s.markTenant(ctx, tx, tenant, nil) }
}

// oldZoneDay returns the first date markRep marks after a change of zone
// from old to loc, since or the day before: the old zone's day that holds
// the instant since begins in loc, when that day is dated before since (a
// zone ahead of the old one) and not before limit (the first date that
// has lost no data to retention). Derived again in loc, that day ends
// where since begins, so no instant counts in two stored days there.
func oldZoneDay(since dwell.Date, old, loc *time.Location, limit dwell.Date) dwell.Date {
	d := dwell.DateOf(since.Start(loc), old)
	if d.Before(since) && !d.Before(limit) {
		return d
	}
	return since
}

// rederiveSince returns the first date a change derives again: store.
// RederiveDays before the store's clock (in UTC, less one day for zones
// ahead of it), and no day that began before the tenant's retention period
// as it is now. A rep's prune horizon may push it later (lostSinceSQL).
// set is the tenant's settings, or nil to read them in tx.
func (s *Store) rederiveSince(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, set *dwell.Settings) (dwell.Date, error) {
	if set == nil {
		st, err := loadSettings(ctx, tx, tenant)
		if err != nil {
			return dwell.Date{}, err
		}
		set = &st
	}
	now := s.now()
	return laterDate(dwell.DateOf(now, time.UTC).AddDays(-store.RederiveDays-1), keptFrom(now.Add(-set.Retention))), nil
}

// keptFrom returns the first date whose day, in every zone, began at or
// after instant cut: two UTC days after the one cut falls on (zones run
// from UTC-12 to UTC+14). Days from it on have lost no fix deleted before
// cut. lostSinceSQL computes the same in SQL.
func keptFrom(cut time.Time) dwell.Date {
	return dwell.DateOf(cut, time.UTC).AddDays(2)
}

// lostSinceSQL is the SQL of keptFrom of the rep's prune horizon (the
// later of rep_data.fixes_pruned and rep_data.actions_cleared, Unix
// nanoseconds) of the rep_data row aliased rd: NULL when the rep lost
// nothing to retention. A day is the 86,400 s of a UTC date, so the
// horizon's UTC date is a floor division.
const lostSinceSQL = `(date '1970-01-01' + floor(greatest(rd.fixes_pruned, rd.actions_cleared) / 86400000000000.0)::int + 2)`

// laterDate returns the later of a and b.
func laterDate(a, b dwell.Date) dwell.Date {
	if a.Before(b) {
		return b
	}
	return a
}

// markTenant marks dirty (bumps) every rep-day of the tenant dated
// rederiveSince or later, except, for a rep that lost data to retention,
// days before keptFrom of its prune horizon: a period raised since does
// not bring the fixes back. set is the tenant's settings, or nil to read
// them in tx (so a settings change passes the new ones).
func (s *Store) markTenant(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, set *dwell.Settings) error {
	since, err := s.rederiveSince(ctx, tx, tenant, set)
	if err != nil {
		return err
	}
	// The reps with days are found by a loose index scan of the days'
	// primary key (one probe per rep, as boltstore seeks past each rep's
	// older days), then each rep's recent days by a range of it, so the
	// cost follows the reps and the days marked, not the tenant's history.
	_, err = tx.Exec(ctx, `
		WITH RECURSIVE r AS (
			(SELECT rep FROM days WHERE tenant = $1 ORDER BY rep LIMIT 1)
			UNION ALL
			SELECT (SELECT d.rep FROM days AS d WHERE d.tenant = $1 AND d.rep > r.rep ORDER BY d.rep LIMIT 1)
			FROM r WHERE r.rep IS NOT NULL
		)
		UPDATE days AS d SET version = d.version + 1, dirty = true
		FROM r LEFT JOIN rep_data AS rd ON rd.tenant = $1 AND rd.rep = r.rep
		WHERE d.tenant = $1 AND d.rep = r.rep AND d.day >= greatest($2::date, `+lostSinceSQL+`)`,
		string(tenant), pgDate(since))
	return err
}

// markRep marks dirty, after a change of the rep's time zone (from old to
// loc, the new one) or working hours, the rep's days markTenant would mark
// (its days from the same first date on) and the days, in loc, of its
// fixes and actions since that date: a new zone cuts its data into other
// days, which must have a data version to be derived and read. A zone
// ahead of the old one begins that first day before the old zone's day
// before it ends, so that day, as the old zone cut it, is marked too when
// it has a data version (oldZoneDay): left as it was, it would count the
// instants both days hold twice. It looks up which days of the window up
// to tomorrow hold data in one query, and the later days one query each
// (a rep rarely has data in the future).
func (s *Store) markRep(ctx context.Context, tx pgx.Tx, tenant dwell.TenantID, rep dwell.RepID, old, loc *time.Location) error {
	set, err := loadSettings(ctx, tx, tenant)
	if err != nil {
		return err
	}
	since, err := s.rederiveSince(ctx, tx, tenant, &set)
	if err != nil {
		return err
	}
	// No day that may have lost data to retention is marked: not before
	// the period as it is now, nor before the rep's prune horizon.
	limit := keptFrom(s.now().Add(-set.Retention))
	var lost pgtype.Date
	err = tx.QueryRow(ctx, `SELECT `+lostSinceSQL+` FROM rep_data AS rd WHERE rd.tenant = $1 AND rd.rep = $2`,
		string(tenant), string(rep)).Scan(&lost)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if lost.Valid {
		since = laterDate(since, fromPGDate(lost))
		limit = laterDate(limit, fromPGDate(lost))
	}
	rows, _ := tx.Query(ctx, `SELECT day FROM days WHERE tenant = $1 AND rep = $2 AND day >= $3`,
		string(tenant), string(rep), pgDate(oldZoneDay(since, old, loc, limit)))
	marked, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dwell.Date, error) {
		var d pgtype.Date
		err := row.Scan(&d)
		return fromPGDate(d), err
	})
	if err != nil {
		return err
	}

	// The window: every local day from since to tomorrow, as [lo, hi).
	var days []dwell.Date
	var los, his []int64
	last := dwell.DateOf(s.now(), loc).AddDays(1)
	for d := since; !last.Before(d); d = d.AddDays(1) {
		days = append(days, d)
		los, his = append(los, boundNanos(d.Start(loc))), append(his, boundNanos(d.AddDays(1).Start(loc)))
	}
	// The look-ups of actions read the rep's part of their primary key
	// (tenant, rep, kind, time, ...) and test time in the index: there is
	// no (tenant, rep, time) index for this rare call to use, and keeping
	// one would cost every recorded action.
	if len(days) > 0 {
		rows, _ := tx.Query(ctx, `
			SELECT w.i FROM unnest($3::bigint[], $4::bigint[]) WITH ORDINALITY AS w(lo, hi, i)
			WHERE EXISTS (SELECT 1 FROM fixes AS f WHERE f.tenant = $1 AND f.rep = $2 AND f.time >= w.lo AND f.time < w.hi)
			OR EXISTS (SELECT 1 FROM actions AS a WHERE a.tenant = $1 AND a.rep = $2 AND a.time >= w.lo AND a.time < w.hi)`,
			string(tenant), string(rep), los, his)
		idx, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, i := range idx {
			marked = append(marked, days[i-1])
		}
	}
	// After the window (or from since, after tomorrow when a short
	// retention period puts it there): seek from one day with data to the
	// next.
	next := boundNanos(since.Start(loc))
	if len(his) > 0 {
		next = his[len(his)-1]
	}
	for {
		var at *int64
		err := tx.QueryRow(ctx, `
			SELECT least(
				(SELECT min(time) FROM fixes WHERE tenant = $1 AND rep = $2 AND time >= $3),
				(SELECT min(time) FROM actions WHERE tenant = $1 AND rep = $2 AND time >= $3))`,
			string(tenant), string(rep), next).Scan(&at)
		if err != nil {
			return err
		}
		if at == nil {
			break
		}
		d := dwell.DateOf(fromNanos(*at), loc)
		marked = append(marked, d)
		n := boundNanos(d.AddDays(1).Start(loc))
		if n <= *at {
			break // the last day an instant can fall on
		}
		next = n
	}
	return bumpDays(ctx, tx, tenant, rep, marked)
}
