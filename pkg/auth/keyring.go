package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// MaxTenantIDBytes is the longest tenant id, in bytes.
const MaxTenantIDBytes = 64

// secretBytes is the length of a newly generated HS256 secret. RFC 7518
// asks for a key at least as long as the hash output (32 bytes for SHA-256).
const secretBytes = 32

// algHS256 is the only signing algorithm Dwell issues or accepts.
const algHS256 = "HS256"

// Keyring holds one HS256 signing key per tenant, backed by one file per
// tenant in a directory (OpenKeyring) or by a KeyStore that several servers
// share (OpenKeyStore). It is safe for concurrent use by many goroutines.
// The zero Keyring is not usable; call OpenKeyring or OpenKeyStore.
type Keyring struct {
	dir string   // the keys directory; "" when ks is set
	ks  KeyStore // the shared store of keys, or nil

	// createMu serialises EnsureTenant so that one process writes at most one
	// key per tenant; it is never held by Mint or Verify.
	createMu sync.Mutex

	mu   sync.RWMutex
	keys map[dwell.TenantID]*key
}

// key is one tenant's signing key. It is never modified once built.
type key struct {
	tenant  dwell.TenantID
	kid     string
	secret  []byte
	created time.Time
}

// keyFile is the on-disk form of a key.
type keyFile struct {
	Tenant  string `json:"tenant"`
	KID     string `json:"kid"`
	Alg     string `json:"alg"`
	Secret  string `json:"secret"`
	Created string `json:"created"`
}

// CheckTenantID returns nil if t is a well-formed tenant id: 1 to
// MaxTenantIDBytes characters, each a lower-case ASCII letter, a digit or
// '-'. Otherwise it returns a dwell.Invalid error with a violation of the
// field "tenant". A well-formed id is always safe as a file name.
func CheckTenantID(t dwell.TenantID) error {
	const op dwell.Op = "auth.CheckTenantID"
	if len(t) == 0 || len(t) > MaxTenantIDBytes {
		return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "tenant",
			Description: fmt.Sprintf("must be 1 to %d characters", MaxTenantIDBytes)})
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return dwell.E(op, dwell.Invalid, dwell.Violation{Field: "tenant",
				Description: "may contain only a-z, 0-9 and '-'"})
		}
	}
	return nil
}

// OpenKeyring opens the keyring in dir, creating dir with mode 0700 if it
// does not exist, and loads every key file in it. A key file that cannot be
// read or parsed, or that fails validation, is an error naming the file
// (kind dwell.Invalid for bad contents); no keyring is returned then.
func OpenKeyring(dir string) (*Keyring, error) {
	const op dwell.Op = "auth.OpenKeyring"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, dwell.E(op, "cannot create keys directory", err)
	}
	keys, err := loadDir(dir)
	if err != nil {
		return nil, dwell.E(op, err)
	}
	return &Keyring{dir: dir, keys: keys}, nil
}

// KeyStore keeps signing keys durably where every server sharing a store
// sees the same ones: pgstore.Store implements it, so that servers on one
// database verify each other's tokens and hold no state of their own.
type KeyStore interface {
	// SigningKeys returns every tenant's key.
	SigningKeys(ctx context.Context) ([]dwell.SigningKey, error)
	// CreateSigningKey stores k as its tenant's key unless the tenant has
	// one already, and returns the tenant's key: k, or the key stored
	// before, unchanged. The key is durable when it returns.
	CreateSigningKey(ctx context.Context, k dwell.SigningKey) (dwell.SigningKey, error)
}

// OpenKeyStore returns a keyring backed by ks and loads every key in it. A
// stored key that fails validation (see OpenKeyring) is an error of kind
// dwell.Invalid naming its tenant; no keyring is returned then.
func OpenKeyStore(ctx context.Context, ks KeyStore) (*Keyring, error) {
	const op dwell.Op = "auth.OpenKeyStore"
	k := &Keyring{ks: ks}
	keys, err := k.load(ctx)
	if err != nil {
		return nil, dwell.E(op, err)
	}
	k.keys = keys
	return k, nil
}

// NewKeyring returns a keyring of keys alone, backed by no directory or
// store, for tools that read the keys from elsewhere (dwellctl, from a
// database): it mints and verifies with them; EnsureTenant of a tenant it
// lacks fails with kind dwell.FailedPrecondition. A key that fails
// validation is an error of kind dwell.Invalid naming its tenant.
func NewKeyring(keys []dwell.SigningKey) (*Keyring, error) {
	const op dwell.Op = "auth.NewKeyring"
	k, err := OpenKeyStore(context.Background(), fixedKeys(keys))
	if err != nil {
		return nil, dwell.E(op, err)
	}
	return k, nil
}

// fixedKeys is the KeyStore of NewKeyring: the keys it was given.
type fixedKeys []dwell.SigningKey

func (f fixedKeys) SigningKeys(context.Context) ([]dwell.SigningKey, error) { return f, nil }

