package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/dwellhq/dwell/pkg/dwell"
)

var t0 = time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)

// newKeyring opens a keyring in a fresh directory with keys for tenants.
func newKeyring(t testing.TB, tenants ...dwell.TenantID) *Keyring {
	t.Helper()
	k, err := OpenKeyring(filepath.Join(t.TempDir(), "keys"))
	if err != nil {
		t.Fatalf("OpenKeyring: %v", err)
	}
	for _, tn := range tenants {
		if _, err := k.EnsureTenant(t.Context(), tn); err != nil {
			t.Fatalf("EnsureTenant(%q): %v", tn, err)
		}
	}
	return k
}

func mustMint(t testing.TB, k *Keyring, p dwell.Principal, ttl time.Duration, now time.Time) string {
	t.Helper()
	s, err := k.Mint(p, ttl, now)
	if err != nil {
		t.Fatalf("Mint(%+v): %v", p, err)
	}
	return s
}

// sign builds a token by hand: header fields beyond alg, claims as given,
// signed with method and key.
func sign(t testing.TB, method jwt.SigningMethod, key any, header map[string]any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	for h, v := range header {
		tok.Header[h] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("SignedString: %v", err)
	}
	return s
}

// goodClaims returns the claims Mint would write for a rep of tenant.
func goodClaims(tenant string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": Issuer, "sub": "rep-1", "tenant": tenant, "role": "rep",
		"iat": t0.Unix(), "nbf": t0.Unix(), "exp": t0.Add(time.Hour).Unix(), "jti": "x",
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// replacePayload swaps the claims segment of tok for c, keeping header and
// signature.
func replacePayload(t testing.TB, tok string, c jwt.MapClaims) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// issuedAt returns p as Verify returns it from a token minted at now: with
// the token's iat, now in whole seconds.
func issuedAt(p dwell.Principal, now time.Time) dwell.Principal {
	p.IssuedAt = now.Truncate(time.Second).UTC()
	return p
}

func TestMintVerifyRoundTrip(t *testing.T) {
	k := newKeyring(t, "acme", "globex")
	for _, p := range []dwell.Principal{
		{Tenant: "acme", Subject: "rep-17", Role: dwell.RoleRep},
		{Tenant: "acme", Subject: "mgr@acme.example", Role: dwell.RoleManager},
		{Tenant: "globex", Subject: "root", Role: dwell.RoleAdmin},
		{Tenant: "globex", Subject: "salesforce sync ✓", Role: dwell.RolePartner},
	} {
		t.Run(p.Role.String(), func(t *testing.T) {
			tok := mustMint(t, k, p, time.Hour, t0)
			for _, now := range []time.Time{
				t0,
				t0.Add(-Leeway + time.Second),            // Slightly behind the minting clock.
				t0.Add(time.Hour + Leeway - time.Second), // Just expired, within leeway.
			} {
				got, err := k.Verify(tok, now)
				if err != nil {
					t.Fatalf("Verify(now=%v) error: %v", now, err)
				}
				if want := issuedAt(p, t0); got != want {
					t.Errorf("Verify(now=%v) = %+v, want %+v", now, got, want)
				}
			}
		})
	}
}

// TestVerifyUntil: VerifyUntil's until is the first instant at which
// Verify refuses the token as expired (exp plus Leeway), so a stream ended
// then outlives its token by no more than a call would.
func TestVerifyUntil(t *testing.T) {
	k := newKeyring(t, "acme")
	p := dwell.Principal{Tenant: "acme", Subject: "crm", Role: dwell.RolePartner}
	tok := mustMint(t, k, p, time.Hour, t0)
	got, until, err := k.VerifyUntil(tok, t0)
	if err != nil || got != issuedAt(p, t0) {
		t.Fatalf("VerifyUntil = %+v, %v; want %+v", got, err, p)
	}
	if want := t0.Add(time.Hour + Leeway); !until.Equal(want) {
		t.Fatalf("until = %v, want %v (exp plus Leeway)", until, want)
	}
	if _, err := k.Verify(tok, until.Add(-time.Second)); err != nil {
		t.Fatalf("Verify a second before until: %v", err)
	}
	if _, err := k.Verify(tok, until); dwell.MessageOf(err) != msgExpired {
		t.Fatalf("Verify at until: %v, want %q", err, msgExpired)
	}
}

func TestMintClaims(t *testing.T) {
	k := newKeyring(t, "acme")
	tok := mustMint(t, k, dwell.Principal{Tenant: "acme", Subject: "rep-1", Role: dwell.RoleRep}, 2*time.Hour, t0)
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := parsed.Header["kid"], k.lookup("acme").kid; got != want {
		t.Errorf("header kid = %v, want %v", got, want)
	}
	if got := parsed.Header["alg"]; got != "HS256" {
		t.Errorf("header alg = %v, want HS256", got)
	}
	c := parsed.Claims.(jwt.MapClaims)
	want := map[string]any{
		"iss": "dwell", "sub": "rep-1", "tenant": "acme", "role": "rep",
		"iat": float64(t0.Unix()), "nbf": float64(t0.Unix()), "exp": float64(t0.Add(2 * time.Hour).Unix()),
	}
	for name, w := range want {
		if c[name] != w {
			t.Errorf("claim %s = %v, want %v", name, c[name], w)
		}
	}
	if jti, _ := c["jti"].(string); len(jti) < 16 {
		t.Errorf("claim jti = %q, want a random id", c["jti"])
	}
	if tok2 := mustMint(t, k, dwell.Principal{Tenant: "acme", Subject: "rep-1", Role: dwell.RoleRep}, 2*time.Hour, t0); tok2 == tok {
		t.Errorf("two mints at the same time gave the same token; jti is not random")
	}
}

func TestMintRejects(t *testing.T) {
	k := newKeyring(t, "acme")
	good := dwell.Principal{Tenant: "acme", Subject: "rep-1", Role: dwell.RoleRep}
	for _, tc := range []struct {
		name string
		p    dwell.Principal
		ttl  time.Duration
		want dwell.Kind
	}{
		{"no role", dwell.Principal{Tenant: "acme", Subject: "x"}, time.Hour, dwell.Invalid},
		{"unknown role", dwell.Principal{Tenant: "acme", Subject: "x", Role: 99}, time.Hour, dwell.Invalid},
		{"negative role", dwell.Principal{Tenant: "acme", Subject: "x", Role: -1}, time.Hour, dwell.Invalid},
		{"no subject", dwell.Principal{Tenant: "acme", Role: dwell.RoleRep}, time.Hour, dwell.Invalid},
		{"subject not UTF-8", dwell.Principal{Tenant: "acme", Subject: "\xff", Role: dwell.RoleRep}, time.Hour, dwell.Invalid},
		{"zero ttl", good, 0, dwell.Invalid},
		{"negative ttl", good, -time.Second, dwell.Invalid},
		{"ttl over ten years", good, MaxTTL + time.Second, dwell.Invalid},
		{"no tenant", dwell.Principal{Subject: "x", Role: dwell.RoleRep}, time.Hour, dwell.Invalid},
		{"malformed tenant", dwell.Principal{Tenant: "../acme", Subject: "x", Role: dwell.RoleRep}, time.Hour, dwell.Invalid},
		{"unknown tenant", dwell.Principal{Tenant: "globex", Subject: "x", Role: dwell.RoleRep}, time.Hour, dwell.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := k.Mint(tc.p, tc.ttl, t0)
			if got := dwell.KindOf(err); err == nil || got != tc.want {
				t.Fatalf("Mint(%+v, %v) = %q, %v (kind %v), want kind %v", tc.p, tc.ttl, tok, err, got, tc.want)
			}
			if tok != "" {
				t.Errorf("Mint returned token %q with error", tok)
			}
		})
	}
	if _, err := k.Mint(good, MaxTTL, t0); err != nil {
		t.Errorf("Mint with ttl MaxTTL: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	k := newKeyring(t, "acme", "globex")
	acme, globex := k.lookup("acme"), k.lookup("globex")
	rep := dwell.Principal{Tenant: "acme", Subject: "rep-1", Role: dwell.RoleRep}
	minted := mustMint(t, k, rep, time.Hour, t0)
	hs256 := jwt.SigningMethodHS256
	acmeKID := map[string]any{"kid": acme.kid}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		token string
		now   time.Time
		msg   string // Why it is rejected: the caller-facing message.
	}{
		// Time.
		{"expired", minted, t0.Add(time.Hour + Leeway + time.Second), msgExpired},
		{"long expired", minted, t0.Add(1000 * time.Hour), msgExpired},
		{"not yet valid", minted, t0.Add(-Leeway - time.Second), msgNotYet},
		{"issued in the future", sign(t, hs256, acme.secret, acmeKID,
			with(goodClaims("acme"), "nbf", nil, "iat", t0.Add(time.Hour).Unix(), "exp", t0.Add(2*time.Hour).Unix())),
			t0, msgNotYet},
		{"missing exp", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "exp", nil)), t0, msgNoExpiry},
		{"exp not a number", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "exp", "tomorrow")), t0, msgMalformed},

		// Signature and key choice.
		{"signed with another tenant's key", sign(t, hs256, globex.secret, acmeKID, goodClaims("acme")), t0, msgSignature},
		{"tampered role", replacePayload(t, minted, with(goodClaims("acme"), "role", "admin")), t0, msgSignature},
		{"tampered subject", replacePayload(t, minted, with(goodClaims("acme"), "sub", "rep-2")), t0, msgSignature},
		{"tampered tenant, kid left", replacePayload(t, minted, goodClaims("globex")), t0, msgKID},
		{"tenant A's key, claims and kid of tenant B",
			sign(t, hs256, acme.secret, map[string]any{"kid": globex.kid}, goodClaims("globex")), t0, msgSignature},
		{"kid of tenant B, claims of tenant A",
			sign(t, hs256, acme.secret, map[string]any{"kid": globex.kid}, goodClaims("acme")), t0, msgKID},
		{"no kid", sign(t, hs256, acme.secret, nil, goodClaims("acme")), t0, msgKID},
		{"kid not a string", sign(t, hs256, acme.secret, map[string]any{"kid": 7}, goodClaims("acme")), t0, msgKID},
		{"truncated signature", minted[:len(minted)-3], t0, msgSignature},
		{"no signature", minted[:strings.LastIndex(minted, ".")+1], t0, msgSignature},
		{"unknown tenant", sign(t, hs256, acme.secret, acmeKID, goodClaims("initech")), t0, msgTenant},
		{"no tenant", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "tenant", nil)), t0, msgNoTenant},
		{"tenant not a string", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "tenant", 7)), t0, msgMalformed},

		// Algorithms.
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, acmeKID, goodClaims("acme")), t0, msgAlg},
		{"alg none, hand-made", seg(`{"alg":"none","kid":"`+acme.kid+`"}`) + "." +
			seg(`{"iss":"dwell","sub":"x","tenant":"acme","role":"admin","exp":9999999999}`) + ".", t0, msgAlg},
		{"alg None", seg(`{"alg":"None","kid":"`+acme.kid+`"}`) + "." + seg(`{"tenant":"acme"}`) + ".", t0, msgAlg},
		{"alg HS512 with the right secret", sign(t, jwt.SigningMethodHS512, acme.secret, acmeKID, goodClaims("acme")), t0, msgAlg},
		{"alg HS384 with the right secret", sign(t, jwt.SigningMethodHS384, acme.secret, acmeKID, goodClaims("acme")), t0, msgAlg},
		{"alg RS256", sign(t, jwt.SigningMethodRS256, rsaKey, acmeKID, goodClaims("acme")), t0, msgAlg},
		{"alg missing", seg(`{"kid":"`+acme.kid+`"}`) + "." + seg(`{"tenant":"acme"}`) + ".c2ln", t0, msgAlg},
		{"alg unknown", seg(`{"alg":"XX999","kid":"`+acme.kid+`"}`) + "." + seg(`{"tenant":"acme"}`) + ".c2ln", t0, msgAlg},

		// Claims.
		{"unknown role", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "role", "root")), t0, msgRole},
		{"role unspecified", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "role", "unspecified")), t0, msgRole},
		{"role in capitals", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "role", "ADMIN")), t0, msgRole},
		{"missing role", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "role", nil)), t0, msgNoRole},
		{"missing subject", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "sub", nil)), t0, msgNoSubject},
		{"wrong issuer", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "iss", "evil")), t0, msgIssuer},
		{"missing issuer", sign(t, hs256, acme.secret, acmeKID, with(goodClaims("acme"), "iss", nil)), t0, msgIssuer},
		{"null claims", seg(`{"alg":"HS256","kid":"`+acme.kid+`"}`) + "." + seg("null") + ".c2ln", t0, msgNoTenant},

		// Garbage.
		{"empty", "", t0, msgMalformed},
		{"one segment", "abc", t0, msgMalformed},
		{"two segments", "abc.def", t0, msgMalformed},
		{"four segments", minted + ".x", t0, msgMalformed},
		{"dots", "..", t0, msgMalformed},
		{"not base64", "!!!.???.***", t0, msgMalformed},
		{"header not JSON", seg("alg") + "." + seg("{}") + ".", t0, msgMalformed},
		{"claims not JSON", seg(`{"alg":"HS256"}`) + "." + seg("{") + ".", t0, msgMalformed},
		{"padded segments", strings.Replace(minted, ".", "=.", 1), t0, msgMalformed},
		{"huge", strings.Repeat("a", 1<<20), t0, msgMalformed},
		{"bearer prefix left on", "Bearer " + minted, t0, msgMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := k.Verify(tc.token, tc.now)
			if err == nil {
				t.Fatalf("Verify succeeded with %+v, want an error", p)
			}
			if got := dwell.KindOf(err); got != dwell.Unauthenticated {
				t.Errorf("Verify error kind = %v, want %v (error: %v)", got, dwell.Unauthenticated, err)
			}
			if got := dwell.MessageOf(err); got != tc.msg {
				t.Errorf("Verify rejected for %q, want %q (error: %v)", got, tc.msg, err)
			}
			if p != (dwell.Principal{}) {
				t.Errorf("Verify returned principal %+v with its error", p)
			}
		})
	}
}

