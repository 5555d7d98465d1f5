package boltstore

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// Crash durability: "acknowledged means durable".
//
// TestCrashDurability runs this test binary as a child process that appends
// fixes from several goroutines and prints every acknowledged batch, kills
// it with SIGKILL mid-flight, reopens the file and checks that every
// acknowledged fix is there and is still known to deduplication. It does so
// for several rounds on the same file, so recovery of a killed store is
// itself recovered from.
//
// A kill loses the process but not the kernel's page cache, so this checks
// that nothing is acknowledged before its commit and that a killed store
// recovers (including the fix-id index's in-memory state). Power loss
// additionally depends on the fsync that bbolt does at each commit (and on
// the disk honouring it), which no test here can cut.

const crashEnv = "BOLTSTORE_CRASH_CHILD"

func TestCrashDurability(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	type ack struct {
		rep         string
		round, g, b int
	}
	var acked []ack
	const rounds = 3
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, "BOLTSTORE_CRASH_ROUND="+strconv.Itoa(round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(out)
		n := 0
		killAt := 150 + 100*round
		killed := false
		deadline := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				// A line cut by the kill has no newline; it was never
				// acknowledged as a whole and is ignored.
				if err != io.EOF {
					t.Fatal(err)
				}
				break
			}
			var a ack
			if _, err := fmt.Sscanf(line, "ACK %s %d %d %d\n", &a.rep, &a.round, &a.g, &a.b); err != nil {
				continue // test framework output
			}
			acked = append(acked, a)
			if n++; n == killAt && !killed {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		deadline.Stop()
		err = cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child ended before it was killed (%v) after %d acks", round, err, n)
		}
		t.Logf("round %d: %d batches acknowledged before SIGKILL", round, n)

		s, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		ctx := context.Background()
		byRep := map[string]map[string]bool{}
		for _, a := range acked {
			if byRep[a.rep] == nil {
				got, err := s.ListFixes(ctx, "crash", dwell.RepID(a.rep), time.Time{}, time.Now().Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				byRep[a.rep] = map[string]bool{}
				for _, f := range got {
					byRep[a.rep][f.ID] = true
				}
			}
			batch := crashBatch(a.rep, a.round, a.g, a.b)
			for _, f := range batch {
				if !byRep[a.rep][f.ID] {
					t.Fatalf("round %d: acknowledged fix %s of %s is missing after SIGKILL", round, f.ID, a.rep)
				}
			}
			stored, err := s.AppendFixes(ctx, "crash", dwell.RepID(a.rep), batch)
			if err != nil {
				t.Fatal(err)
			}
			for i, ok := range stored {
				if ok {
					t.Fatalf("round %d: acknowledged fix %s of %s was stored again after SIGKILL", round, batch[i].ID, a.rep)
				}
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// crashBatch is the batch b of goroutine g in the given round: 40 fixes
// with ids unique across rounds, goroutines and batches.
func crashBatch(rep string, round, g, b int) []dwell.Fix {
	const n = 40
	out := make([]dwell.Fix, n)
	base := time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(round) * time.Hour)
	for i := range out {
		out[i] = dwell.Fix{
			// Hash-like ids, so that index inserts are spread out.
			ID:         fmt.Sprintf("%08x-r%d-g%d-b%d-%d", uint32(i*2654435761+b*40503+g*7919), round, g, b, i),
			Time:       base.Add(time.Duration(b*n+i) * time.Second),
			Pos:        dwell.LatLng{Lat: -6.2, Lng: 106.8},
			AccuracyM:  10,
			SpeedMPS:   -1,
			BearingDeg: -1,
		}
	}
	return out
}

// TestCrashChild is the child of TestCrashDurability; it runs only there.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashDurability")
	}
	round, _ := strconv.Atoi(os.Getenv("BOLTSTORE_CRASH_ROUND"))
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Merge the fix-id log into runs every few batches, and compact the runs
	// often, so that kills land in the middle of those too.
	s.mergeMin = 150
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rep := fmt.Sprintf("rep-%d", g%4) // two goroutines per rep
			for b := 0; ; b++ {
				_, err := s.AppendFixes(context.Background(), "crash", dwell.RepID(rep), crashBatch(rep, round, g, b))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				// Only now is the batch acknowledged. One write call per
				// line, so the parent never sees half a line it could take
				// for an ack.
				mu.Lock()
				os.Stdout.WriteString(fmt.Sprintf("ACK %s %d %d %d\n", rep, round, g, b))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
