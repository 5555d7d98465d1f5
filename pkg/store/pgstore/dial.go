package pgstore

import (
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// A connection to the database whose path died without a FIN or an RST (a
// partition, a database host gone in a failover) would otherwise hold a
// call for as long as the operating system takes to give up: about 15
// minutes of retransmissions for a query sent and never acknowledged, and
// a caller without a deadline (a phone's upload) would wait all that time.
// So the store's connections bound it: TCP keepalive probes an idle
// connection after dialKeepalive.Idle of silence, every
// dialKeepalive.Interval, and gives it up after dialKeepalive.Count
// probes unanswered; on Linux, TCP_USER_TIMEOUT gives up a connection
// whose sent data is not acknowledged within dialUserTimeout. A call on
// such a connection then fails as dwell.Unavailable (dbError), which the
// phone retries, and the pool opens a new one. A query that runs long is
// not affected: the peer's kernel acknowledges the probes and the data.
var dialKeepalive = net.KeepAliveConfig{
	Enable:   true,
	Idle:     10 * time.Second,
	Interval: 3 * time.Second,
	Count:    3,
}

// dialUserTimeout is how long a connection's sent data may go
// unacknowledged before the connection is given up (Linux only).
const dialUserTimeout = 20 * time.Second

// poolPingTimeout is how long the pool waits for an idle connection it
// hands out to answer its liveness ping before it drops it and takes
// another: a connection cut off while idle costs a call seconds, not the
// dialUserTimeout.
const poolPingTimeout = 5 * time.Second

// boundDial makes cfg dial TCP with the bounds above, keeping its connect
// timeout (connect_timeout in the connection string).
func boundDial(cfg *pgconn.Config) {
	d := &net.Dialer{
		Timeout:         cfg.ConnectTimeout,
		KeepAliveConfig: dialKeepalive,
		Control:         setUserTimeout,
	}
	cfg.DialFunc = d.DialContext
}