func (f fixedKeys) CreateSigningKey(context.Context, dwell.SigningKey) (dwell.SigningKey, error) {
	return dwell.SigningKey{}, dwell.E(dwell.FailedPrecondition, "this keyring creates no keys")
}

// load reads every key from the keyring's backing directory or store.
func (k *Keyring) load(ctx context.Context) (map[dwell.TenantID]*key, error) {
	if k.ks == nil {
		return loadDir(k.dir)
	}
	sks, err := k.ks.SigningKeys(ctx)
	if err != nil {
		return nil, dwell.E("cannot read the signing keys", err)
	}
	keys := make(map[dwell.TenantID]*key, len(sks))
	for _, sk := range sks {
		nk, err := fromSigningKey(sk)
		if err != nil {
			return nil, err
		}
		keys[nk.tenant] = nk
	}
	return keys, nil
}

// Reload reads the keyring's directory or store again and replaces the
// keys in memory with what it finds, so that keys created by another
// process become usable. On error the keys in memory are unchanged.
func (k *Keyring) Reload(ctx context.Context) error {
	const op dwell.Op = "auth.Reload"
	// Not beside a create: a key stored after load read the store would
	// be dropped from memory by the swap below.
	k.createMu.Lock()
	defer k.createMu.Unlock()
	keys, err := k.load(ctx)
	if err != nil {
		return dwell.E(op, err)
	}
	k.mu.Lock()
	k.keys = keys
	k.mu.Unlock()
	return nil
}

// Dir returns the directory the keyring was opened on, or "" for a
// keyring backed by a KeyStore.
func (k *Keyring) Dir() string { return k.dir }

// ImportKeys gives each tenant of from that has no key in k from's key, so
// that tokens signed by from stay valid (moving a server's keys from its
// data directory into a shared store). It returns, in order, the tenants
// it imported and those whose key in k differs from their key in from: k
// keeps its own, and tokens signed with from's are refused. On error, the
// keys imported before it stay imported.
func (k *Keyring) ImportKeys(ctx context.Context, from *Keyring) (imported, differ []dwell.TenantID, err error) {
	const op dwell.Op = "auth.ImportKeys"
	for _, t := range from.Tenants() {
		fk := from.lookup(t)
		k.createMu.Lock()
		nk, created, err := k.create(ctx, fk)
		k.createMu.Unlock()
		switch {
		case err != nil:
			return imported, differ, dwell.E(op, err)
		case created:
			imported = append(imported, t)
		case !sameKey(nk, fk):
			differ = append(differ, t)
		}
	}
	return imported, differ, nil
}

// Compare returns, in order, the tenants of other that have no key in k
// and those whose key in k differs from their key in other.
func (k *Keyring) Compare(other *Keyring) (absent, differ []dwell.TenantID) {
	for _, t := range other.Tenants() {
		switch mine := k.lookup(t); {
		case mine == nil:
			absent = append(absent, t)
		case !sameKey(mine, other.lookup(t)):
			differ = append(differ, t)
		}
	}
	return absent, differ
}

func sameKey(a, b *key) bool {
	return a.tenant == b.tenant && a.kid == b.kid && bytes.Equal(a.secret, b.secret)
}

// fromSigningKey validates a stored key.
func fromSigningKey(sk dwell.SigningKey) (*key, error) {
	bad := func(format string, args ...any) error {
		return dwell.E(dwell.Invalid, fmt.Sprintf("malformed signing key of tenant %q: %s", sk.Tenant, fmt.Sprintf(format, args...)))
	}
	if err := CheckTenantID(sk.Tenant); err != nil {
		return nil, bad("%v", dwell.ViolationsOf(err)[0].Description)
	}
	if sk.KID == "" {
		return nil, bad("no kid")
	}
	if len(sk.Secret) < secretBytes {
		return nil, bad("secret is %d bytes, want at least %d", len(sk.Secret), secretBytes)
	}
	return &key{tenant: sk.Tenant, kid: sk.KID, secret: bytes.Clone(sk.Secret), created: sk.Created.UTC()}, nil
}

// Tenants returns the tenants that have a key, in ascending order.
func (k *Keyring) Tenants() []dwell.TenantID {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return slices.Sorted(maps.Keys(k.keys))
}

// EnsureTenant creates a signing key for tenant if it has none, and reports
// whether it created one. The key is durable (its file on disk, or in the
// KeyStore) before EnsureTenant returns. If another process created the
// tenant's key first, EnsureTenant loads that key instead and reports
// false. A malformed tenant id is a dwell.Invalid error.
func (k *Keyring) EnsureTenant(ctx context.Context, tenant dwell.TenantID) (created bool, err error) {
	const op dwell.Op = "auth.EnsureTenant"
	if err := CheckTenantID(tenant); err != nil {
		return false, dwell.E(op, err)
	}
	if k.lookup(tenant) != nil {
		return false, nil
	}

	k.createMu.Lock()
	defer k.createMu.Unlock()
	if k.lookup(tenant) != nil {
		return false, nil
	}

	nk := &key{
		tenant:  tenant,
		kid:     strings.ToLower(rand.Text()),
		secret:  make([]byte, secretBytes),
		created: time.Now().UTC().Truncate(time.Second),
	}
	rand.Read(nk.secret) // Never fails: crypto/rand crashes the program instead.
	if _, created, err = k.create(ctx, nk); err != nil {
		return false, dwell.E(op, err)
	}
	return created, nil
}

