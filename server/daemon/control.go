package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// ControlSocket is the file name, in the data directory, of the Unix socket
// on which a dwelld on bbolt serves its host's operator (dwellctl backup):
// plain HTTP, GET /backup, and GET /metrics (metrics.go; curl
// --unix-socket reaches it). It is not part of the public API. Access is the
// file's permission (0600, in the 0700 data directory): whoever may use it
// may also read the keys directory, which lets them mint any token.
const ControlSocket = "control.sock"

// backupStall is how long a backup's reader may take nothing before
// dwelld gives up on it. The snapshot's read transaction keeps the pages
// the committer frees from reuse (the file grows) and holds off a remap of
// the file (the committer waits), so a stopped reader (a dwellctl
// suspended with Ctrl-Z) must not hold it for long.
const backupStall = 30 * time.Second

// maxSocketPath is the longest path a Unix socket can be bound to on Linux
// (sun_path is 108 bytes with its terminating NUL).
const maxSocketPath = 107

// backupStore is what the control endpoint needs of the store
// (boltstore.Store).
type backupStore interface {
	Backup(ctx context.Context, w io.Writer, begin func(size int64) error) (int64, error)
}

// control is a running control endpoint.
type control struct {
	path string
	srv  *http.Server
	log  *slog.Logger
	// stall is how long a backup's reader may take nothing (backupStall).
	stall time.Duration
	// cancel ends the requests in flight (a backup stops within 32 KiB);
	// served is closed when Serve has returned; handlers counts the
	// requests still in their handler, and mu guards closed, which stops
	// new ones from counting in once close waits.
	cancel   context.CancelFunc
	served   chan struct{}
	handlers sync.WaitGroup
	mu       sync.Mutex
	closed   bool
}

// startControl serves the control endpoint of st on dataDir's control
// socket. Its caller holds the store's lock on the data directory, so no
// other dwelld serves there: a socket left at the path (a dwelld that
// crashed) is replaced; anything else at the path is an error. The socket
// is bound in a new 0700 directory, made 0600 and only then renamed into
// place, so it is never reachable with wider permissions.
func startControl(ctx context.Context, dataDir string, st backupStore, metrics http.Handler, log *slog.Logger, stall time.Duration) (*control, error) {
	path := filepath.Join(dataDir, ControlSocket)
	switch fi, err := os.Lstat(path); {
	case err == nil && fi.Mode().Type() != fs.ModeSocket:
		return nil, fmt.Errorf("%s exists and is not a socket: move it away", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	tmp, err := os.MkdirTemp(dataDir, ".control-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bind := filepath.Join(tmp, "s")
	if n := max(len(bind), len(path)); n > maxSocketPath {
		return nil, fmt.Errorf("socket path %s is %d bytes, longer than the %d a Unix socket allows: use a shorter --data-dir", path, n, maxSocketPath)
	}
	lis, err := net.ListenUnix("unix", &net.UnixAddr{Name: bind, Net: "unix"})
	if err != nil {
		return nil, err
	}
	lis.SetUnlinkOnClose(false) // it is removed by its final name
	if err := os.Chmod(bind, 0o600); err != nil {
		lis.Close()
		return nil, err
	}
	if err := os.Rename(bind, path); err != nil {
		lis.Close()
		return nil, err
	}
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &control{path: path, log: log, stall: stall, cancel: cancel, served: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/backup", c.track(c.backup(st)))
	mux.Handle("GET /metrics", c.track(metrics))
	c.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("control socket serving (dwellctl backup)", "path", path)
	go func() {
		defer close(c.served)
		if err := c.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("control socket", "err", err)
		}
	}()
	return c, nil
}

// track counts h's requests in c.handlers.
func (c *control) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			http.Error(w, "dwelld is stopping", http.StatusServiceUnavailable)
			return
		}
		c.handlers.Add(1)
		c.mu.Unlock()
		defer c.handlers.Done()
		h.ServeHTTP(w, r)
	})
}

// backup serves GET /backup: the whole store file as one consistent
// snapshot (application/octet-stream, with its Content-Length). An error
// before the first byte is a 503 with the reason; an error after it, or a
// reader that takes nothing for c.stall, cuts the connection, so the
// client sees a short body, never a complete one.
func (c *control) backup(st backupStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		start := time.Now()
		begun := false
		dw := deadlineWriter{rc: http.NewResponseController(w), w: w, stall: c.stall}
		n, err := st.Backup(r.Context(), dw, func(size int64) error {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
			w.WriteHeader(http.StatusOK)
			begun = true
			return nil
		})
		if err != nil {
			c.log.Warn("backup not completed", "bytes", n, "took", time.Since(start).Round(time.Millisecond), "err", err)
			if !begun {
				http.Error(w, "backup failed: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			panic(http.ErrAbortHandler) // cut the stream short
		}
		c.log.Info("backup served", "bytes", n, "took", time.Since(start).Round(time.Millisecond))
	})
}

// deadlineWriter writes to w, each write given stall to go out.
type deadlineWriter struct {
	rc    *http.ResponseController
	w     io.Writer
	stall time.Duration
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	if err := d.rc.SetWriteDeadline(time.Now().Add(d.stall)); err != nil {
		return 0, err
	}
	return d.w.Write(p)
}

// close stops the endpoint: it ends the requests in flight, waits for
// their handlers, and removes the socket.
func (c *control) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.srv.Close()
	<-c.served
	c.handlers.Wait()
	if err := os.Remove(c.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("removing the control socket", "err", err)
	}
}
