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
			var dataDir, postgres, tenant, role, subject string
			ttl := 24 * time.Hour
			fset.StringVar(&dataDir, "data-dir", "", "dwelld's data `directory` (env DWELL_DATA_DIR, default dwell-data)")
			fset.StringVar(&postgres, "postgres", "", "read the keys from dwelld's PostgreSQL database at this `connection string` instead (env DWELL_POSTGRES)")
			fset.StringVar(&tenant, "tenant", "", "`tenant` id (required; dwelld creates \"default\")")
			fset.StringVar(&role, "role", "", "admin, manager, rep or partner (required)")
			fset.StringVar(&subject, "subject", "", "token `subject`: a rep id for a rep, a user or account name otherwise (required)")
			fset.DurationVar(&ttl, "ttl", ttl, "lifetime of the token, at most ten years")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "token mint"
				if postgres == "" && dataDir == "" {
					postgres = e.getenv("DWELL_POSTGRES")
				}
				if dataDir == "" {
					dataDir = e.getenv("DWELL_DATA_DIR")
				}
				if dataDir == "" {
					dataDir = "dwell-data"
				}
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
				keys := filepath.Join(dataDir, "keys")
				var kr *auth.Keyring
				if postgres != "" {
					keys = "the database"
					sks, err := pgstore.ReadSigningKeys(ctx, postgres)
					if err != nil {
						return e.fail(name, err)
					}
					if kr, err = auth.NewKeyring(sks); err != nil {
						return e.fail(name, err)
					}
				} else {
					// OpenKeyring would create a missing directory: check
					// first, so that a mistyped --data-dir is an error, not
					// a new empty keyring.
					if _, err := os.Stat(keys); errors.Is(err, fs.ErrNotExist) {
						return e.fail(name, fmt.Errorf("%s does not exist: start dwelld with --data-dir %s once to create the tenant keys", keys, dataDir))
					}
					var err error
					if kr, err = auth.OpenKeyring(keys); err != nil {
						return e.fail(name, err)
					}
				}
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
