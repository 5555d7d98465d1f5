package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// These tests race masked updates (AIP-134 update_mask) of disjoint fields
// of one record and check that every acknowledged update's field
// survives: a masked update reads the record and writes it whole, so
// without the store's conditional write one of two racing updates writes
// back the other's field as it was before (a manager removed from a team
// comes back). Each round starts one update per field at once, split
// between the two sides, waits for all of them, and then reads the record:
// it must hold every field as its update of this round set it.
//
// No update may fail: a writer whose conditional write finds the record
// changed reads it again and retries, and each such refusal means another
// writer of the round has succeeded, so a writer is refused at most once
// per other writer of its round (3), fewer times than the server tries
// (10).

// maskedRace is one record and the writers of its fields.
type maskedRace struct {
	name  string
	setup func(t *testing.T, e *env)
	// read returns the record as the server serves it.
	read func(ctx context.Context, e *env) (any, error)
	// writers set one field each; writer i runs on side i%2.
	writers []maskedWriter
}

// maskedWriter updates one field of the record to its value for a round
// (update) and reads that field back from a record read returned (got),
// with the value the round set (want).
type maskedWriter struct {
	field  string
	update func(ctx context.Context, e *env, round int) error
	got    func(rec any) string
	want   func(round int) string
}

func mask(paths ...string) *fieldmaskpb.FieldMask { return &fieldmaskpb.FieldMask{Paths: paths} }

