package server_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// etagged is one kind of record with an etag (AIP-154), seen as one type:
// read returns its etag and the value of one field; update sets that field
// to val with etag as the request's precondition and returns the etag of
// the answer.
type etagged struct {
	name   string
	field  string // the etag's field in an update request
	setup  func(t *testing.T, e *env)
	read   func(ctx context.Context, e *env) (etag, val string, err error)
	update func(ctx context.Context, e *env, etag, val string) (string, error)
}

func etaggedKinds() []etagged {
	return []etagged{
		{name: "client", field: "client.etag",
			setup: func(t *testing.T, e *env) { e.mustCreateClient(e.admin(acme), "toko", -6.2, 106.8, 50) },
			read: func(ctx context.Context, e *env) (string, string, error) {
				r, err := e.dirc.GetClient(ctx, &dwellv1.GetClientRequest{Name: "clients/toko"})
				return r.GetClient().GetEtag(), r.GetClient().GetAddress(), err
			},
			update: func(ctx context.Context, e *env, etag, val string) (string, error) {
				r, err := e.dirc.UpdateClient(ctx, &dwellv1.UpdateClientRequest{
					Client: &dwellv1.Client{Name: "clients/toko", Address: val, Etag: etag}, UpdateMask: mask("address")})
				return r.GetClient().GetEtag(), err
			}},
		{name: "rep", field: "rep.etag",
			setup: func(t *testing.T, e *env) { createIda(t, e) },
			read: func(ctx context.Context, e *env) (string, string, error) {
				r, err := e.dirc.GetRep(ctx, &dwellv1.GetRepRequest{Name: "reps/ida"})
				return r.GetRep().GetEtag(), r.GetRep().GetEmail(), err
			},
			update: func(ctx context.Context, e *env, etag, val string) (string, error) {
				r, err := e.dirc.UpdateRep(ctx, &dwellv1.UpdateRepRequest{
					Rep: &dwellv1.Rep{Name: "reps/ida", Email: val + "@example.com", Etag: etag}, UpdateMask: mask("email")})
				return r.GetRep().GetEtag(), err
			}},
		{name: "team", field: "team.etag",
			setup: func(t *testing.T, e *env) { e.mustCreateTeam(e.admin(acme), "north", "m0") },
			read: func(ctx context.Context, e *env) (string, string, error) {
				r, err := e.dirc.GetTeam(ctx, &dwellv1.GetTeamRequest{Name: "teams/north"})
				return r.GetTeam().GetEtag(), fmt.Sprint(r.GetTeam().GetManagers()), err
			},
			update: func(ctx context.Context, e *env, etag, val string) (string, error) {
				r, err := e.dirc.UpdateTeam(ctx, &dwellv1.UpdateTeamRequest{
					Team: &dwellv1.Team{Name: "teams/north", Managers: []string{val}, Etag: etag}, UpdateMask: mask("managers")})
				return r.GetTeam().GetEtag(), err
			}},
		{name: "partner", field: "partner.etag",
			setup: func(t *testing.T, e *env) {
				e.mustCreatePartner("crm", false, dwellv1.PartnerScope_PARTNER_SCOPE_DIRECTORY_READ)
			},
			read: func(ctx context.Context, e *env) (string, string, error) {
				r, err := e.dirc.GetPartner(ctx, &dwellv1.GetPartnerRequest{Name: "partners/crm"})
				return r.GetPartner().GetEtag(), r.GetPartner().GetDisplayName(), err
			},
			update: func(ctx context.Context, e *env, etag, val string) (string, error) {
				r, err := e.dirc.UpdatePartner(ctx, &dwellv1.UpdatePartnerRequest{
					Partner: &dwellv1.Partner{Name: "partners/crm", DisplayName: val, Etag: etag}, UpdateMask: mask("display_name")})
				return r.GetPartner().GetEtag(), err
			}},
		{name: "opportunity", field: "opportunity.etag",
			setup: createDeal,
			read: func(ctx context.Context, e *env) (string, string, error) {
				r, err := e.sales.GetOpportunity(ctx, &dwellv1.GetOpportunityRequest{Name: "opportunities/deal"})
				return r.GetOpportunity().GetEtag(), r.GetOpportunity().GetExternalId(), err
			},
			update: func(ctx context.Context, e *env, etag, val string) (string, error) {
				r, err := e.sales.UpdateOpportunity(ctx, &dwellv1.UpdateOpportunityRequest{
					Opportunity: &dwellv1.Opportunity{Name: "opportunities/deal", ExternalId: val, Etag: etag}, UpdateMask: mask("external_id")})
				return r.GetOpportunity().GetEtag(), err
			}},
		{name: "settings", field: "settings.etag",
			setup: func(t *testing.T, e *env) {},
			read: func(ctx context.Context, e *env) (string, string, error) {
				r, err := e.dirc.GetSettings(ctx, &dwellv1.GetSettingsRequest{Name: "settings"})
				return r.GetSettings().GetEtag(), fmt.Sprint(r.GetSettings().GetIdleMinSeconds()), err
			},
			update: func(ctx context.Context, e *env, etag, val string) (string, error) {
				secs, err := strconv.ParseInt(val, 10, 32)
				if err != nil {
					return "", err
				}
				r, err := e.dirc.UpdateSettings(ctx, &dwellv1.UpdateSettingsRequest{
					Settings: &dwellv1.Settings{IdleMinSeconds: int32(secs), Etag: etag}, UpdateMask: mask("idle_min_seconds")})
				return r.GetSettings().GetEtag(), err
			}},
	}
}

