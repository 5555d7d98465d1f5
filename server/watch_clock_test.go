package server_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// TestWatchTokenClockStepsBack: the server's clock steps back an hour while a
// stream is open with a token 2 s from expiry. On the server's clock the
// token is valid for another hour (a call with it succeeds), so the stream
// goes on when its timer, armed with the duration left at the start, fires:
// it ends only once the server's clock reaches the token's end.
func TestWatchTokenClockStepsBack(t *testing.T) {
	e := newWatchEnv(t, true, func(c *server.Config) { c.RefreshWorkers = -1 })
	seedWatchTeams(e, acme)
	tokCtx := e.caller(context.Background(), acme, dwell.RoleAdmin, "admin") // 1 h token
	e.advance(time.Hour + 30*time.Second - 2*time.Second)                    // 2 s left
	st, _ := openWatch(t, e.report, tokCtx, &dwellv1.WatchEventsRequest{})
	e.advance(-time.Hour) // NTP steps the clock back: the token has 1 h 2 s left
	time.Sleep(3 * time.Second)
	if _, err := e.dirc.GetSettings(tokCtx, &dwellv1.GetSettingsRequest{}); err != nil {
		t.Fatalf("a call with the token after the step: %v", err)
	}
	got := make(chan error, 1)
	go func() { _, err := st.Recv(); got <- err }()
	select {
	case err := <-got:
		t.Fatalf("the stream ended %v (%q) while the server's clock still accepts its token for an hour",
			status.Code(err), status.Convert(err).Message())
	case <-time.After(time.Second):
	}
}
