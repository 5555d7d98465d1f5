package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/fieldmaskpb"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

const partnerScopesHelp = `Scopes (--scope, repeatable) are what the account's partner tokens may
call: directory-read, directory-write, ingest, sales-read, sales-write,
reports-read, events-watch (or their API names, PARTNER_SCOPE_REPORTS_READ).
A partner token whose subject is the account's ID gets exactly these while
the account is enabled, nothing while it is disabled. A partner subject
with no account is refused once the tenant requires accounts (dwellctl
partners require), and keeps every partner right until then.`

// parseScopes turns --scope values into API scopes.
func parseScopes(vs []string) ([]dwellv1.PartnerScope, error) {
	var out []dwellv1.PartnerScope
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			n := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", "_"))
			if !strings.HasPrefix(n, "PARTNER_SCOPE_") {
				n = "PARTNER_SCOPE_" + n
			}
			x, ok := dwellv1.PartnerScope_value[n]
			if !ok || x == 0 {
				return nil, fmt.Errorf("unknown scope %q", s)
			}
			out = append(out, dwellv1.PartnerScope(x))
		}
	}
	return out, nil
}

func formatScopes(ss []dwellv1.PartnerScope) string {
	var out []string
	for _, s := range ss {
		out = append(out, strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.String(), "PARTNER_SCOPE_"), "_", "-")))
	}
	return strings.Join(out, ", ")
}

func printPartner(e *env, g *globals, p *dwellv1.Partner) int {
	return printRecord(e, g, p, [][2]string{
		{"Name:", p.GetName()},
		{"Display name:", p.GetDisplayName()},
		{"Scopes:", orDash(formatScopes(p.GetScopes()))},
		{"Disabled:", fmt.Sprint(p.GetDisabled())},
		{"Created:", formatTime(p.GetCreateTime())},
		{"Updated:", formatTime(p.GetUpdateTime())},
		{"Etag:", p.GetEtag()},
	})
}

func partnersCreateCommand() command {
	return command{
		name:    "partners create",
		args:    "ID",
		summary: "register a partner account (ID is the subject of its tokens); admin only",
		help:    partnerScopesHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var displayName, requestID string
			var scopes stringList
			var disabled bool
			fs.StringVar(&displayName, "name", "", "display `name` (required)")
			fs.Var(&scopes, "scope", "a `scope` granted (repeatable, or comma-separated; at least one)")
			fs.BoolVar(&disabled, "disabled", false, "create the account disabled")
			fs.StringVar(&requestID, "request-id", "", "idempotency `key`; a retry with the same key creates nothing more (default: random)")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "partners create"
				sc, err := parseScopes(scopes)
				if err != nil {
					return e.usageError(name, "--scope: %v", err)
				}
				if requestID == "" {
					b := make([]byte, 16)
					_, _ = rand.Read(b) // never fails (crypto/rand)
					requestID = hex.EncodeToString(b)
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				resp, err := dwellv1.NewDirectoryServiceClient(conn).CreatePartner(rctx, &dwellv1.CreatePartnerRequest{
					RequestId: requestID, PartnerId: strings.TrimPrefix(args[0], "partners/"),
					Partner: &dwellv1.Partner{DisplayName: displayName, Scopes: sc, Disabled: disabled},
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				return printPartner(e, g, resp.GetPartner())
			}
		},
	}
}

func partnersListCommand() command {
	return command{
		name:    "partners list",
		summary: "list partner accounts; admin only",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var l listFlags
			l.register(fs)
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "partners list"
				conn, err := g.dial()
				if err != nil {
					return e.fail(name, err)
				}
				defer conn.Close()
				dc := dwellv1.NewDirectoryServiceClient(conn)
				ps, err := list(ctx, e, g, &l, func(ctx context.Context, size int32, token string) ([]*dwellv1.Partner, string, error) {
					resp, err := dc.ListPartners(ctx, &dwellv1.ListPartnersRequest{PageSize: size, PageToken: token})
					return resp.GetPartners(), resp.GetNextPageToken(), err
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printProtos(e.stdout, ps)
					return exitOK
				}
				tw := newTable(e.stdout)
				row(tw, "NAME", "DISPLAY NAME", "DISABLED", "SCOPES", "ETAG")
				for _, p := range ps {
					row(tw, p.GetName(), p.GetDisplayName(), fmt.Sprint(p.GetDisabled()), orDash(formatScopes(p.GetScopes())), p.GetEtag())
				}
				tw.Flush()
				return exitOK
			}
		},
	}
}

