package main

import (
	"context"
	"fmt"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// checkHealth calls grpc.health.v1.Health/Check, which needs no token.
func checkHealth(ctx context.Context, e *env, g *globals, service string) int {
	const name = "health"
	conn, rctx, done, err := g.connect(ctx)
	if err != nil {
		return e.fail(name, err)
	}
	defer done()
	resp, err := healthpb.NewHealthClient(conn).Check(rctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return e.rpcError(name, g, err)
	}
	st := resp.GetStatus().String()
	if g.json() {
		printJSON(e.stdout, map[string]string{"status": st})
	} else {
		fmt.Fprintln(e.stdout, st)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return exitFail
	}
	return exitOK
}