func maskedRaces() []maskedRace {
	clientW := func(field string, set func(c *dwellv1.Client, v string), get func(c *dwellv1.Client) string, val func(r int) string) maskedWriter {
		return maskedWriter{field: field,
			update: func(ctx context.Context, e *env, r int) error {
				c := &dwellv1.Client{Name: "clients/toko"}
				set(c, val(r))
				_, err := e.dirc.UpdateClient(ctx, &dwellv1.UpdateClientRequest{Client: c, UpdateMask: mask(field)})
				return err
			},
			got:  func(rec any) string { return get(rec.(*dwellv1.Client)) },
			want: val}
	}
	repW := func(field string, set func(p *dwellv1.Rep, v string), get func(p *dwellv1.Rep) string, val func(r int) string) maskedWriter {
		return maskedWriter{field: field,
			update: func(ctx context.Context, e *env, r int) error {
				p := &dwellv1.Rep{Name: "reps/ida"}
				set(p, val(r))
				_, err := e.dirc.UpdateRep(ctx, &dwellv1.UpdateRepRequest{Rep: p, UpdateMask: mask(field)})
				return err
			},
			got:  func(rec any) string { return get(rec.(*dwellv1.Rep)) },
			want: val}
	}
	settingsW := func(field string, set func(s *dwellv1.Settings, v int32), get func(s *dwellv1.Settings) int32, val func(r int) int32) maskedWriter {
		return maskedWriter{field: field,
			update: func(ctx context.Context, e *env, r int) error {
				s := &dwellv1.Settings{}
				set(s, val(r))
				_, err := e.dirc.UpdateSettings(ctx, &dwellv1.UpdateSettingsRequest{Settings: s, UpdateMask: mask(field)})
				return err
			},
			got:  func(rec any) string { return fmt.Sprint(get(rec.(*dwellv1.Settings))) },
			want: func(r int) string { return fmt.Sprint(val(r)) }}
	}
	oppW := func(field string, set func(o *dwellv1.Opportunity, r int), get func(o *dwellv1.Opportunity) string, want func(r int) string) maskedWriter {
		return maskedWriter{field: field,
			update: func(ctx context.Context, e *env, r int) error {
				o := &dwellv1.Opportunity{Name: "opportunities/deal"}
				set(o, r)
				_, err := e.sales.UpdateOpportunity(ctx, &dwellv1.UpdateOpportunityRequest{Opportunity: o, UpdateMask: mask(field)})
				return err
			},
			got:  func(rec any) string { return get(rec.(*dwellv1.Opportunity)) },
			want: want}
	}
	text := func(prefix string) func(r int) string {
		return func(r int) string { return fmt.Sprintf("%s %d", prefix, r) }
	}
	return []maskedRace{
		{
			name:  "client",
			setup: func(t *testing.T, e *env) { e.mustCreateClient(e.admin(acme), "toko", -6.2, 106.8, 50) },
			read: func(ctx context.Context, e *env) (any, error) {
				r, err := e.dirc.GetClient(ctx, &dwellv1.GetClientRequest{Name: "clients/toko"})
				return r.GetClient(), err
			},
			writers: []maskedWriter{
				clientW("display_name", func(c *dwellv1.Client, v string) { c.DisplayName = v }, (*dwellv1.Client).GetDisplayName, text("Toko")),
				clientW("address", func(c *dwellv1.Client, v string) { c.Address = v }, (*dwellv1.Client).GetAddress, text("Jl. Sudirman")),
				clientW("external_id", func(c *dwellv1.Client, v string) { c.ExternalId = v }, (*dwellv1.Client).GetExternalId, text("crm")),
				{field: "geofence",
					update: func(ctx context.Context, e *env, r int) error {
						_, err := e.dirc.UpdateClient(ctx, &dwellv1.UpdateClientRequest{Client: circleClient("toko", -6.2, 106.8, float64(50+r)), UpdateMask: mask("geofence")})
						return err
					},
					got: func(rec any) string {
						return fmt.Sprint(rec.(*dwellv1.Client).GetGeofence().GetCircle().GetRadiusMeters())
					},
					want: func(r int) string { return fmt.Sprint(float64(50 + r)) }},
			},
		},
		{
			name:  "team",
			setup: func(t *testing.T, e *env) { e.mustCreateTeam(e.admin(acme), "north", "m0") },
			read: func(ctx context.Context, e *env) (any, error) {
				r, err := e.dirc.GetTeam(ctx, &dwellv1.GetTeamRequest{Name: "teams/north"})
				return r.GetTeam(), err
			},
			writers: []maskedWriter{
				{field: "managers",
					update: func(ctx context.Context, e *env, r int) error {
						_, err := e.dirc.UpdateTeam(ctx, &dwellv1.UpdateTeamRequest{
							Team: &dwellv1.Team{Name: "teams/north", Managers: []string{fmt.Sprint("m", r)}}, UpdateMask: mask("managers")})
						return err
					},
					got:  func(rec any) string { return fmt.Sprint(rec.(*dwellv1.Team).GetManagers()) },
					want: func(r int) string { return fmt.Sprint([]string{fmt.Sprint("m", r)}) }},
				{field: "display_name",
					update: func(ctx context.Context, e *env, r int) error {
						_, err := e.dirc.UpdateTeam(ctx, &dwellv1.UpdateTeamRequest{
							Team: &dwellv1.Team{Name: "teams/north", DisplayName: fmt.Sprint("North ", r)}, UpdateMask: mask("display_name")})
						return err
					},
					got:  func(rec any) string { return rec.(*dwellv1.Team).GetDisplayName() },
					want: text("North")},
			},
		},
		{
			name:  "rep",
			setup: func(t *testing.T, e *env) { createIda(t, e) },
			read: func(ctx context.Context, e *env) (any, error) {
				r, err := e.dirc.GetRep(ctx, &dwellv1.GetRepRequest{Name: "reps/ida"})
				return r.GetRep(), err
			},
			writers: []maskedWriter{
				repW("display_name", func(p *dwellv1.Rep, v string) { p.DisplayName = v }, (*dwellv1.Rep).GetDisplayName, text("Ida")),
				repW("email", func(p *dwellv1.Rep, v string) { p.Email = v }, (*dwellv1.Rep).GetEmail,
					func(r int) string { return fmt.Sprintf("ida%d@example.com", r) }),
				repW("time_zone", func(p *dwellv1.Rep, v string) { p.TimeZone = v }, (*dwellv1.Rep).GetTimeZone,
					func(r int) string { return []string{"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}[r%3] }),
			},
		},
		{
			// A tenant with no stored settings: the first round's writers
			// all read the defaults, and only one may store settings
			// where none were.
			name:  "settings",
			setup: func(t *testing.T, e *env) {},
			read: func(ctx context.Context, e *env) (any, error) {
				r, err := e.dirc.GetSettings(ctx, &dwellv1.GetSettingsRequest{Name: "settings"})
				return r.GetSettings(), err
			},
			writers: []maskedWriter{
				settingsW("retention_days", func(s *dwellv1.Settings, v int32) { s.RetentionDays = v }, (*dwellv1.Settings).GetRetentionDays,
					func(r int) int32 { return int32(100 + r) }),
				settingsW("visit_min_seconds", func(s *dwellv1.Settings, v int32) { s.VisitMinSeconds = v }, (*dwellv1.Settings).GetVisitMinSeconds,
					func(r int) int32 { return int32(200 + r) }),
				settingsW("idle_min_seconds", func(s *dwellv1.Settings, v int32) { s.IdleMinSeconds = v }, (*dwellv1.Settings).GetIdleMinSeconds,
					func(r int) int32 { return int32(300 + r) }),
				settingsW("silence_min_seconds", func(s *dwellv1.Settings, v int32) { s.SilenceMinSeconds = v }, (*dwellv1.Settings).GetSilenceMinSeconds,
					func(r int) int32 { return int32(400 + r) }),
			},
		},
		{
			name: "partner",
			setup: func(t *testing.T, e *env) {
				e.mustCreatePartner("crm", false, dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ)
			},
			read: func(ctx context.Context, e *env) (any, error) {
				r, err := e.dirc.GetPartner(ctx, &dwellv1.GetPartnerRequest{Name: "partners/crm"})
				return r.GetPartner(), err
			},
			writers: []maskedWriter{
				{field: "display_name",
					update: func(ctx context.Context, e *env, r int) error {
						_, err := e.dirc.UpdatePartner(ctx, &dwellv1.UpdatePartnerRequest{
							Partner: &dwellv1.Partner{Name: "partners/crm", DisplayName: fmt.Sprint("CRM ", r)}, UpdateMask: mask("display_name")})
						return err
					},
					got:  func(rec any) string { return rec.(*dwellv1.Partner).GetDisplayName() },
					want: text("CRM")},
				{field: "disabled",
					update: func(ctx context.Context, e *env, r int) error {
						_, err := e.dirc.UpdatePartner(ctx, &dwellv1.UpdatePartnerRequest{
							Partner: &dwellv1.Partner{Name: "partners/crm", Disabled: r%2 == 1}, UpdateMask: mask("disabled")})
						return err
					},
					got:  func(rec any) string { return fmt.Sprint(rec.(*dwellv1.Partner).GetDisabled()) },
					want: func(r int) string { return fmt.Sprint(r%2 == 1) }},
				{field: "scopes",
					update: func(ctx context.Context, e *env, r int) error {
						sc := []dwellv1.PartnerScope{dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ, dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_WRITE}[:1+r%2]
						_, err := e.dirc.UpdatePartner(ctx, &dwellv1.UpdatePartnerRequest{
							Partner: &dwellv1.Partner{Name: "partners/crm", Scopes: sc}, UpdateMask: mask("scopes")})
						return err
					},
					got:  func(rec any) string { return fmt.Sprint(len(rec.(*dwellv1.Partner).GetScopes())) },
					want: func(r int) string { return fmt.Sprint(1 + r%2) }},
			},
		},
		{
			name:  "opportunity",
			setup: createDeal,
			read: func(ctx context.Context, e *env) (any, error) {
				r, err := e.sales.GetOpportunity(ctx, &dwellv1.GetOpportunityRequest{Name: "opportunities/deal"})
				return r.GetOpportunity(), err
			},
			writers: []maskedWriter{
				oppW("amount", func(o *dwellv1.Opportunity, r int) {
					o.Amount = &dwellv1.Money{CurrencyCode: "IDR", AmountMinor: int64(1000 + r)}
				},
					func(o *dwellv1.Opportunity) string { return fmt.Sprint(o.GetAmount().GetAmountMinor()) },
					func(r int) string { return fmt.Sprint(1000 + r) }),
				oppW("external_id", func(o *dwellv1.Opportunity, r int) { o.ExternalId = fmt.Sprint("crm ", r) },
					(*dwellv1.Opportunity).GetExternalId, text("crm")),
			},
		},
	}
}

// raceMasked runs rounds of c's writers, writer i on sides[i%2], and
// fails t at the first round whose record lost an acknowledged field.
func raceMasked(t *testing.T, c maskedRace, sides [2]*env, rounds int) {
	c.setup(t, sides[0])
	ctxs := [2]context.Context{sides[0].admin(acme), sides[1].admin(acme)}
	for r := 1; r <= rounds; r++ {
		errs := make([]error, len(c.writers))
		var start, wg sync.WaitGroup
		start.Add(1)
		for i, w := range c.writers {
			wg.Go(func() {
				start.Wait()
				errs[i] = w.update(ctxs[i%2], sides[i%2], r)
			})
		}
		start.Done()
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: update of %s %s on side %d: %v", r, c.name, c.writers[i].field, i%2, err)
			}
		}
		for s, e := range sides {
			rec, err := c.read(ctxs[s], e)
			if err != nil {
				t.Fatalf("round %d: read %s on side %d: %v", r, c.name, s, err)
			}
			var lost []string
			for _, w := range c.writers {
				if got, want := w.got(rec), w.want(r); got != want {
					lost = append(lost, fmt.Sprintf("%s = %q, want %q", w.field, got, want))
				}
			}
			if len(lost) > 0 {
				t.Fatalf("round %d: %s read on side %d lost acknowledged updates: %v", r, c.name, s, lost)
			}
		}
	}
}

// TestMaskedUpdatesOnTwoServers races the masked updates of each kind of
// record from two servers sharing one PostgreSQL schema.
func TestMaskedUpdatesOnTwoServers(t *testing.T) {
	for _, c := range maskedRaces() {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t, nil)
			raceMasked(t, c, [2]*env{p.a, p.b}, 25)
		})
	}
}