// TestEtags checks the etag of every kind of record that has one: each
// write gives a new one; an update that carries the etag it read succeeds
// while the record is as read and is ABORTED, changing nothing, once
// another write came between; an empty etag updates unconditionally; an
// etag the server never gave is INVALID_ARGUMENT.
func TestEtags(t *testing.T) {
	for _, k := range etaggedKinds() {
		t.Run(k.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := e.admin(acme)
			k.setup(t, e)
			// val is the value of an update: the string itself, or for
			// settings an idle minimum in seconds that tells them apart.
			val := func(s string) string {
				if k.name == "settings" {
					return fmt.Sprint(600 + len(s))
				}
				return s
			}
			read := func(what string) (string, string) {
				t.Helper()
				etag, v, err := k.read(ctx, e)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				return etag, v
			}
			first, _ := read("first read")
			if first == "" {
				t.Fatal("first read has no etag")
			}

			second, err := k.update(ctx, e, first, val("a"))
			if err != nil {
				t.Fatalf("update with the etag read: %v", err)
			}
			if got, v := read("read after the update"); got != second || second == first || v != valueOf(k, val("a")) {
				t.Fatalf("after an update with the etag read: etag %q, value %q; want the answer's etag %q (not %q), value %q", got, v, second, first, valueOf(k, val("a")))
			}

			_, err = k.update(ctx, e, first, val("bb"))
			wantReason(t, "update with the etag of before the last write", err, codes.Aborted, dwell.ReasonEtagMismatch)
			if got, v := read("read after the refused update"); got != second || v != valueOf(k, val("a")) {
				t.Fatalf("after a refused update: etag %q, value %q; want %q, %q", got, v, second, valueOf(k, val("a")))
			}

			third, err := k.update(ctx, e, "", val("ccc"))
			if err != nil {
				t.Fatalf("update without an etag: %v", err)
			}
			if got, v := read("read after the unconditional update"); got != third || third == second || v != valueOf(k, val("ccc")) {
				t.Fatalf("after an update without an etag: etag %q, value %q; want %q (not %q), %q", got, v, third, second, valueOf(k, val("ccc")))
			}

			for _, bad := range []string{"x", "-1", "01", " 3", "99999999999999999999"} {
				_, err := k.update(ctx, e, bad, val("dddd"))
				wantViolation(t, fmt.Sprintf("update with etag %q", bad), err, k.field)
			}
			if got, v := read("read after the bad etags"); got != third || v != valueOf(k, val("ccc")) {
				t.Fatalf("after updates with bad etags: etag %q, value %q; want %q, %q", got, v, third, valueOf(k, val("ccc")))
			}
		})
	}
}

