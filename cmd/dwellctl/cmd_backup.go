package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store/boltstore"
	"github.com/dwellhq/dwell/server/daemon"
)

// backupDBFile is the name of the store file in a data directory and in a
// backup directory, which is a data directory dwelld can start on.
const backupDBFile = "dwell.db"

func backupCommand() command {
	return command{
		name:    "backup",
		summary: "copy dwelld's store and keys to a backup directory, consistently, while it runs (bbolt)",
		help: `Writes BACKUPDIR/dwell.db, a consistent snapshot of the store taken in one
read transaction while dwelld goes on acknowledging uploads, and
BACKUPDIR/keys, a copy of the tenant signing keys (directory 0700, files
0600), then checks the copy (bbolt's consistency check, and a key for every
tenant it holds) and prints what it holds:

  dwellctl backup --data-dir /var/lib/dwell --to /backups/dwell-$(date +%F)

A running dwelld sends the snapshot over its control socket,
DIR/control.sock, which only the user dwelld runs as may use (run dwellctl
backup as that user). With dwelld stopped (no socket, or a stale one) the
file is copied directly under its lock; a dwelld started meanwhile waits
for the copy up to 5 seconds.

The copy is written under a temporary name, synced, checked, and renamed
to dwell.db only then: a backup that was interrupted or failed its check
leaves no dwell.db. An existing backup is replaced only with --force, and
only once the new one is complete; a backup of another data directory
(other keys) is never replaced, nor the dwell.db of a dwelld running on
BACKUPDIR (a restored one: it would go on writing to the replaced file
and lose at its next start all it acknowledged meanwhile). BACKUPDIR may
not lie inside the data directory. --timeout does not apply: a backup takes as long as it takes;
interrupt it with Ctrl-C.

To restore, stop dwelld and start it with --data-dir BACKUPDIR (or copy
dwell.db and keys/ into its data directory). A dwelld on PostgreSQL
(--postgres) keeps everything in the database: back it up with pg_dump.`,
		nargs: 0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			b := &backupJob{}
			var postgres string
			fs.StringVar(&b.dataDir, "data-dir", "", "dwelld's data `directory` (env DWELL_DATA_DIR, default dwell-data)")
			fs.StringVar(&b.to, "to", "", "backup `directory` to write dwell.db and keys/ into (required; created if missing)")
			fs.BoolVar(&b.force, "force", false, "replace a backup already in --to (once the new one is complete)")
			fs.StringVar(&postgres, "postgres", "", "a dwelld on PostgreSQL: refused, back it up with pg_dump")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				if postgres != "" || b.dataDir == "" && e.getenv("DWELL_POSTGRES") != "" {
					return e.usageError("backup", "a dwelld on PostgreSQL keeps its store and keys in the database: back it up with pg_dump (pg_dump --format=custom --file dwell.dump \"$DWELL_POSTGRES\"), not with dwellctl backup")
				}
				return b.run(ctx, e, g)
			}
		},
	}
}

// backupJob is one dwellctl backup.
type backupJob struct {
	dataDir, to string
	force       bool
	// progress, when set, is called with the bytes of the snapshot received
	// so far, after each write to the temporary file. Tests interrupt
	// backups midway with it.
	progress func(n int64)
}

// backupResult is what a backup printed with -o json.
type backupResult struct {
	To      string   `json:"to"`
	Online  bool     `json:"online"`
	Bytes   int64    `json:"bytes"`
	Tenants []string `json:"tenants"`
	Reps    int      `json:"reps"`
	Fixes   int64    `json:"fixes"`
	Events  int64    `json:"events"`
	Keys    int      `json:"keys"`
	Seconds float64  `json:"seconds"`
}

