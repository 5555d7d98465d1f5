package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/pgstore"
)

func tokenMintCommand() command {
	return command{
		name:    "token mint",
		summary: "mint a bearer token from the tenant keys of a data directory or database",
		help: `Reads DIR/keys (created by dwelld on first start) and prints a token for
the given tenant, role and subject, alone on stdout:

  export DWELL_TOKEN=$(dwellctl token mint --data-dir DIR --tenant default --role admin --subject admin)

For servers run with --postgres the keys are in the database instead:

  export DWELL_TOKEN=$(dwellctl token mint --postgres "$DWELL_POSTGRES" --tenant default --role admin --subject admin)

With -o json it prints {"token": ..., "expires": ...}. The subject of a rep
token is the rep's id. Anyone who can read the key files (or the database's
signing_keys table) can mint any token of their tenants: keep them private.`,
		nargs: 0,
		flags: func(fset *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var src keySource
			var tenant, role, subject string
			ttl := 24 * time.Hour
			src.flags(fset)
			fset.StringVar(&tenant, "tenant", "", "`tenant` id (required; dwelld creates \"default\")")
			fset.StringVar(&role, "role", "", "admin, manager, rep or partner (required)")
			fset.StringVar(&subject, "subject", "", "token `subject`: a rep id for a rep, a user or account name otherwise (required)")
			fset.DurationVar(&ttl, "ttl", ttl, "lifetime of the token, at most ten years")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "token mint"
				switch {
				case tenant == "":
					return e.usageError(name, "--tenant is required")
				case role == "":
					return e.usageError(name, "--role is required (admin, manager, rep or partner)")
				case subject == "":
					return e.usageError(name, "--subject is required")
				}
				r, ok := dwell.ParseRole(role)
				if !ok {
					return e.usageError(name, "--role %q: want admin, manager, rep or partner", role)
				}
				kr, keys, done, err := src.open(ctx, e)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				now := e.now()
				tok, err := kr.Mint(dwell.Principal{Tenant: dwell.TenantID(tenant), Subject: subject, Role: r}, ttl, now)
				if err != nil {
					if dwell.Is(dwell.NotFound, err) {
						return e.fail(name, fmt.Errorf("tenant %q has no signing key in %s (tenants: %v)", tenant, keys, kr.Tenants()))
					}
					var parts []string
					if m := dwell.MessageOf(err); m != "" {
						parts = append(parts, m)
					}
					for _, v := range dwell.ViolationsOf(err) {
						parts = append(parts, v.Field+": "+v.Description)
					}
					if len(parts) == 0 {
						return e.fail(name, err)
					}
					return e.fail(name, errors.New(strings.Join(parts, "; ")))
				}
				if g.json() {
					// Mint truncates exp to whole seconds.
					exp := now.Add(ttl).Truncate(time.Second).UTC()
					printJSON(e.stdout, struct {
						Token   string    `json:"token"`
						Expires time.Time `json:"expires"`
					}{tok, exp})
					return exitOK
				}
				fmt.Fprintln(e.stdout, tok)
				return exitOK
			}
		},
	}
}

// keySource is where dwellctl finds dwelld's tenant keys: its data
// directory (--data-dir, DWELL_DATA_DIR, default dwell-data) or, for a
// dwelld run with --postgres, its database (--postgres, or DWELL_POSTGRES
// when --data-dir is not given).
type keySource struct {
	dataDir, postgres string
}

func (k *keySource) flags(fs *flag.FlagSet) {
	fs.StringVar(&k.dataDir, "data-dir", "", "dwelld's data `directory` (env DWELL_DATA_DIR, default dwell-data)")
	fs.StringVar(&k.postgres, "postgres", "", "dwelld's PostgreSQL database, by `connection string`, instead of a data directory (env DWELL_POSTGRES)")
}

// open opens the keys as a keyring that can create keys, and returns
// where they are (for messages) and the function that releases them. A
// data directory without keys, or a database without Dwell's tables, is an
// error: a mistyped name must not make a new, empty keyring.
func (k *keySource) open(ctx context.Context, e *env) (kr *auth.Keyring, where string, done func(), err error) {
	if k.postgres == "" && k.dataDir == "" {
		k.postgres = e.getenv("DWELL_POSTGRES")
	}
	if k.postgres != "" {
		keys, err := pgstore.OpenKeys(ctx, k.postgres)
		if err != nil {
			return nil, "", nil, err
		}
		done := func() { _ = keys.Close(context.WithoutCancel(ctx)) }
		if kr, err = auth.OpenKeyStore(ctx, keys); err != nil {
			done()
			return nil, "", nil, err
		}
		return kr, "the database", done, nil
	}
	if k.dataDir == "" {
		k.dataDir = e.getenv("DWELL_DATA_DIR")
	}
	if k.dataDir == "" {
		k.dataDir = "dwell-data"
	}
	dir := filepath.Join(k.dataDir, "keys")
	// OpenKeyring would create a missing directory: check first.
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil, fmt.Errorf("%s does not exist: start dwelld with --data-dir %s once to create the tenant keys", dir, k.dataDir)
	}
	if kr, err = auth.OpenKeyring(dir); err != nil {
		return nil, "", nil, err
	}
	return kr, dir, func() {}, nil
}

// flagText is the flag that names this source on a command line, for the
// instructions dwellctl prints: the connection string is not repeated, as
// it may hold a password.
func (k *keySource) flagText() string {
	if k.postgres != "" {
		return `--postgres "$DWELL_POSTGRES"`
	}
	return "--data-dir " + k.dataDir
}
