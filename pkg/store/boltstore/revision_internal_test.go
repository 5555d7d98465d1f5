package boltstore

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// TestRecordsBeforeRevisions checks that records written before revisions
// were kept (no "rev" in their JSON) read as revision 1, not 0, which as a
// precondition would mean "unconditional": a masked update of such a
// record is conditional like any other, and its write stores revision 2.
func TestRecordsBeforeRevisions(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "dwell.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	const tenant = dwell.TenantID("acme")
	// Values as this package wrote them before revisions: version byte 1
	// and the JSON record.
	old := map[string][2]string{
		"client":   {string(bktClients), `{"n":"Old client","k":1,"fc":{"c":[-6.2,106.8],"r":50},"ct":"2025-01-02T03:04:05Z","ut":"2025-01-02T03:04:05Z"}`},
		"settings": {string(bktSettings), `{"ret":86400000000000,"vmin":300000000000,"imin":300000000000}`},
	}
	err = s.write(ctx, "test", 1, func(tx *txn) error {
		for what, v := range old {
			b, err := tx.tenantSub(tenant, []byte(v[0]), true)
			if err != nil {
				return err
			}
			key := []byte("c1")
			if what == "settings" {
				key = keySettings
			}
			if err := b.Put(key, append([]byte{recordV1}, v[1]...)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	c, err := s.GetClient(ctx, tenant, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Revision != 1 || c.DisplayName != "Old client" {
		t.Fatalf("old client read as revision %d, name %q; want 1, %q", c.Revision, c.DisplayName, "Old client")
	}
	c.DisplayName = "Renamed"
	if err := s.UpdateClient(ctx, tenant, c); err != nil {
		t.Fatalf("update at revision 1: %v", err)
	}
	c.DisplayName = "Lost"
	if err := s.UpdateClient(ctx, tenant, c); !dwell.Is(dwell.Conflict, err) {
		t.Fatalf("second update at revision 1: %v, want kind %q", err, dwell.Conflict)
	}
	if c, err = s.GetClient(ctx, tenant, "c1"); err != nil || c.Revision != 2 || c.DisplayName != "Renamed" {
		t.Fatalf("after the updates: revision %d, name %q, %v; want 2, %q", c.Revision, c.DisplayName, err, "Renamed")
	}

	set, err := s.GetSettings(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	if set.Revision != 1 {
		t.Fatalf("old settings read as revision %d, want 1", set.Revision)
	}
	set.Revision = dwell.RevisionAbsent
	if err := s.PutSettings(ctx, tenant, set); !dwell.Is(dwell.Conflict, err) {
		t.Fatalf("put of settings 'never stored' over old ones: %v, want kind %q", err, dwell.Conflict)
	}
	set.Revision = 1
	if err := s.PutSettings(ctx, tenant, set); err != nil {
		t.Fatalf("put at revision 1: %v", err)
	}
	if set, err = s.GetSettings(ctx, tenant); err != nil || set.Revision != 2 {
		t.Fatalf("after the put: revision %d, %v; want 2", set.Revision, err)
	}
}

// TestRecordsBeforeRevisionsEveryKind decodes a record of every kind with
// a revision as written before revisions were kept (no "rev" in its JSON)
// and wants revision 1 for each: 0 would make a masked update of it
// unconditional (or, for the server, "never stored", failing every such
// update).
func TestRecordsBeforeRevisionsEveryKind(t *testing.T) {
	decode := func(js string, v any) {
		t.Helper()
		if err := json.Unmarshal([]byte(js), v); err != nil {
			t.Fatal(err)
		}
	}
	var (
		c  clientRec
		r  repRec
		tm teamRec
		st settingsRec
		p  partnerRec
		o  opportunityRec
	)
	decode(`{"n":"C","k":1,"fc":{"c":[-6.2,106.8],"r":50}}`, &c)
	decode(`{"n":"R","tz":"UTC"}`, &r)
	decode(`{"n":"T"}`, &tm)
	decode(`{"ret":86400000000000}`, &st)
	decode(`{"n":"P"}`, &p)
	decode(`{"rep":"r","client":"c"}`, &o)
	for what, rev := range map[string]int64{
		"client": c.domain("c").Revision, "rep": r.domain("r").Revision, "team": tm.domain("t").Revision,
		"settings": st.domain().Revision, "partner": p.domain("p").Revision, "opportunity": o.domain("o").Revision,
	} {
		if rev != 1 {
			t.Errorf("an old %s record reads as revision %d, want 1", what, rev)
		}
	}
}