func TestEnsureTenant(t *testing.T) {
	k := newKeyring(t)
	for _, tc := range []struct {
		tenant dwell.TenantID
		ok     bool
	}{
		{"a", true},
		{"acme-corp-2", true},
		{"0", true},
		{dwell.TenantID(strings.Repeat("x", MaxTenantIDBytes)), true},
		{"", false},
		{dwell.TenantID(strings.Repeat("x", MaxTenantIDBytes+1)), false},
		{"Acme", false},
		{"acme_corp", false},
		{"acme.corp", false},
		{"../etc", false},
		{"a/b", false},
		{".hidden", false},
		{"acme ", false},
		{"açme", false},
		{"acme\x00", false},
	} {
		created, err := k.EnsureTenant(t.Context(), tc.tenant)
		if !tc.ok {
			if got := dwell.KindOf(err); err == nil || got != dwell.Invalid {
				t.Errorf("EnsureTenant(%q) = %v, %v (kind %v), want kind %v", tc.tenant, created, err, got, dwell.Invalid)
			}
			continue
		}
		if err != nil || !created {
			t.Errorf("EnsureTenant(%q) = %v, %v, want true, nil", tc.tenant, created, err)
		}
		if created, err := k.EnsureTenant(t.Context(), tc.tenant); err != nil || created {
			t.Errorf("second EnsureTenant(%q) = %v, %v, want false, nil", tc.tenant, created, err)
		}
	}
	want := []dwell.TenantID{"0", "a", "acme-corp-2", dwell.TenantID(strings.Repeat("x", MaxTenantIDBytes))}
	if got := k.Tenants(); !reflect.DeepEqual(got, want) {
		t.Errorf("Tenants() = %q, want %q", got, want)
	}
	entries, err := os.ReadDir(k.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("keys directory holds %q, want one file per tenant and no temporary files", names)
	}
}