// valueOf is the value k's read gives after an update to val.
func valueOf(k etagged, val string) string {
	switch k.name {
	case "rep":
		return val + "@example.com"
	case "team":
		return fmt.Sprint([]string{val})
	}
	return val
}

// TestEtagOfSettingsNeverStored checks that the etag of the defaults of a
// tenant that stored no settings is a precondition too: an update that
// carries it succeeds only while none are stored.
func TestEtagOfSettingsNeverStored(t *testing.T) {
	e := newEnv(t)
	ctx := e.admin(acme)
	r, err := e.dirc.GetSettings(ctx, &dwellv1.GetSettingsRequest{Name: "settings"})
	if err != nil {
		t.Fatal(err)
	}
	defaults := r.GetSettings().GetEtag()
	up := func(etag string, secs int32) (*dwellv1.UpdateSettingsResponse, error) {
		return e.dirc.UpdateSettings(ctx, &dwellv1.UpdateSettingsRequest{
			Settings: &dwellv1.Settings{VisitMinSeconds: secs, Etag: etag}, UpdateMask: mask("visit_min_seconds")})
	}
	if _, err := up(defaults, 120); err != nil {
		t.Fatalf("first update with the defaults' etag %q: %v", defaults, err)
	}
	_, err = up(defaults, 240)
	wantCode(t, "second update with the defaults' etag", err, codes.Aborted)
	r, err = e.dirc.GetSettings(ctx, &dwellv1.GetSettingsRequest{Name: "settings"})
	if err != nil || r.GetSettings().GetVisitMinSeconds() != 120 {
		t.Fatalf("settings = %v, %v; want visit_min_seconds 120", r.GetSettings(), err)
	}
}