func (b *backupJob) run(ctx context.Context, e *env, g *globals) int {
	const name = "backup"
	if b.to == "" {
		return e.usageError(name, "--to is required: the directory to write the backup into")
	}
	if b.dataDir == "" {
		b.dataDir = e.getenv("DWELL_DATA_DIR")
	}
	if b.dataDir == "" {
		b.dataDir = "dwell-data"
	}
	data, to := realPath(b.dataDir), realPath(b.to)
	if rel, err := filepath.Rel(data, to); err == nil && (rel == "." || rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))) {
		return e.usageError(name, "--to %s lies inside the data directory %s: write the backup elsewhere (another disk, ideally)", b.to, b.dataDir)
	}
	start := e.now()
	switch fi, err := os.Stat(b.dataDir); {
	case errors.Is(err, fs.ErrNotExist):
		return e.fail(name, fmt.Errorf("data directory %s does not exist: give dwelld's --data-dir", b.dataDir))
	case err != nil:
		return e.fail(name, err)
	case !fi.IsDir():
		return e.fail(name, fmt.Errorf("%s is not a directory: give dwelld's --data-dir", b.dataDir))
	}
	src := filepath.Join(b.dataDir, backupDBFile)
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return e.fail(name, fmt.Errorf("%s holds no %s: not the data directory of a dwelld on bbolt", b.dataDir, backupDBFile))
	}
	keys := filepath.Join(b.dataDir, "keys")
	if _, err := os.Stat(keys); err != nil {
		return e.fail(name, fmt.Errorf("the tenant keys: %w", err))
	}
	dst := filepath.Join(b.to, backupDBFile)
	// Refused before anything is written, and again at the rename, which
	// holds the lock: a dwelld starting on dst meanwhile waits for it, and
	// then serves the file the rename put there (boltstore.Open checks the
	// file it locked is the one at its path).
	release, err := holdTarget(b.to, dst)
	if err != nil {
		return e.fail(name, err)
	}
	release()
	if _, err := os.Lstat(dst); err == nil && !b.force {
		return e.fail(name, fmt.Errorf("%s holds a backup already: give another --to, or --force to replace it", b.to))
	}
	if err := os.MkdirAll(b.to, 0o700); err != nil {
		return e.fail(name, err)
	}

	tmp, online, err := b.snapshot(ctx)
	if err != nil {
		return e.fail(name, err)
	}
	defer os.Remove(tmp) // after the rename, a no-op
	// Keys after the snapshot: keys are only ever added, and a tenant's
	// data needs its key first, so every tenant in the snapshot has one.
	nkeys, err := copyKeys(ctx, keys, filepath.Join(b.to, "keys"))
	if err != nil {
		return e.fail(name, fmt.Errorf("copying the keys: %w", err))
	}
	c, err := boltstore.Verify(ctx, tmp, 5*time.Second)
	if err != nil {
		return e.fail(name, fmt.Errorf("the copy fails its check, so no backup was written: %w", err))
	}
	for _, t := range c.Tenants {
		if _, err := os.Stat(filepath.Join(b.to, "keys", string(t)+".json")); err != nil {
			return e.fail(name, fmt.Errorf("the store holds data of tenant %q but %s has no key for it, so no backup was written", t, keys))
		}
	}
	if release, err = holdTarget(b.to, dst); err != nil {
		return e.fail(name, err)
	}
	err = os.Rename(tmp, dst)
	release()
	if err != nil {
		return e.fail(name, err)
	}
	if err := syncDir(b.to); err != nil {
		return e.fail(name, err)
	}
	took := e.now().Sub(start)
	res := backupResult{To: b.to, Online: online, Tenants: []string{}, Bytes: c.Bytes, Reps: c.Reps, Fixes: c.Fixes, Events: c.Events, Keys: nkeys, Seconds: took.Seconds()}
	for _, t := range c.Tenants {
		res.Tenants = append(res.Tenants, string(t))
	}
	if g.json() {
		printJSON(e.stdout, res)
		return exitOK
	}
	how := "from the running dwelld"
	if !online {
		how = "offline: dwelld was not running"
	}
	fmt.Fprintf(e.stdout, "Backed up %s to %s in %v (%s).\n", b.dataDir, b.to, took.Round(time.Millisecond), how)
	fmt.Fprintf(e.stdout, "  %-9s %.1f MiB, checked: %d tenants with data, %d reps, %d fixes, %d events\n",
		backupDBFile, float64(c.Bytes)/(1<<20), len(c.Tenants), c.Reps, c.Fixes, c.Events)
	fmt.Fprintf(e.stdout, "  %-9s %d tenant signing keys\n", "keys/", nkeys)
	fmt.Fprintf(e.stdout, "Restore: stop dwelld, then start it with --data-dir %s (or copy dwell.db and keys/ into its data directory).\n", b.to)
	return exitOK
}