func TestKeyringReload(t *testing.T) {
	k1 := newKeyring(t, "acme", "globex", "initech")
	p := dwell.Principal{Tenant: "globex", Subject: "m", Role: dwell.RoleManager}
	tok := mustMint(t, k1, p, time.Hour, t0)

	k2, err := OpenKeyring(k1.Dir())
	if err != nil {
		t.Fatalf("OpenKeyring again: %v", err)
	}
	if got, want := k2.Tenants(), k1.Tenants(); !reflect.DeepEqual(got, want) {
		t.Errorf("reopened Tenants() = %q, want %q", got, want)
	}
	for _, tn := range k1.Tenants() {
		if got, want := k2.lookup(tn), k1.lookup(tn); !reflect.DeepEqual(got, want) {
			t.Errorf("reopened key of %q = %+v, want %+v", tn, got, want)
		}
	}
	if got, err := k2.Verify(tok, t0); err != nil || got != issuedAt(p, t0) {
		t.Errorf("reopened Verify = %+v, %v, want %+v", got, err, p)
	}

	// A key made by another process on the same directory is seen after
	// Reload, not before.
	if _, err := k2.EnsureTenant(t.Context(), "umbrella"); err != nil {
		t.Fatal(err)
	}
	up := dwell.Principal{Tenant: "umbrella", Subject: "a", Role: dwell.RoleAdmin}
	utok := mustMint(t, k2, up, time.Hour, t0)
	if _, err := k1.Verify(utok, t0); dwell.MessageOf(err) != msgTenant {
		t.Errorf("Verify before Reload = %v, want %q", err, msgTenant)
	}
	if err := k1.Reload(t.Context()); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if got, err := k1.Verify(utok, t0); err != nil || got != issuedAt(up, t0) {
		t.Errorf("Verify after Reload = %+v, %v, want %+v", got, err, up)
	}
	// EnsureTenant on a stale keyring adopts the key on disk.
	if _, err := k1.EnsureTenant(t.Context(), "wayne"); err != nil {
		t.Fatal(err)
	}
	if created, err := k2.EnsureTenant(t.Context(), "wayne"); err != nil || created {
		t.Errorf("EnsureTenant of a tenant created by another keyring = %v, %v, want false, nil", created, err)
	}
	if !reflect.DeepEqual(k2.lookup("wayne"), k1.lookup("wayne")) {
		t.Errorf("two keyrings disagree on the key of a tenant both ensured")
	}
}