// TestEtagChangesWithWholeWrites checks that the writes that replace
// records whole, or change them as a side effect, give them a new etag, so
// that an update based on the etag from before them is ABORTED: an
// import of clients, an upsert of opportunities, the deletion of a rep's
// team.
func TestEtagChangesWithWholeWrites(t *testing.T) {
	e := newEnv(t)
	ctx := e.admin(acme)
	e.mustCreateClient(ctx, "toko", -6.2, 106.8, 50)
	e.mustCreateTeam(ctx, "north", "m0")
	e.mustCreateRep(ctx, "ida", "north")
	c, err := e.dirc.GetClient(ctx, &dwellv1.GetClientRequest{Name: "clients/toko"})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := e.dirc.GetRep(ctx, &dwellv1.GetRepRequest{Name: "reps/ida"})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := importRows(t, e, []*dwellv1.Client{circleClient("toko", -6.2, 106.8, 80)}); err != nil || resp.GetStored() != 1 {
		t.Fatalf("import: %v, %v", resp, err)
	}
	_, err = e.dirc.UpdateClient(ctx, &dwellv1.UpdateClientRequest{
		Client: &dwellv1.Client{Name: "clients/toko", Address: "lost", Etag: c.GetClient().GetEtag()}, UpdateMask: mask("address")})
	wantCode(t, "client update with the etag from before an import", err, codes.Aborted)

	if _, err := e.dirc.DeleteTeam(ctx, &dwellv1.DeleteTeamRequest{Name: "teams/north"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.dirc.UpdateRep(ctx, &dwellv1.UpdateRepRequest{
		Rep: &dwellv1.Rep{Name: "reps/ida", Email: "lost@example.com", Etag: rp.GetRep().GetEtag()}, UpdateMask: mask("email")})
	wantCode(t, "rep update with the etag from before its team's deletion", err, codes.Aborted)
	after, err := e.dirc.GetRep(ctx, &dwellv1.GetRepRequest{Name: "reps/ida"})
	if err != nil || after.GetRep().GetTeam() != "" || after.GetRep().GetEmail() == "lost@example.com" {
		t.Fatalf("rep after its team's deletion and a refused update = %v, %v; want no team, email unchanged", after.GetRep(), err)
	}

	list, err := e.dirc.ListClients(ctx, &dwellv1.ListClientsRequest{})
	if err != nil || len(list.GetClients()) != 1 || list.GetClients()[0].GetEtag() == c.GetClient().GetEtag() {
		t.Fatalf("listed clients = %v, %v; want toko with the etag of after the import", list.GetClients(), err)
	}
}

// TestEtagZero checks the etag "0": the server gives it only for the
// settings of a tenant that stored none, so on every other record it is
// INVALID_ARGUMENT on the etag's field (not ABORTED, which would send the
// caller to read again for an etag it can never get) and changes nothing,
// while on settings it is the precondition "none stored yet": ABORTED
// once some are.
func TestEtagZero(t *testing.T) {
	for _, k := range etaggedKinds() {
		t.Run(k.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := e.admin(acme)
			k.setup(t, e)
			if k.name == "settings" {
				if _, err := k.update(ctx, e, "", "700"); err != nil {
					t.Fatalf("storing settings: %v", err)
				}
			}
			etag, before, err := k.read(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			val := "zero"
			if k.name == "settings" {
				val = "800"
			}
			_, err = k.update(ctx, e, "0", val)
			if k.name == "settings" {
				wantCode(t, `settings update with etag "0" once stored`, err, codes.Aborted)
			} else {
				wantViolation(t, fmt.Sprintf("%s update with etag \"0\"", k.name), err, k.field)
			}
			if got, v, err := k.read(ctx, e); err != nil || got != etag || v != before {
				t.Fatalf("after the refused update: etag %q, value %q, %v; want %q, %q", got, v, err, etag, before)
			}
		})
	}
}

// TestEtagAcrossDelete: an etag read before a record was deleted does not
// pass for the record created again under the same id, though that one
// starts again at revision 1: the update is ABORTED and changes nothing;
// the new record's own etag works.
func TestEtagAcrossDelete(t *testing.T) {
	del := map[string]func(ctx context.Context, e *env) error{
		"client": func(ctx context.Context, e *env) error {
			_, err := e.dirc.DeleteClient(ctx, &dwellv1.DeleteClientRequest{Name: "clients/toko"})
			return err
		},
		"rep": func(ctx context.Context, e *env) error {
			_, err := e.dirc.DeleteRep(ctx, &dwellv1.DeleteRepRequest{Name: "reps/ida"})
			return err
		},
		"team": func(ctx context.Context, e *env) error {
			_, err := e.dirc.DeleteTeam(ctx, &dwellv1.DeleteTeamRequest{Name: "teams/north"})
			return err
		},
	}
	for _, k := range etaggedKinds() {
		remove, ok := del[k.name]
		if !ok {
			continue // partner accounts are disabled, not deleted; opportunities are never deleted
		}
		t.Run(k.name, func(t *testing.T) {
			e := newEnv(t)
			k.setup(t, e)
			ctx := e.admin(acme)
			old, _, err := k.read(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if err := remove(ctx, e); err != nil {
				t.Fatal(err)
			}
			e.advance(time.Second)
			k.setup(t, e)
			ctx = e.admin(acme)
			fresh, before, err := k.read(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			_, err = k.update(ctx, e, old, "stale")
			wantReason(t, "update with the etag of the deleted record", err, codes.Aborted, dwell.ReasonEtagMismatch)
			if _, after, err := k.read(ctx, e); err != nil || after != before {
				t.Fatalf("after the refused update: %q, %v; want %q unchanged", after, err, before)
			}
			if _, err := k.update(ctx, e, fresh, "fresh"); err != nil {
				t.Fatalf("update with the new record's etag: %v", err)
			}
		})
	}
}
