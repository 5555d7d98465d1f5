// Command dwelld is the Dwell server: the dwell.v1 gRPC API over one
// embedded bbolt file in its data directory.
//
// Usage:
//
//	dwelld [--listen 127.0.0.1:7070] [--data-dir ./dwell-data | --postgres URL]
//	       [--tls-cert cert.pem --tls-key key.pem] [--metrics-listen ADDR]
//	       [--log-level info] [--log-format text] [--drain-timeout 10s]
//
// Every flag can also be set from the environment (DWELL_LISTEN,
// DWELL_DATA_DIR, DWELL_POSTGRES, DWELL_LOG_LEVEL, DWELL_LOG_FORMAT,
// DWELL_DRAIN_TIMEOUT, DWELL_TLS_CERT, DWELL_TLS_KEY,
// DWELL_METRICS_LISTEN); a flag wins over the environment. With a
// certificate and key dwelld serves TLS (and reloads them when either
// file changes); without, plaintext, which is meant for
// loopback: on any other address dwelld warns that tokens and locations
// cross the network in the clear. On first start dwelld creates the
// default tenant and its signing key and prints the dwellctl command that
// mints an admin token. SIGINT or SIGTERM drains in-flight calls for at most
// the drain timeout, then stops.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // zone rules even on hosts without zoneinfo

	"github.com/dwellhq/dwell/server/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := daemon.NewMain()
	if err := m.ParseFlags(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "dwelld:", err)
		os.Exit(2)
	}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dwelld:", err)
		_ = m.Close()
		os.Exit(1)
	}
	<-ctx.Done()
	stop()
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "dwelld:", err)
		os.Exit(1)
	}
}
