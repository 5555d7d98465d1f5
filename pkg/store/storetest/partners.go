package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

func runPartners(t *testing.T, h Harness) {
	t.Run("Partners", func(t *testing.T) { testPartners(t, h) })
	t.Run("PartnerRequestID", func(t *testing.T) { testPartnerRequestID(t, h) })
	t.Run("ListPartnersPages", func(t *testing.T) { testListPartnersPages(t, h) })
	t.Run("PartnersReopen", func(t *testing.T) { testPartnersReopen(t, h) })
	t.Run("PartnerAccountsRequiredSetting", func(t *testing.T) { testPartnerAccountsRequiredSetting(t, h) })
	t.Run("PartnerDeletions", func(t *testing.T) { testPartnerDeletions(t, h) })
}

func partner(id, requestID string, scopes ...dwell.Scope) dwell.PartnerAccount {
	return dwell.PartnerAccount{ID: dwell.PartnerID(id), DisplayName: "Partner " + id, Scopes: scopes,
		RequestID: requestID, CreateTime: t0, UpdateTime: t0}
}

func createPartner(s store.Store, tn dwell.TenantID, a dwell.PartnerAccount) error {
	_, existed, err := s.CreatePartner(ctx(), tn, a)
	if err == nil && existed {
		return fmt.Errorf("CreatePartner(%s): existed = true for a new request id", a.ID)
	}
	return err
}

// testPartners: create, duplicate id, get, update, delete, and tenants
// kept apart.
func testPartners(t *testing.T, h Harness) {
	testCRUD(t, h, crud[dwell.PartnerAccount]{
		make: func(id string) dwell.PartnerAccount {
			return partner(id, "", dwell.ScopeReportsRead, dwell.ScopeDirectoryRead)
		},
		change: func(a dwell.PartnerAccount) dwell.PartnerAccount {
			a.Scopes = []dwell.Scope{dwell.ScopeIngest}
			a.Disabled = true
			a.DisplayName = "Renamed"
			a.UpdateTime = t0.Add(time.Hour)
			return a
		},
		create: createPartner,
		get: func(s store.Store, tn dwell.TenantID, id string) (dwell.PartnerAccount, error) {
			return s.GetPartner(ctx(), tn, dwell.PartnerID(id))
		},
		update: func(s store.Store, tn dwell.TenantID, a dwell.PartnerAccount) error {
			return s.UpdatePartner(ctx(), tn, a)
		},
		delete: func(s store.Store, tn dwell.TenantID, id string) error {
			return s.DeletePartner(ctx(), tn, dwell.PartnerID(id), t0.Add(time.Hour))
		},
	})

	s := h.Open(t)
	must(t, "CreatePartner in A", createPartner(s, tenantA, partner("payroll", "req-1", dwell.ScopeReportsRead)))
	_, err := s.GetPartner(ctx(), tenantB, "payroll")
	wantKind(t, "GetPartner of A's account in B", err, dwell.NotFound)
	wantKind(t, "UpdatePartner of A's account in B", s.UpdatePartner(ctx(), tenantB, partner("payroll", "", dwell.ScopeIngest)), dwell.NotFound)
	wantKind(t, "DeletePartner of A's account in B", s.DeletePartner(ctx(), tenantB, "payroll", t0), dwell.NotFound)
	// The same request id in another tenant is another request.
	b := partner("crm", "req-1", dwell.ScopeSalesWrite)
	got, existed, err := s.CreatePartner(ctx(), tenantB, b)
	must(t, "CreatePartner in B with A's request id", err)
	if existed {
		t.Fatal("CreatePartner in B with A's request id: existed = true")
	}
	wantEqual(t, "created in B", got, b)
	list, _, err := s.ListPartners(ctx(), tenantB, store.Page{Limit: 10})
	must(t, "ListPartners B", err)
	wantEqual(t, "B's accounts", list, []dwell.PartnerAccount{b})
}

