package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// sessionBounds is when PostgreSQL ends the session of one of the store's
// own connections (a lease holder's, the change listener's) whose process
// is gone or cut off. PostgreSQL would otherwise keep such a session, and
// what it holds (an advisory lock, a backend slot), until the operating
// system's TCP keepalive gives up: two hours and more by default.
type sessionBounds struct {
	// keepaliveIdle, keepaliveInterval and keepaliveCount end a TCP
	// session whose peer does not answer keepaliveCount probes sent
	// keepaliveInterval apart after keepaliveIdle of silence
	// (tcp_keepalives_*; whole seconds).
	keepaliveIdle, keepaliveInterval time.Duration
	keepaliveCount                   int
	// userTimeout ends a TCP session whose peer does not acknowledge what
	// was sent within it (tcp_user_timeout).
	userTimeout time.Duration
	// idle ends the session after that long without a query, on a Unix
	// socket as on TCP (idle_session_timeout, PostgreSQL 14 and later;
	// PostgreSQL 13 has only the TCP bounds, and over a Unix socket none).
	idle time.Duration
}

// sessionBoundsSQL sets the bounds of sessionBounds on the session it runs
// in, for that session only.
const sessionBoundsSQL = `
SELECT set_config('tcp_keepalives_idle', $1::text, false),
	set_config('tcp_keepalives_interval', $2::text, false),
	set_config('tcp_keepalives_count', $3::text, false),
	set_config('tcp_user_timeout', $4::text, false),
	CASE WHEN current_setting('server_version_num')::int >= 140000
		THEN set_config('idle_session_timeout', $5::text, false) END`

// bound sets b on conn's session.
func (b sessionBounds) bound(ctx context.Context, conn *pgx.Conn) error {
	secs := func(d time.Duration) string { return fmt.Sprint(int64(d / time.Second)) }
	ms := func(d time.Duration) string { return fmt.Sprint(d.Milliseconds()) }
	if _, err := conn.Exec(ctx, sessionBoundsSQL, secs(b.keepaliveIdle), secs(b.keepaliveInterval),
		fmt.Sprint(b.keepaliveCount), ms(b.userTimeout), ms(b.idle)); err != nil {
		return fmt.Errorf("set session timeouts: %w", err)
	}
	return nil
}
