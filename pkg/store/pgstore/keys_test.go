package pgstore_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
	"github.com/dwellhq/dwell/pkg/store/pgstore/pgtest"
)

func testKey(tenant dwell.TenantID, kid string) dwell.SigningKey {
	return dwell.SigningKey{Tenant: tenant, KID: kid, Secret: bytes.Repeat([]byte(kid[:1]), 32), Created: time.Unix(1_800_000_000, 0).UTC()}
}

// TestSigningKeys: a tenant's first key stays its key; every store on the
// database, and ReadSigningKeys, sees it.
func TestSigningKeys(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := t.Context()
	if _, err := pgstore.ReadSigningKeys(ctx, dsn); !dwell.Is(dwell.FailedPrecondition, err) {
		t.Fatalf("ReadSigningKeys before any Open = %v, want kind FailedPrecondition (no tables, none created)", err)
	}
	a, b := openPG(t, dsn+" pool_max_conns=4"), openPG(t, dsn)
	first := testKey("acme", "k1")
	got, err := a.CreateSigningKey(ctx, first)
	if err != nil || got.KID != "k1" || !bytes.Equal(got.Secret, first.Secret) || !got.Created.Equal(first.Created) {
		t.Fatalf("CreateSigningKey(k1) = %+v, %v; want k1 back", got, err)
	}
	got, err = b.CreateSigningKey(ctx, testKey("acme", "k2"))
	if err != nil || got.KID != "k1" || !bytes.Equal(got.Secret, first.Secret) {
		t.Fatalf("second CreateSigningKey(k2) = %+v, %v; want the first key, k1", got, err)
	}
	if _, err := a.CreateSigningKey(ctx, dwell.SigningKey{Tenant: "globex", KID: "x"}); !dwell.Is(dwell.Invalid, err) {
		t.Fatalf("CreateSigningKey without a secret = %v, want kind Invalid", err)
	}
	if _, err := a.CreateSigningKey(ctx, testKey("globex", "g1")); err != nil {
		t.Fatal(err)
	}
	for name, list := range map[string]func() ([]dwell.SigningKey, error){
		"SigningKeys":     func() ([]dwell.SigningKey, error) { return b.SigningKeys(ctx) },
		"ReadSigningKeys": func() ([]dwell.SigningKey, error) { return pgstore.ReadSigningKeys(ctx, dsn+" pool_max_conns=4") },
	} {
		keys, err := list()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(keys) != 2 || keys[0].Tenant != "acme" || keys[0].KID != "k1" || keys[1].Tenant != "globex" || keys[1].KID != "g1" {
			t.Fatalf("%s = %+v, want acme/k1 then globex/g1", name, keys)
		}
	}
}

// TestSigningKeysRace: servers creating one tenant's key at once all end
// with the same key, and tell exactly one of them it created it.
func TestSigningKeysRace(t *testing.T) {
	dsn := pgtest.DSN(t)
	const n = 6
	rings := make([]*auth.Keyring, n)
	for i := range rings {
		kr, err := auth.OpenKeyStore(t.Context(), openPG(t, dsn))
		if err != nil {
			t.Fatal(err)
		}
		rings[i] = kr
	}
	var wg sync.WaitGroup
	created := make([]bool, n)
	errs := make([]error, n)
	for i, kr := range rings {
		wg.Go(func() { created[i], errs[i] = kr.EnsureTenant(t.Context(), "acme") })
	}
	wg.Wait()
	nCreated := 0
	for i := range rings {
		if errs[i] != nil {
			t.Fatalf("EnsureTenant on keyring %d: %v", i, errs[i])
		}
		if created[i] {
			nCreated++
		}
	}
	if nCreated != 1 {
		t.Fatalf("%d keyrings said they created the key, want 1", nCreated)
	}
	p := dwell.Principal{Tenant: "acme", Subject: "admin", Role: dwell.RoleAdmin}
	for i, minter := range rings {
		now := time.Now()
		tok, err := minter.Mint(p, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		for j, verifier := range rings {
			want := p
			want.IssuedAt = now.Truncate(time.Second).UTC()
			if got, err := verifier.Verify(tok, time.Now()); err != nil || got != want {
				t.Fatalf("a token of keyring %d verified by keyring %d = %v, %v; want %v", i, j, got, err, p)
			}
		}
	}
}

// TestSigningKeysReload: a keyring sees a tenant another server created
// once it reloads, and a tenant's key in a data directory is imported
// unless the database holds another.
func TestSigningKeysReload(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := t.Context()
	a, err := auth.OpenKeyStore(ctx, openPG(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	b, err := auth.OpenKeyStore(ctx, openPG(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.EnsureTenant(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	tok, err := a.Mint(dwell.Principal{Tenant: "acme", Subject: "s", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(tok, time.Now()); err == nil {
		t.Fatal("a keyring verified a token of a tenant created after it loaded, before Reload")
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(tok, time.Now()); err != nil {
		t.Fatalf("Verify after Reload: %v", err)
	}

	// A data directory holding acme (another key) and initech.
	files, err := auth.OpenKeyring(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []dwell.TenantID{"acme", "initech"} {
		if _, err := files.EnsureTenant(ctx, tn); err != nil {
			t.Fatal(err)
		}
	}
	imported, differ, err := a.ImportKeys(ctx, files)
	if err != nil || fmt.Sprint(imported) != "[initech]" || fmt.Sprint(differ) != "[acme]" {
		t.Fatalf("ImportKeys = %v, %v, %v; want [initech], [acme]", imported, differ, err)
	}
	fileTok, err := files.Mint(dwell.Principal{Tenant: "initech", Subject: "s", Role: dwell.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(fileTok, time.Now()); err != nil {
		t.Fatalf("a token signed with an imported key, verified by another server: %v", err)
	}
	if _, err := b.Verify(tok, time.Now()); err != nil {
		t.Fatalf("acme's token after the import of another acme key: %v; the database's key must stay", err)
	}
}

// TestSigningKeysMalformed: a key in the database too short to be safe is
// refused when a keyring opens, naming its tenant, rather than used.
func TestSigningKeysMalformed(t *testing.T) {
	st := openPG(t, pgtest.DSN(t))
	short := testKey("acme", "k1")
	short.Secret = short.Secret[:5]
	if _, err := st.CreateSigningKey(t.Context(), short); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.OpenKeyStore(t.Context(), st); !dwell.Is(dwell.Invalid, err) || !strings.Contains(err.Error(), `"acme"`) {
		t.Fatalf("OpenKeyStore over a 5-byte secret = %v, want kind Invalid naming acme", err)
	}
}