// testPartnerRequestID: a retry returns the stored account and writes
// nothing; a spent request id stays spent after a delete.
func testPartnerRequestID(t *testing.T, h Harness) {
	s := h.Open(t)
	a := partner("payroll", "req-1", dwell.ScopeReportsRead)
	got, existed, err := s.CreatePartner(ctx(), tenantA, a)
	must(t, "CreatePartner", err)
	if existed {
		t.Fatal("first CreatePartner: existed = true")
	}
	wantEqual(t, "created", got, a)
	// A retry returns what the first call stored, whatever else it says.
	retry := partner("other", "req-1", dwell.ScopeIngest)
	got, existed, err = s.CreatePartner(ctx(), tenantA, retry)
	must(t, "CreatePartner retry", err)
	if !existed {
		t.Fatal("retry: existed = false")
	}
	wantEqual(t, "retried", got, a)
	_, err = s.GetPartner(ctx(), tenantA, "other")
	wantKind(t, "GetPartner of the retried id", err, dwell.NotFound)
	_, _, err = s.CreatePartner(ctx(), tenantA, partner("payroll", "req-2", dwell.ScopeIngest))
	wantKind(t, "CreatePartner of a taken id", err, dwell.AlreadyExists)
	got2, err := s.GetPartner(ctx(), tenantA, "payroll")
	must(t, "GetPartner", err)
	wantEqual(t, "after a refused create", got2, a)

	// An empty request id is never deduplicated.
	must(t, "CreatePartner without request id", createPartner(s, tenantA, partner("p2", "", dwell.ScopeIngest)))
	must(t, "CreatePartner without request id again", createPartner(s, tenantA, partner("p3", "", dwell.ScopeIngest)))

	must(t, "DeletePartner", s.DeletePartner(ctx(), tenantA, "payroll", t0))
	_, _, err = s.CreatePartner(ctx(), tenantA, a)
	wantKind(t, "retry after delete", err, dwell.FailedPrecondition)
	_, err = s.GetPartner(ctx(), tenantA, "payroll")
	wantKind(t, "GetPartner after a refused retry", err, dwell.NotFound)
	// The id itself is free again under a new request id.
	again := partner("payroll", "req-3", dwell.ScopeSalesRead)
	must(t, "CreatePartner again", createPartner(s, tenantA, again))
	// The first request's account is still deleted: the account now under
	// its id was created by another request, and answering the retry with
	// it would hand the first caller another account (and its rights).
	_, _, err = s.CreatePartner(ctx(), tenantA, a)
	wantKind(t, "retry after delete and a create of its id by another request", err, dwell.FailedPrecondition)
	got2, err = s.GetPartner(ctx(), tenantA, "payroll")
	must(t, "GetPartner of the account created again", err)
	wantEqual(t, "the account created again, after the refused retry", got2, again)
	// The later request's own retry is answered with its account.
	got, existed, err = s.CreatePartner(ctx(), tenantA, again)
	must(t, "CreatePartner retry of the later request", err)
	if !existed {
		t.Fatal("retry of the later request: existed = false")
	}
	wantEqual(t, "the later request retried", got, again)
}

// testListPartnersPages: every account once, in id order, over pages of
// every size.
func testListPartnersPages(t *testing.T, h Harness) {
	s := h.Open(t)
	var want []string
	for i := 0; i < 23; i++ {
		id := fmt.Sprintf("p%02d", (i*7)%23) // created out of order
		must(t, "CreatePartner "+id, createPartner(s, tenantA, partner(id, "req-"+id, dwell.ScopeIngest)))
	}
	for i := 0; i < 23; i++ {
		want = append(want, fmt.Sprintf("p%02d", i))
	}
	must(t, "CreatePartner in B", createPartner(s, tenantB, partner("zz", "", dwell.ScopeIngest)))
	for _, limit := range []int{1, 5, 23, 100} {
		got := pageAll(t, limit, func(p store.Page) ([]dwell.PartnerAccount, bool, error) {
			return s.ListPartners(ctx(), tenantA, p)
		}, func(a dwell.PartnerAccount) string { return string(a.ID) })
		wantEqual(t, fmt.Sprintf("ids with limit %d", limit), got, want)
	}
	_, _, err := s.ListPartners(ctx(), tenantA, store.Page{Limit: 0})
	wantKind(t, "ListPartners with limit 0", err, dwell.Invalid)
}