// TestImportKeys copies the tenants a keyring lacks from another, keeps
// its own key where both have one, and reports those tenants.
func TestImportKeys(t *testing.T) {
	dst, src := newKeyring(t, "acme"), newKeyring(t, "acme", "globex", "initech")
	imported, differ, err := dst.ImportKeys(t.Context(), src)
	if err != nil || !reflect.DeepEqual(imported, []dwell.TenantID{"globex", "initech"}) || !reflect.DeepEqual(differ, []dwell.TenantID{"acme"}) {
		t.Fatalf("ImportKeys = %q, %q, %v; want [globex initech], [acme], nil", imported, differ, err)
	}
	if absent, differ := dst.Compare(newKeyring(t, "acme", "umbrella")); !reflect.DeepEqual(absent, []dwell.TenantID{"umbrella"}) || !reflect.DeepEqual(differ, []dwell.TenantID{"acme"}) {
		t.Fatalf("Compare = %q, %q; want [umbrella], [acme]", absent, differ)
	}
	reopened, err := OpenKeyring(dst.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range []dwell.TenantID{"globex", "initech"} {
		if !reflect.DeepEqual(reopened.lookup(tn), src.lookup(tn)) {
			t.Errorf("key of %q after ImportKeys and reopening = %+v, want the imported %+v", tn, reopened.lookup(tn), src.lookup(tn))
		}
	}
	if reflect.DeepEqual(reopened.lookup("acme"), src.lookup("acme")) || reopened.lookup("acme") == nil {
		t.Errorf("ImportKeys replaced acme's own key")
	}
}

func TestKeyFilePermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	k, err := OpenKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.EnsureTenant(t.Context(), "acme"); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{
		dir:                             0o700 | os.ModeDir,
		filepath.Join(dir, "acme.json"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", path, got, want)
		}
	}
}

