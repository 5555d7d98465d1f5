// Command dwellctl is the command-line client of dwelld: it mints tokens,
// imports and lists clients, manages reps and teams, uploads pings and
// checks health, all over the public gRPC API. Only "token mint",
// "tenants create|list", and load and demo given --data-dir, read the
// signing keys, from the data directory or, with --postgres, from the
// database; "backup" copies a running dwelld's store and keys (bbolt) to a
// directory through the server's control socket and checks the copy
// (boltstore.Verify) before renaming it into place. It also prints and
// draws the reports (report visits, report day as a table, JSON or an
// --svg picture, report breakdown, report kpis), measures ingest under
// load (load) and runs a demo of a simulated team's day (demo), which may
// start dwelld in-process. load and demo write simulated data: given
// --data-dir they run in a tenant of their own (--tenant, "load" and
// "demo" by default), whose key they create if missing, and they never
// replace a client that is not one of their simulated sites (marked by
// their address): in a tenant with its own client under a site's id they
// change nothing and name it.
//
// The directory commands cover the admin's work after creation too:
// clients create and update (name, kind, circle or polygon fence, address,
// external id), reps update and delete (name, time zone, team, e-mail,
// working hours), teams get, update and delete (name, managers) and
// settings get and update (retention, visit, idle and silence thresholds,
// partner accounts). An update changes exactly the fields whose flags are
// given. Every get, list and update shows the record's etag; an update
// given --etag applies only if the record is unchanged since the read that
// showed it, and otherwise changes nothing, says the record changed since
// it was read and exits 1.
//
// It also feeds the sales inputs of the KPIs (appointments, opportunities
// and quotas; the server takes an import's batch all or nothing, so a
// batch refused for some rows is sent again without them), lists visits
// (report visits) and follows the live event stream (watch). watch uses
// one connection per stream, so its own pauses (0.5 s, doubling to 30 s)
// pace reconnection; it resumes from its last cursor, or from before any
// event by the dwell-start-cursor header.
//
// Usage:
//
//	dwellctl [global flags] COMMAND [flags] [args]
//
// Run "dwellctl help" for the commands and "dwellctl COMMAND -h" for one
// command's flags. Global flags may come before the command or among its
// flags.
//
// Exit status: 0 on success; 1 when the server refused the call, a file was
// malformed, some rows or fixes were rejected, or the output could not be
// all written (a full disk, a closed pipe: what the command did, such as an
// import, is done; its report is lost); 2 on a usage error. Every write to
// stdout goes through one wrapper that remembers the first write error, so
// no command can report success for output its reader never got. SIGPIPE
// is ignored, so that a closed pipe is such a write error (EPIPE) rather
// than a silent death by the signal (status 141 in a shell): "dwellctl
// clients list --all | head -1" exits 1 naming the broken pipe, and a
// watch whose reader went away still prints the cursor to resume from.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	// A reader that goes away (dwellctl ... | head -1) must not kill
	// dwellctl with SIGPIPE, silently and before a watch prints its
	// cursor: ignored, the signal leaves the write to fail with EPIPE,
	// which outWriter keeps, so the command exits 1 saying so on stderr.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// Defaults of the global flags.
const (
	defaultAddr    = "127.0.0.1:7070"
	defaultTimeout = 30 * time.Second
)

// env is what one invocation may touch: its streams, environment and clock.
// Nothing in dwellctl reads os.Stdin, os.Stdout, os.Getenv or the clock
// directly, so that tests run it in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

// globals are the flags every command accepts.
type globals struct {
	addr    string
	token   string
	output  string
	timeout time.Duration
	// tls dials with TLS; caFile, when set, is the PEM file of the
	// certificates to trust instead of the system's (and implies tls).
	tls    bool
	caFile string
	// roots is caFile's pool, loaded by resolve.
	roots *x509.CertPool
	// addrSet records that an address was given: --addr, before the
	// command or among its flags, or DWELL_ADDR.
	addrSet bool
}

// register adds the global flags to fs, bound to g. Values already in g are
// the defaults, so flags given before the command carry over.
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.addr, "addr", g.addr, "dwelld `address` host:port (env DWELL_ADDR, default "+defaultAddr+")")
	fs.StringVar(&g.token, "token", g.token, "bearer `token` (env DWELL_TOKEN; mint one with \"dwellctl token mint\")")
	// A token given before the command carries over as this set's
	// default, but a usage message must not print it: a terminal's or a
	// CI job's log would keep the credential.
	fs.Lookup("token").DefValue = ""
	fs.StringVar(&g.output, "o", g.output, "output `format`: table or json")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "deadline of each RPC; 0 for none")
	fs.BoolVar(&g.tls, "tls", g.tls, "dial with TLS, trusting the system's certificates (env DWELL_TLS=1)")
	fs.StringVar(&g.caFile, "ca", g.caFile, "PEM `file` of the certificates to trust (a private CA or dwelld's self-signed certificate); implies --tls (env DWELL_CA)")
}