// testPartnersReopen: accounts and spent request ids survive a restart.
func testPartnersReopen(t *testing.T, h Harness) {
	if h.Reopen == nil {
		t.Skip("no Reopen hook")
	}
	s := h.Open(t)
	a := partner("payroll", "req-1", dwell.ScopeReportsRead, dwell.ScopeEventsWatch)
	a.Disabled = true
	must(t, "CreatePartner", createPartner(s, tenantA, a))
	s = h.Reopen(t, s)
	got, err := s.GetPartner(ctx(), tenantA, "payroll")
	must(t, "GetPartner after reopen", err)
	wantEqual(t, "after reopen", got, a)
	got, existed, err := s.CreatePartner(ctx(), tenantA, partner("x", "req-1", dwell.ScopeIngest))
	must(t, "retry after reopen", err)
	if !existed {
		t.Fatal("retry after reopen: existed = false")
	}
	wantEqual(t, "retried after reopen", got, a)
}

// testPartnerAccountsRequiredSetting checks that the tenant's requirement
// of partner accounts is kept with the other settings, across a reopen,
// and per tenant.
func testPartnerAccountsRequiredSetting(t *testing.T, h Harness) {
	s := h.Open(t)
	if got, err := s.GetSettings(ctx(), tenantA); err != nil || got.PartnerAccountsRequired {
		t.Fatalf("default settings: PartnerAccountsRequired %v, %v; want false", got.PartnerAccountsRequired, err)
	}
	set := dwell.DefaultSettings()
	set.PartnerAccountsRequired = true
	must(t, "put", s.PutSettings(ctx(), tenantA, set))
	s = h.Reopen(t, s)
	got, err := s.GetSettings(ctx(), tenantA)
	must(t, "get", err)
	wantEqual(t, "settings", got, set)
	if other, err := s.GetSettings(ctx(), tenantB); err != nil || other.PartnerAccountsRequired {
		t.Fatalf("another tenant's settings: PartnerAccountsRequired %v, %v; want false", other.PartnerAccountsRequired, err)
	}
}

// listPartnerDeletions returns every deletion record of tenant tn, read
// in pages of limit.
func listPartnerDeletions(t *testing.T, s store.Store, tn dwell.TenantID, limit int) []dwell.PartnerDeletion {
	t.Helper()
	var out []dwell.PartnerDeletion
	p := store.Page{Limit: limit}
	for {
		ds, more, err := s.ListPartnerDeletions(ctx(), tn, p)
		must(t, "ListPartnerDeletions", err)
		if len(ds) > limit {
			t.Fatalf("ListPartnerDeletions(limit %d) returned %d records", limit, len(ds))
		}
		out = append(out, ds...)
		if !more {
			return out
		}
		if len(ds) == 0 {
			t.Fatalf("ListPartnerDeletions(limit %d): an empty page with more = true", limit)
		}
		p.After = string(ds[len(ds)-1].ID)
	}
}