func TestKeyFileFormat(t *testing.T) {
	k := newKeyring(t, "acme")
	data, err := os.ReadFile(filepath.Join(k.Dir(), "acme.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]string
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("key file is not a JSON object of strings: %v\n%s", err, data)
	}
	if f["tenant"] != "acme" || f["alg"] != "HS256" || f["kid"] == "" {
		t.Errorf("key file = %s, want tenant acme, alg HS256 and a kid", data)
	}
	if secret, err := base64.StdEncoding.DecodeString(f["secret"]); err != nil || len(secret) != 32 {
		t.Errorf("key file secret = %q (%d bytes, %v), want 32 bytes in standard base64", f["secret"], len(secret), err)
	}
	if _, err := time.Parse(time.RFC3339, f["created"]); err != nil {
		t.Errorf("key file created = %q: %v", f["created"], err)
	}
}

func TestOpenKeyringMalformedFile(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString(make([]byte, 32))
	good := fmt.Sprintf(`{"tenant":"acme","kid":"k1","alg":"HS256","secret":%q,"created":"2026-01-02T15:04:05Z"}`, secret)
	for _, tc := range []struct {
		name, file, data string
	}{
		{"not JSON", "acme.json", "{"},
		{"empty", "acme.json", ""},
		{"tenant mismatch", "globex.json", good},
		{"bad tenant", "Acme.json", strings.Replace(good, `"acme"`, `"Acme"`, 1)},
		{"alg", "acme.json", strings.Replace(good, "HS256", "none", 1)},
		{"no kid", "acme.json", strings.Replace(good, `"k1"`, `""`, 1)},
		{"secret not base64", "acme.json", strings.Replace(good, secret, "!!", 1)},
		{"secret short", "acme.json", strings.Replace(good, secret, base64.StdEncoding.EncodeToString(make([]byte, 16)), 1)},
		{"created", "acme.json", strings.Replace(good, "2026-01-02T15:04:05Z", "yesterday", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.data), 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := OpenKeyring(dir)
			if err == nil {
				t.Fatalf("OpenKeyring = %v, nil, want an error", k)
			}
			if got := dwell.KindOf(err); got != dwell.Invalid {
				t.Errorf("OpenKeyring error kind = %v, want %v (error: %v)", got, dwell.Invalid, err)
			}
			// The file name is the contract: the operator must find the file.
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("OpenKeyring error %q does not name %s", err, tc.file)
			}
		})
	}

	t.Run("ignored files", func(t *testing.T) {
		dir := t.TempDir()
		for name, data := range map[string]string{
			"acme.json":                  good,
			".globex.json.tmp-123":       "{",
			"README":                     "not a key",
			"acme.json.bak":              "{",
			".hidden.json":               "{",
			"subdir.json/placeholder.go": "",
		} {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		k, err := OpenKeyring(dir)
		if err != nil {
			t.Fatalf("OpenKeyring: %v", err)
		}
		if got, want := k.Tenants(), []dwell.TenantID{"acme"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Tenants() = %q, want %q", got, want)
		}
	})

	t.Run("reload keeps old keys on error", func(t *testing.T) {
		k := newKeyring(t, "acme")
		if err := os.WriteFile(filepath.Join(k.Dir(), "globex.json"), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := k.Reload(t.Context()); err == nil {
			t.Fatal("Reload of a malformed file succeeded")
		}
		if got, want := k.Tenants(), []dwell.TenantID{"acme"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Tenants() after failed Reload = %q, want %q", got, want)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	k := newKeyring(t)
	// A second keyring on the same directory stands for another process.
	other, err := OpenKeyring(k.Dir())
	if err != nil {
		t.Fatal(err)
	}
	tenants := []dwell.TenantID{"t0", "t1", "t2", "t3"}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created = map[dwell.TenantID]int{}
	)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kr := k
			if g%4 == 3 {
				kr = other
			}
			for i := range 50 {
				tn := tenants[(g+i)%len(tenants)]
				c, err := kr.EnsureTenant(t.Context(), tn)
				if err != nil {
					t.Errorf("EnsureTenant(%q): %v", tn, err)
					return
				}
				if c {
					mu.Lock()
					created[tn]++
					mu.Unlock()
				}
				p := dwell.Principal{Tenant: tn, Subject: fmt.Sprintf("rep-%d", g), Role: dwell.RoleRep}
				tok, err := kr.Mint(p, time.Minute, t0)
				if err != nil {
					t.Errorf("Mint: %v", err)
					return
				}
				if kr == k { // other's tokens verify on k only after Reload.
					if got, err := k.Verify(tok, t0); err != nil || got != issuedAt(p, t0) {
						t.Errorf("Verify = %+v, %v, want %+v", got, err, p)
						return
					}
				}
				_ = kr.Tenants()
			}
		}()
	}
	wg.Wait()
	for _, tn := range tenants {
		if created[tn] != 1 {
			t.Errorf("tenant %q created %d times, want once", tn, created[tn])
		}
		if !reflect.DeepEqual(k.lookup(tn), other.lookup(tn)) {
			t.Errorf("keyrings sharing a directory hold different keys for %q", tn)
		}
	}
}

func TestBearerFromMetadata(t *testing.T) {
	for _, tc := range []struct {
		name string
		md   map[string][]string
		want string // "" means an error.
		msg  string
	}{
		{"grpc", map[string][]string{"authorization": {"Bearer abc.def.ghi"}}, "abc.def.ghi", ""},
		{"scheme lower case", map[string][]string{"authorization": {"bearer tok"}}, "tok", ""},
		{"scheme upper case, extra spaces", map[string][]string{"authorization": {"  BEARER   tok  "}}, "tok", ""},
		{"http header key", map[string][]string{"Authorization": {"Bearer tok"}}, "tok", ""},
		{"other keys", map[string][]string{"x-request-id": {"1"}, "authorization": {"Bearer tok"}}, "tok", ""},
		{"nil", nil, "", msgNoBearer},
		{"no authorization", map[string][]string{"x-token": {"Bearer tok"}}, "", msgNoBearer},
		{"no values", map[string][]string{"authorization": {}}, "", msgNoBearer},
		{"empty value", map[string][]string{"authorization": {""}}, "", msgNoBearer},
		{"scheme only", map[string][]string{"authorization": {"Bearer"}}, "", msgNoBearer},
		{"scheme and space", map[string][]string{"authorization": {"Bearer  "}}, "", msgNoBearer},
		{"basic", map[string][]string{"authorization": {"Basic dXNlcjpwYXNz"}}, "", msgScheme},
		{"token without scheme", map[string][]string{"authorization": {"abc.def.ghi"}}, "", msgScheme},
		{"two values", map[string][]string{"authorization": {"Bearer a", "Bearer b"}}, "", msgManyBearers},
		{"two keys", map[string][]string{"authorization": {"Bearer a"}, "Authorization": {"Bearer b"}}, "", msgManyBearers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BearerFromMetadata(tc.md)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Errorf("BearerFromMetadata(%q) = %q, %v, want %q", tc.md, got, err, tc.want)
				}
				return
			}
			if err == nil || dwell.KindOf(err) != dwell.Unauthenticated {
				t.Fatalf("BearerFromMetadata(%q) = %q, %v, want kind %v", tc.md, got, err, dwell.Unauthenticated)
			}
			if m := dwell.MessageOf(err); m != tc.msg {
				t.Errorf("BearerFromMetadata(%q) rejected for %q, want %q", tc.md, m, tc.msg)
			}
		})
	}
	// The missing-token message is the contract callers see.
	_, err := BearerFromMetadata(nil)
	if got := dwell.MessageOf(err); got != "missing bearer token" {
		t.Errorf("message for no token = %q, want %q", got, "missing bearer token")
	}
}