func partnersUpdateCommand() command {
	return command{
		name:    "partners update",
		args:    "ID",
		summary: "change a partner account's scopes, name, or disable/enable it; admin only",
		help: partnerScopesHelp + "\n\nOnly the fields whose flags are given change; --scope replaces every scope.\n" +
			"With --etag the update applies only if the account is unchanged since the read\n" +
			"that showed that etag (partners list); if it changed, nothing is changed and\n" +
			"the exit status is 1.",
		nargs: 1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var displayName, etag string
			var scopes stringList
			var disabled bool
			fs.StringVar(&displayName, "name", "", "new display `name`")
			fs.StringVar(&etag, "etag", "", "apply only if the account still has this `etag`")
			fs.Var(&scopes, "scope", "a `scope` granted (repeatable); the given ones replace all")
			fs.BoolVar(&disabled, "disabled", false, "--disabled cuts the account's tokens off; --disabled=false enables it")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "partners update"
				sc, err := parseScopes(scopes)
				if err != nil {
					return e.usageError(name, "--scope: %v", err)
				}
				var paths []string
				fs.Visit(func(f *flag.Flag) {
					switch f.Name {
					case "name":
						paths = append(paths, "display_name")
					case "scope":
						paths = append(paths, "scopes")
					case "disabled":
						paths = append(paths, "disabled")
					}
				})
				if len(paths) == 0 {
					return e.usageError(name, "nothing to change: give --name, --scope or --disabled")
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				resp, err := dwellv1.NewDirectoryServiceClient(conn).UpdatePartner(rctx, &dwellv1.UpdatePartnerRequest{
					Partner: &dwellv1.Partner{Name: resourceName("partners", args[0]), DisplayName: displayName, Scopes: sc, Disabled: disabled,
						Etag: etag},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
				})
				if err != nil {
					return e.updateFailed(name, g, resourceName("partners", args[0]), "partners list", etag, err)
				}
				return printPartner(e, g, resp.GetPartner())
			}
		},
	}
}

func partnersDeleteCommand() command {
	return deleteCommand("partners delete", "ID", "partners",
		"delete a partner account, revoking for good the tokens issued until then, whatever the tenant's settings; admin only", dwellv1.NewDirectoryServiceClient,
		func(ctx context.Context, dc dwellv1.DirectoryServiceClient, n string) error {
			_, err := dc.DeletePartner(ctx, &dwellv1.DeletePartnerRequest{Name: n})
			return err
		})
}

func partnersRequireCommand() command {
	return command{
		name:    "partners require",
		summary: "require a partner account of every partner token (--off: let unregistered partner subjects keep every right); admin only",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var off bool
			fs.BoolVar(&off, "off", false, "stop requiring accounts: a partner subject without one keeps every partner right")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "partners require"
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				resp, err := dwellv1.NewDirectoryServiceClient(conn).UpdateSettings(rctx, &dwellv1.UpdateSettingsRequest{
					Settings:   &dwellv1.Settings{PartnerAccountsRequired: !off},
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"partner_accounts_required"}},
				})
				if err != nil {
					return e.rpcError(name, g, err)
				}
				required := resp.GetSettings().GetPartnerAccountsRequired()
				if g.json() {
					printJSON(e.stdout, map[string]any{"partner_accounts_required": required})
					return exitOK
				}
				fmt.Fprintf(e.stdout, "Partner accounts required: %v\n", required)
				return exitOK
			}
		},
	}
}