// testPartnerDeletions: DeletePartner leaves a deletion record that
// outlives the account and an account created again under its id, keeps
// the latest deletion instant, is listed per tenant in id order, survives
// a reopen, and is written only with the deletion (a refused delete
// writes none).
func testPartnerDeletions(t *testing.T, h Harness) {
	s := h.Open(t)
	if got := listPartnerDeletions(t, s, tenantA, 10); len(got) != 0 {
		t.Fatalf("deletions of a new store: %v, want none", got)
	}
	for _, id := range []string{"payroll", "crm", "bi"} {
		must(t, "CreatePartner "+id, createPartner(s, tenantA, partner(id, "req-"+id, dwell.ScopeReportsRead)))
	}
	keep := partner("keep", "", dwell.ScopeIngest)
	must(t, "CreatePartner keep", createPartner(s, tenantA, keep))
	wantKind(t, "DeletePartner of an absent account", s.DeletePartner(ctx(), tenantA, "nobody", t0), dwell.NotFound)
	wantKind(t, "DeletePartner without an instant", s.DeletePartner(ctx(), tenantA, "payroll", time.Time{}), dwell.Invalid)
	_, err := s.GetPartner(ctx(), tenantA, "payroll")
	must(t, "GetPartner after a refused delete", err)

	del1 := t0.Add(90*time.Minute + 123456789) // nanoseconds are kept
	must(t, "DeletePartner payroll", s.DeletePartner(ctx(), tenantA, "payroll", del1))
	must(t, "DeletePartner crm", s.DeletePartner(ctx(), tenantA, "crm", t0.Add(time.Hour)))
	must(t, "DeletePartner bi", s.DeletePartner(ctx(), tenantA, "bi", t0.Add(2*time.Hour)))
	want := []dwell.PartnerDeletion{{ID: "bi", Deleted: t0.Add(2 * time.Hour)}, {ID: "crm", Deleted: t0.Add(time.Hour)}, {ID: "payroll", Deleted: del1}}
	for _, limit := range []int{1, 2, 10} {
		wantEqual(t, fmt.Sprintf("deletions (limit %d)", limit), listPartnerDeletions(t, s, tenantA, limit), want)
	}
	if got := listPartnerDeletions(t, s, tenantB, 10); len(got) != 0 {
		t.Fatalf("deletions of another tenant: %v, want none", got)
	}
	_, err = s.GetPartner(ctx(), tenantA, "payroll")
	wantKind(t, "GetPartner of a deleted account", err, dwell.NotFound)
	list, _, err := s.ListPartners(ctx(), tenantA, store.Page{Limit: 10})
	must(t, "ListPartners", err)
	wantEqual(t, "accounts after the deletions", list, []dwell.PartnerAccount{keep})

	// Created again: the account is back with its new scopes, and the
	// record of its deletion stays.
	again := partner("payroll", "req-payroll-2", dwell.ScopeIngest)
	again.CreateTime, again.UpdateTime = t0.Add(3*time.Hour), t0.Add(3*time.Hour)
	must(t, "CreatePartner payroll again", createPartner(s, tenantA, again))
	got, err := s.GetPartner(ctx(), tenantA, "payroll")
	must(t, "GetPartner of the account created again", err)
	wantEqual(t, "the account created again", got, again)
	wantEqual(t, "deletions after a create again", listPartnerDeletions(t, s, tenantA, 10), want)

	// A later deletion moves the record on; one stamped earlier (another
	// server's clock behind) leaves the later instant.
	must(t, "DeletePartner payroll again", s.DeletePartner(ctx(), tenantA, "payroll", t0.Add(4*time.Hour)))
	must(t, "CreatePartner payroll a third time", createPartner(s, tenantA, partner("payroll", "", dwell.ScopeIngest)))
	must(t, "DeletePartner payroll with a clock behind", s.DeletePartner(ctx(), tenantA, "payroll", t0))
	want[2].Deleted = t0.Add(4 * time.Hour)
	s = h.Reopen(t, s)
	wantEqual(t, "deletions after a reopen", listPartnerDeletions(t, s, tenantA, 10), want)
	_, _, err = s.ListPartnerDeletions(ctx(), tenantA, store.Page{Limit: 0})
	wantKind(t, "ListPartnerDeletions with limit 0", err, dwell.Invalid)
}