func FuzzVerify(f *testing.F) {
	k := newKeyring(f, "acme")
	valid := mustMint(f, k, dwell.Principal{Tenant: "acme", Subject: "rep-1", Role: dwell.RoleRep}, time.Hour, t0)
	acme := k.lookup("acme")
	for _, s := range []string{
		valid, "", ".", "..", "a.b.c", valid + "x", valid[:len(valid)-1],
		replacePayload(f, valid, goodClaims("globex")),
		replacePayload(f, valid, with(goodClaims("acme"), "role", "admin")),
		seg(`{"alg":"none"}`) + "." + seg(`{"tenant":"acme","role":"admin","sub":"x","exp":1e300}`) + ".",
		seg(`{"alg":"HS256","kid":"`+acme.kid+`"}`) + "." + seg("null") + ".",
		seg(`{"alg":"HS256","kid":"`+acme.kid+`"}`) + "." + seg(`{"tenant":"acme","exp":-1e300}`) + ".",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := k.Verify(s, t0)
		if err == nil {
			// Only a token minted with the key verifies; random input never.
			if s != valid {
				t.Fatalf("Verify(%q) = %+v, nil; want an error", s, p)
			}
			return
		}
		if p != (dwell.Principal{}) {
			t.Fatalf("Verify(%q) returned principal %+v with error %v", s, p, err)
		}
		if got := dwell.KindOf(err); got != dwell.Unauthenticated {
			t.Fatalf("Verify(%q) error kind = %v, want %v: %v", s, got, dwell.Unauthenticated, err)
		}
		if dwell.MessageOf(err) == "" {
			t.Fatalf("Verify(%q) error has no caller-facing message: %v", s, err)
		}
	})
}