// TestMaskedUpdatesOnOneServer races them on one server, on the store
// storeEnv picks (bbolt by default): the server's update lock queues them,
// and every one must succeed and keep its field.
func TestMaskedUpdatesOnOneServer(t *testing.T) {
	for _, c := range maskedRaces() {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			raceMasked(t, c, [2]*env{e, e}, 25)
		})
	}
}

// TestMaskedUpdatesOnOneStore races them from two servers in one process
// on one store (bbolt by default), as two processes would if they could
// share a bbolt file: each server queues only its own writes, so the
// store's conditional write is all that keeps them from undoing each
// other's.
func TestMaskedUpdatesOnOneStore(t *testing.T) {
	for _, c := range maskedRaces() {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			raceMasked(t, c, [2]*env{e, newTwin(t, e)}, 25)
		})
	}
}

// newTwin starts a second server on e's store and keyring, with its own
// gRPC listener and connection and no refresher (e's runs), and stops it
// (not the store, which e closes) at the end of the test.
func newTwin(t *testing.T, e *env) *env {
	t.Helper()
	twin := &env{t: t, dir: e.dir, clock: e.clock, kr: e.kr, st: e.st}
	twin.serve(server.New(server.Config{Store: e.st, Verifier: e.kr, Now: e.now, RefreshWorkers: -1}))
	t.Cleanup(func() {
		twin.conn.Close()
		twin.gs.GracefulStop()
		twin.srv.Close()
	})
	return twin
}

// createDeal creates rep ida, client toko and an open opportunity "deal"
// of theirs.
func createDeal(t *testing.T, e *env) {
	t.Helper()
	createIda(t, e)
	e.mustCreateClient(e.admin(acme), "toko", -6.2, 106.8, 50)
	o := opp("deal", "ida", dwellv1.OpportunityStage_OPPORTUNITY_STAGE_OPEN, 1, e.now().Add(-time.Hour), time.Time{})
	if _, err := e.sales.UpsertOpportunities(e.admin(acme), &dwellv1.UpsertOpportunitiesRequest{RequestId: "deal", Opportunities: []*dwellv1.Opportunity{o}}); err != nil {
		t.Fatalf("UpsertOpportunities: %v", err)
	}
}