// create makes nk its tenant's key unless the tenant has one in the
// backing directory or store, and keeps the tenant's key in memory. It
// returns that key and whether it is nk. The caller holds createMu.
func (k *Keyring) create(ctx context.Context, nk *key) (*key, bool, error) {
	if old := k.lookup(nk.tenant); old != nil {
		return old, false, nil
	}
	created := false
	if k.ks != nil {
		sk, err := k.ks.CreateSigningKey(ctx, dwell.SigningKey{Tenant: nk.tenant, KID: nk.kid, Secret: nk.secret, Created: nk.created})
		if err != nil {
			return nil, false, dwell.E("cannot store the signing key", err)
		}
		stored, err := fromSigningKey(sk)
		if err != nil {
			return nil, false, err
		}
		created = sameKey(stored, nk)
		nk = stored
	} else {
		data, err := json.MarshalIndent(keyFile{
			Tenant:  string(nk.tenant),
			KID:     nk.kid,
			Alg:     algHS256,
			Secret:  base64.StdEncoding.EncodeToString(nk.secret),
			Created: nk.created.Format(time.RFC3339),
		}, "", "  ")
		if err != nil {
			return nil, false, err
		}
		data = append(data, '\n')
		name := keyFileName(nk.tenant)
		switch err := createFile(k.dir, name, data); {
		case err == nil:
			created = true
		case errors.Is(err, fs.ErrExist):
			// Another process won the race; its key is the tenant's key.
			if nk, err = loadFile(k.dir, name); err != nil {
				return nil, false, err
			}
		default:
			return nil, false, dwell.E("cannot write key file", err)
		}
	}
	k.mu.Lock()
	k.keys[nk.tenant] = nk
	k.mu.Unlock()
	return nk, created, nil
}

// lookup returns the tenant's key, or nil.
func (k *Keyring) lookup(tenant dwell.TenantID) *key {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.keys[tenant]
}

func keyFileName(tenant dwell.TenantID) string { return string(tenant) + ".json" }

// createFile makes dir/name hold data, durably, with mode 0600, unless
// dir/name exists, in which case it returns an error matching fs.ErrExist
// and changes nothing. The data is written to a temporary file and synced,
// then hard-linked to its name (which, unlike rename, never replaces an
// existing file), and the directory is synced. A crash leaves either no file
// or the whole file, and at worst a stray temporary file, which loadDir
// ignores.
func createFile(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // Best effort: a stray temporary file is ignored.
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	os.Remove(tmp) // Before syncDir, so that the removal is durable too.
	return syncDir(dir)
}

// syncDir makes the directory entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

// loadDir reads every key file in dir.
func loadDir(dir string) (map[dwell.TenantID]*key, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, dwell.E("cannot read keys directory", err)
	}
	keys := make(map[dwell.TenantID]*key)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		nk, err := loadFile(dir, name)
		if err != nil {
			return nil, err
		}
		keys[nk.tenant] = nk
	}
	return keys, nil
}

// loadFile reads and validates the key file dir/name. Errors name the file.
func loadFile(dir, name string) (*key, error) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, dwell.E(fmt.Sprintf("cannot read key file %s", path), err)
	}
	bad := func(format string, args ...any) error {
		return dwell.E(dwell.Invalid, fmt.Sprintf("malformed key file %s: %s", path, fmt.Sprintf(format, args...)))
	}
	var kf keyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, dwell.E(dwell.Invalid, fmt.Sprintf("malformed key file %s", path), err)
	}
	tenant := dwell.TenantID(kf.Tenant)
	if err := CheckTenantID(tenant); err != nil {
		return nil, bad("tenant %q: %v", kf.Tenant, dwell.ViolationsOf(err)[0].Description)
	}
	if name != keyFileName(tenant) {
		return nil, bad("tenant %q does not match the file name", kf.Tenant)
	}
	if kf.KID == "" {
		return nil, bad("no kid")
	}
	if kf.Alg != algHS256 {
		return nil, bad("alg %q is not %s", kf.Alg, algHS256)
	}
	secret, err := base64.StdEncoding.DecodeString(kf.Secret)
	if err != nil {
		return nil, bad("secret is not base64")
	}
	if len(secret) < secretBytes {
		return nil, bad("secret is %d bytes, want at least %d", len(secret), secretBytes)
	}
	created, err := time.Parse(time.RFC3339, kf.Created)
	if err != nil {
		return nil, bad("created %q is not an RFC 3339 time", kf.Created)
	}
	return &key{tenant: tenant, kid: kf.KID, secret: secret, created: created}, nil
}