// TestNewKeyring mints and verifies with the keys given, creates none, and
// refuses a key too short to be safe.
func TestNewKeyring(t *testing.T) {
	src := newKeyring(t, "acme")
	sk := src.lookup("acme")
	kr, err := NewKeyring([]dwell.SigningKey{{Tenant: "acme", KID: sk.kid, Secret: sk.secret, Created: sk.created}})
	if err != nil {
		t.Fatal(err)
	}
	p := dwell.Principal{Tenant: "acme", Subject: "a", Role: dwell.RoleAdmin}
	now := time.Now()
	if got, err := src.Verify(mustMint(t, kr, p, time.Hour, now), now); err != nil || got != issuedAt(p, now) {
		t.Fatalf("a token of NewKeyring verified by the key's own keyring = %v, %v; want %v", got, err, p)
	}
	if _, err := kr.EnsureTenant(t.Context(), "globex"); !dwell.Is(dwell.FailedPrecondition, err) {
		t.Fatalf("EnsureTenant on NewKeyring = %v, want kind FailedPrecondition", err)
	}
	if _, err := NewKeyring([]dwell.SigningKey{{Tenant: "acme", KID: "k", Secret: []byte("short")}}); !dwell.Is(dwell.Invalid, err) {
		t.Fatalf("NewKeyring of a 5-byte secret = %v, want kind Invalid", err)
	}
}
