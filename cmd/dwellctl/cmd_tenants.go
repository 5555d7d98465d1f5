package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
)

func tenantsCreateCommand() command {
	return command{
		name:    "tenants create",
		args:    "TENANT",
		summary: "give a new tenant its signing key (in a data directory or database)",
		help: `Creates TENANT's signing key where dwelld keeps the keys: DIR/keys, or the
database of a dwelld run with --postgres. Running servers accept the
tenant's tokens within 10 seconds, without a restart. A tenant id is 1 to
64 characters of a-z, 0-9 and '-'. A tenant that has a key keeps it:
nothing changes, and the command still succeeds.

  dwellctl tenants create --data-dir DIR acme
  dwellctl tenants create --postgres "$DWELL_POSTGRES" acme`,
		nargs: 1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var src keySource
			src.flags(fs)
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "tenants create"
				tenant := dwell.TenantID(args[0])
				if err := auth.CheckTenantID(tenant); err != nil {
					return e.usageError(name, "tenant %q: %s", tenant, dwell.ViolationsOf(err)[0].Description)
				}
				kr, where, done, err := src.open(ctx, e)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				if src.postgres == "" {
					if err := checkOwner(where); err != nil {
						return e.fail(name, err)
					}
				}
				created, err := kr.EnsureTenant(ctx, tenant)
				if err != nil {
					return e.fail(name, err)
				}
				if g.json() {
					printJSON(e.stdout, struct {
						Tenant  string `json:"tenant"`
						Created bool   `json:"created"`
					}{string(tenant), created})
					return exitOK
				}
				if !created {
					fmt.Fprintf(e.stdout, "Tenant %q already has a signing key in %s; nothing changed.\n", tenant, where)
					return exitOK
				}
				fmt.Fprintf(e.stdout, "Created tenant %q with a new signing key in %s.\nRunning servers accept its tokens within 10 seconds. Mint an admin token with:\n\n  dwellctl token mint %s --tenant %s --role admin --subject admin\n",
					tenant, where, src.flagText(), tenant)
				return exitOK
			}
		},
	}
}

func tenantsListCommand() command {
	return command{
		name:    "tenants list",
		summary: "list the tenants that have a signing key",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var src keySource
			src.flags(fs)
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "tenants list"
				kr, _, done, err := src.open(ctx, e)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				tenants := kr.Tenants()
				if g.json() {
					ids := make([]string, len(tenants))
					for i, t := range tenants {
						ids[i] = string(t)
					}
					printJSON(e.stdout, ids)
					return exitOK
				}
				for _, t := range tenants {
					fmt.Fprintln(e.stdout, t)
				}
				return exitOK
			}
		},
	}
}