// resolve fills what the flags left empty from the environment and checks
// the values.
func (g *globals) resolve(getenv func(string) string) error {
	g.addrSet = g.addrSet || getenv("DWELL_ADDR") != ""
	if g.addr == "" {
		g.addr = getenv("DWELL_ADDR")
	}
	if g.addr == "" {
		g.addr = defaultAddr
	}
	if g.token == "" {
		g.token = strings.TrimSpace(getenv("DWELL_TOKEN"))
	}
	if !g.tls {
		switch strings.ToLower(strings.TrimSpace(getenv("DWELL_TLS"))) {
		case "", "0", "false", "no":
		case "1", "true", "yes":
			g.tls = true
		default:
			return fmt.Errorf("DWELL_TLS=%s: want 1 or 0", getenv("DWELL_TLS"))
		}
	}
	if g.caFile == "" {
		g.caFile = getenv("DWELL_CA")
	}
	if g.caFile != "" {
		pem, err := os.ReadFile(g.caFile)
		if err != nil {
			return fmt.Errorf("--ca: %w", err)
		}
		g.roots = x509.NewCertPool()
		if !g.roots.AppendCertsFromPEM(pem) {
			return fmt.Errorf("--ca %s: no PEM certificate in the file", g.caFile)
		}
		g.tls = true
	}
	if g.output != "table" && g.output != "json" {
		return fmt.Errorf("-o %s: want table or json", g.output)
	}
	if g.timeout < 0 {
		return fmt.Errorf("--timeout must not be negative")
	}
	return nil
}

func (g *globals) json() bool { return g.output == "json" }

// command is one dwellctl subcommand.
type command struct {
	// name is the words that select it, such as "clients import".
	name string
	// args describes the positional arguments for the usage line.
	args string
	// summary is one line for the command list.
	summary string
	// help is more text for "-h", or empty.
	help string
	// flags adds the command's own flags to fs and returns the function that
	// runs it with the positional arguments.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e *env, g *globals, args []string) int
	// nargs is the number of positional arguments; -1 means any.
	nargs int
}

// commands returns every subcommand, in the order of the help text.
func commands() []command {
	return []command{
		tokenMintCommand(),
		tenantsCreateCommand(),
		tenantsListCommand(),
		backupCommand(),
		clientsImportCommand(),
		clientsCreateCommand(),
		clientsListCommand(),
		clientsGetCommand(),
		clientsUpdateCommand(),
		clientsDeleteCommand(),
		repsCreateCommand(),
		repsListCommand(),
		repsImportCommand(),
		repsGetCommand(),
		repsUpdateCommand(),
		repsDeleteCommand(),
		repsEraseHistoryCommand(),
		teamsCreateCommand(),
		teamsListCommand(),
		teamsGetCommand(),
		teamsUpdateCommand(),
		teamsDeleteCommand(),
		settingsGetCommand(),
		settingsUpdateCommand(),
		partnersCreateCommand(),
		partnersListCommand(),
		partnersUpdateCommand(),
		partnersDeleteCommand(),
		partnersRequireCommand(),
		pingsUploadCommand(),
		reportDayCommand(),
		reportBreakdownCommand(),
		reportKpisCommand(),
		reportStatusCommand(),
		reportVisitsCommand(),
		appointmentsCreateCommand(),
		appointmentsListCommand(),
		appointmentsDeleteCommand(),
		opportunitiesImportCommand(),
		opportunitiesListCommand(),
		opportunitiesGetCommand(),
		opportunitiesUpdateCommand(),
		quotasImportCommand(),
		quotasListCommand(),
		quotasDeleteCommand(),
		watchCommand(),
		loadCommand(),
		demoCommand(),
		healthCommand(),
	}
}

// run is dwellctl: it parses args (without the program name), runs one
// command and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now}
	return e.run(ctx, args)
}

// run runs one invocation with args; its stdout is wrapped in an
// outWriter, so that output lost to a failed write makes it exit 1.
func (e *env) run(ctx context.Context, args []string) int {
	if _, ok := e.stdout.(*outWriter); !ok {
		e.stdout = &outWriter{w: e.stdout}
	}
	return e.checkOutput("dwellctl", e.dispatch(ctx, args))
}