// snapshot writes the store's snapshot to a new temporary file in b.to,
// synced, and returns its name and whether a running dwelld sent it. On
// error the file is removed.
func (b *backupJob) snapshot(ctx context.Context) (tmp string, online bool, err error) {
	f, err := os.CreateTemp(b.to, "."+backupDBFile+".tmp-*") // mode 0600
	if err != nil {
		return "", false, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	w := &progressWriter{f: f, progress: b.progress}
	sock := filepath.Join(b.dataDir, daemon.ControlSocket)
	switch err = fetchSnapshot(ctx, sock, w); {
	case err == nil:
		online = true
	case errors.Is(err, errNoDwelld):
		src := filepath.Join(b.dataDir, backupDBFile)
		_, err = boltstore.BackupFile(ctx, src, time.Second, w, nil)
		switch {
		case dwell.Is(dwell.FailedPrecondition, err):
			err = fmt.Errorf("%s is locked, so dwelld is running, but it serves no control socket %s: see its log (or stop it for an offline backup)", src, sock)
		case dwell.Is(dwell.Invalid, err):
			// The file is checked before its lock is taken: a running
			// dwelld's writes can fail the check too.
			err = fmt.Errorf("%w (if dwelld is running, it serves no control socket %s: see its log)", err, sock)
		}
	}
	if err != nil {
		return "", false, err
	}
	if err = f.Sync(); err != nil {
		return "", false, err
	}
	if err = f.Close(); err != nil {
		return "", false, err
	}
	return f.Name(), online, nil
}

// holdTarget takes a shared lock on dst, the dwell.db of the backup
// directory to, if there is one, and returns the function that releases
// it. A dst that a running dwelld holds (a dwelld restored from a backup
// there, serving --data-dir to) is refused: renamed over, it would be
// replaced under that dwelld, which would go on writing to the old,
// unlinked file and lose at its next start everything it acknowledged
// meanwhile.
func holdTarget(to, dst string) (release func(), err error) {
	release, err = boltstore.HoldFile(dst)
	switch {
	case err == nil:
		return release, nil
	case dwell.Is(dwell.NotFound, err):
		return func() {}, nil
	case errors.Is(err, boltstore.ErrLocked):
		return nil, fmt.Errorf("%s is the data directory of a running dwelld (its %s is locked), so nothing was written there: "+
			"replacing its %s would lose everything that dwelld acknowledges afterwards; give another --to, or stop that dwelld first", to, backupDBFile, backupDBFile)
	default:
		return nil, err
	}
}

// errNoDwelld is fetchSnapshot's error when no dwelld listens on the
// socket: there is none, or only the stale one of a dwelld that crashed.
var errNoDwelld = errors.New("no dwelld on the control socket")

// fetchSnapshot asks the dwelld listening on the control socket sock for a
// snapshot and writes it to w. A body shorter than announced (dwelld
// stopped midway) is an error.
func fetchSnapshot(ctx context.Context, sock string, w io.Writer) error {
	hc := &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://dwelld/backup", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ECONNREFUSED):
		return errNoDwelld
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied: run dwellctl backup as the user dwelld runs as", sock)
	case err != nil:
		return fmt.Errorf("asking dwelld for a snapshot: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("dwelld refused the backup: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return fmt.Errorf("the snapshot stream broke after %d of %d bytes: %w", n, resp.ContentLength, err)
	}
	if resp.ContentLength < 0 || n != resp.ContentLength {
		return fmt.Errorf("the snapshot stream ended after %d of %d bytes", n, resp.ContentLength)
	}
	return nil
}

// syncStep is how much of the copy progressWriter writes between fsyncs.
// Flushing one large copy at its end held up the fsyncs of dwelld's
// commits when both files share a disk (BenchmarkIngestDuringBackup in
// boltstore: batch p99 about 400 ms, against about 100 ms synced every
// 4 MiB).
const syncStep = 4 << 20

// progressWriter writes to f, fsyncs it every syncStep bytes, and reports
// the bytes written so far.
type progressWriter struct {
	f         *os.File
	n, synced int64
	progress  func(n int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	p.n += int64(n)
	if err == nil && p.n-p.synced >= syncStep {
		p.synced, err = p.n, p.f.Sync()
	}
	if p.progress != nil {
		p.progress(p.n)
	}
	return n, err
}

// copyKeys gives dst (created 0700) every tenant key of src, each written
// as auth writes keys (mode 0600, synced), and returns how many src holds.
// A key in dst that src lacks or holds otherwise is an error: dst is then
// the backup of another data directory, and mixing the two would sign
// tokens no server of either accepts.
func copyKeys(ctx context.Context, src, dst string) (int, error) {
	from, err := auth.OpenKeyring(src)
	if err != nil {
		return 0, err
	}
	to, err := auth.OpenKeyring(dst)
	if err != nil {
		return 0, err
	}
	if err := os.Chmod(dst, 0o700); err != nil {
		return 0, err
	}
	foreign, _ := from.Compare(to)
	_, differ := to.Compare(from)
	if bad := append(foreign, differ...); len(bad) > 0 {
		return 0, fmt.Errorf("%s holds other keys than %s (tenants %v): it is the backup of another data directory; use a new --to", dst, src, bad)
	}
	if _, _, err := to.ImportKeys(ctx, from); err != nil {
		return 0, err
	}
	return len(from.Tenants()), nil
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

// realPath returns p made absolute with its symbolic links resolved as
// far as it exists, so that two names of one directory compare equal.
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	var rest []string
	for dir := abs; ; dir = filepath.Dir(dir) {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		if filepath.Dir(dir) == dir {
			return abs
		}
		rest = append([]string{filepath.Base(dir)}, rest...)
	}
}
