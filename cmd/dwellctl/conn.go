package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// bearer is a per-RPC credential sending "authorization: Bearer <token>".
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: dwelld serves plaintext gRPC on
// loopback by default, and the token must go with it; --tls or --ca dial
// a dwelld that serves TLS.
func (bearer) RequireTransportSecurity() bool { return false }

// dial returns a connection to g.addr, over TLS with --tls or --ca, with
// the extra options. It does not connect yet: the first RPC does, and
// reports an unreachable server (or a certificate it does not trust) as
// UNAVAILABLE.
func (g *globals) dial(extra ...grpc.DialOption) (*grpc.ClientConn, error) {
	creds := insecure.NewCredentials()
	if g.tls {
		creds = credentials.NewTLS(&tls.Config{RootCAs: g.roots, MinVersion: tls.VersionTLS12})
	}
	opts := append([]grpc.DialOption{grpc.WithTransportCredentials(creds)}, extra...)
	if g.token != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(g.token)))
	}
	conn, err := grpc.NewClient(g.addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("address %q: %v", g.addr, err)
	}
	return conn, nil
}

// connect dials the server and returns the connection, the context of one
// RPC (with the --timeout deadline) and a func that releases both: the
// opening of every single-call command.
func (g *globals) connect(ctx context.Context) (*grpc.ClientConn, context.Context, func(), error) {
	conn, err := g.dial()
	if err != nil {
		return nil, nil, nil, err
	}
	rctx, cancel := g.rpcCtx(ctx)
	return conn, rctx, func() { cancel(); conn.Close() }, nil
}

// rpcCtx returns the context of one RPC, with the --timeout deadline.
func (g *globals) rpcCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if g.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, g.timeout)
}

// codeName returns the canonical name of a gRPC code, such as
// "INVALID_ARGUMENT".
func codeName(c codes.Code) string { return code.Code(c).String() }

// rpcError prints a failed call on stderr: the status code and message,
// every field violation of a google.rpc.BadRequest detail and the other
// details, and a hint for the common mistakes. It returns exitFail.
func (e *env) rpcError(name string, g *globals, err error) int {
	st, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) {
			st = status.New(codes.DeadlineExceeded, err.Error())
		} else if errors.Is(err, context.Canceled) {
			st = status.New(codes.Canceled, err.Error())
		}
	}
	w := e.stderr
	fmt.Fprintf(w, "dwellctl %s: %s: %s\n", name, codeName(st.Code()), st.Message())
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(w, "  %s: %s\n", v.GetField(), v.GetDescription())
			}
		case *errdetails.ErrorInfo:
			fmt.Fprintf(w, "  reason: %s", d.GetReason())
			if d.GetDomain() != "" {
				fmt.Fprintf(w, " (%s)", d.GetDomain())
			}
			fmt.Fprintln(w)
		case *errdetails.RetryInfo:
			fmt.Fprintf(w, "  retry after %v\n", d.GetRetryDelay().AsDuration())
		case proto.Message:
			b, _ := protojson.Marshal(d)
			fmt.Fprintf(w, "  %s\n", b)
		case error:
			fmt.Fprintf(w, "  (undecodable detail: %v)\n", d)
		}
	}
	switch st.Code() {
	case codes.Unauthenticated:
		if g.token == "" {
			fmt.Fprintln(w, "hint: no token given: set DWELL_TOKEN or --token (mint one with \"dwellctl token mint\")")
		}
	case codes.Unavailable:
		if h := unavailableHint(st.Message(), g.addr, g.tls); h != "" {
			fmt.Fprintln(w, h)
		}
	case codes.DeadlineExceeded:
		fmt.Fprintf(w, "hint: the call took longer than --timeout %v\n", g.timeout)
	}
	return exitFail
}

// unavailableHint returns the hint for a call that failed UNAVAILABLE with
// msg, from a dwellctl dialing addr (with TLS when tls is set), or "" when
// msg says nothing it can help with. Each hint names what the connection
// showed: no server, no host by that name, or no way to reach it (is
// dwelld running?); a
// server that closed the connection before speaking gRPC, as a dwelld
// serving TLS does to a plaintext client (--tls, --ca); a certificate not
// trusted (--ca); a server answering TLS with plaintext (drop --tls).
func unavailableHint(msg, addr string, tls bool) string {
	switch {
	case strings.Contains(msg, "x509:"):
		return "hint: dwellctl does not trust dwelld's certificate: give --ca FILE with that certificate, or with its CA's for a private CA (env DWELL_CA)"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return fmt.Sprintf("hint: %s answers without TLS: leave out --tls and --ca (and DWELL_TLS, DWELL_CA)", addr)
	case strings.Contains(msg, "error reading server preface") && !tls:
		return fmt.Sprintf("hint: %s closed the connection before answering, as a dwelld serving TLS does to a plaintext client: add --tls, or --ca FILE for a self-signed or private CA certificate", addr)
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"), strings.Contains(msg, "produced zero addresses"),
		// Any other failure to reach the address (no route, network
		// unreachable, a connect timeout, a DNS failure).
		strings.Contains(msg, "dial"), strings.Contains(msg, "connect:"), strings.Contains(msg, "lookup "):
		return fmt.Sprintf("hint: is dwelld running at %s? (--addr or DWELL_ADDR)", addr)
	}
	return ""
}