// dispatch parses the global flags and runs the command args name, or
// prints the help.
func (e *env) dispatch(ctx context.Context, args []string) int {
	g := &globals{output: "table", timeout: defaultTimeout}
	top := flag.NewFlagSet("dwellctl", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	g.register(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			e.usage(e.stdout)
			return exitOK
		}
		fmt.Fprintf(e.stderr, "dwellctl: %v\n", err)
		e.usage(e.stderr)
		return exitUsage
	}
	top.Visit(func(f *flag.Flag) { g.addrSet = g.addrSet || f.Name == "addr" })
	args = top.Args()
	if len(args) == 0 {
		e.usage(e.stderr)
		return exitUsage
	}
	if args[0] == "help" {
		if len(args) > 1 {
			return e.run(ctx, append(args[1:], "-h"))
		}
		e.usage(e.stdout)
		return exitOK
	}
	cmds := commands()
	for _, c := range cmds {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return e.runCommand(ctx, c, g, args[len(words):])
		}
	}
	// A group name alone ("dwellctl clients") lists its commands.
	var group []command
	for _, c := range cmds {
		if strings.HasPrefix(c.name, args[0]+" ") {
			group = append(group, c)
		}
	}
	if len(group) > 0 {
		if len(args) > 1 && args[1] != "-h" && args[1] != "--help" {
			fmt.Fprintf(e.stderr, "dwellctl: unknown command %q\n\n", args[0]+" "+args[1])
		}
		fmt.Fprintf(e.stderr, "Commands of %s:\n\n", args[0])
		listCommands(e.stderr, group)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "dwellctl: unknown command %q; run \"dwellctl help\"\n", args[0])
	return exitUsage
}

func (e *env) usage(w io.Writer) {
	fmt.Fprint(w, `dwellctl is the command-line client of dwelld.

Usage:

  dwellctl [global flags] COMMAND [flags] [args]

Commands:

`)
	listCommands(w, commands())
	fmt.Fprintf(w, `
Global flags (before the command or among its flags):

  --addr host:port   dwelld address (env DWELL_ADDR, default %s)
  --token TOKEN      bearer token (env DWELL_TOKEN)
  -o table|json      output format (default table)
  --timeout 30s      deadline of each RPC; 0 for none
  --tls              dial with TLS, trusting the system's certificates (env DWELL_TLS=1)
  --ca FILE          trust these PEM certificates (a private CA, a self-signed
                     dwelld); implies --tls (env DWELL_CA)

Run "dwellctl COMMAND -h" for a command's flags.
`, defaultAddr)
}

func listCommands(w io.Writer, cs []command) {
	width := 0
	for _, c := range cs {
		width = max(width, len(c.name))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
	}
}

// runCommand parses the flags of c, the global ones included, and runs it.
func (e *env) runCommand(ctx context.Context, c command, g *globals, args []string) int {
	fs := flag.NewFlagSet("dwellctl "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	runFn := c.flags(fs)
	g.register(fs)
	fs.Usage = func() {
		w := fs.Output()
		line := "dwellctl " + c.name + " [flags]"
		if c.args != "" {
			line += " " + c.args
		}
		fmt.Fprintf(w, "Usage: %s\n\n%s\n", line, c.summary)
		if c.help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
		}
		fmt.Fprintf(w, "\nFlags:\n")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage // the flag package has printed the error and usage
	}
	fs.Visit(func(f *flag.Flag) { g.addrSet = g.addrSet || f.Name == "addr" })
	if c.nargs >= 0 && len(pos) != c.nargs {
		if len(pos) < c.nargs {
			fmt.Fprintf(e.stderr, "dwellctl %s: missing %s\n", c.name, c.args)
		} else {
			fmt.Fprintf(e.stderr, "dwellctl %s: unexpected arguments: %s\n", c.name, strings.Join(pos[c.nargs:], " "))
		}
		fmt.Fprintf(e.stderr, "Run \"dwellctl %s -h\" for usage.\n", c.name)
		return exitUsage
	}
	if err := g.resolve(e.getenv); err != nil {
		fmt.Fprintf(e.stderr, "dwellctl %s: %v\n", c.name, err)
		return exitUsage
	}
	return e.checkOutput("dwellctl "+c.name, runFn(ctx, e, g, pos))
}

// parseInterleaved parses flags that may come before, between or after the
// positional arguments, and returns the positional ones. Everything after
// "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError prints a usage problem found after flag parsing.
func (e *env) usageError(name string, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "dwellctl %s: %s\n", name, fmt.Sprintf(format, args...))
	return exitUsage
}

// fail prints an error that is not an RPC error.
func (e *env) fail(name string, err error) int {
	if o, ok := e.stdout.(*outWriter); ok {
		o.noteReported(err)
	}
	fmt.Fprintf(e.stderr, "dwellctl %s: %v\n", name, err)
	return exitFail
}
