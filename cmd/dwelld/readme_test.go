package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/dwellhq/dwell/pkg/auth"
	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server/daemon"
)

// readmeCommand is one grpcurl command of a sh block of README.md: its
// shell text (continuation lines included) and the text of its trailing
// comment, which names what the answer holds.
type readmeCommand struct {
	line  int
	shell string
	says  string
}

// grpcurlCommands returns the grpcurl commands of the ```sh blocks of the
// markdown md. A command runs from a line starting with "grpcurl" to the
// first line that ends outside quotes without a backslash.
func grpcurlCommands(md string) []readmeCommand {
	var out []readmeCommand
	inSh := false
	var cur *readmeCommand
	var single, double bool
	for i, line := range strings.Split(md, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			inSh = line == "```sh"
			continue
		case cur == nil && (!inSh || !strings.HasPrefix(line, "grpcurl ")):
			continue
		case cur == nil:
			cur = &readmeCommand{line: i + 1}
		default:
			cur.shell += "\n"
		}
		// Scan the line for quotes and a trailing comment.
		code := line
		for j := 0; j < len(line); j++ {
			switch c := line[j]; {
			case single:
				single = c != '\''
			case c == '\\':
				j++
			case c == '"':
				double = !double
			case double:
			case c == '\'':
				single = true
			case c == '#' && (j == 0 || line[j-1] == ' '):
				code, cur.says = line[:j], strings.TrimSpace(line[j+1:])
				j = len(line)
			}
		}
		cur.shell += code
		if !single && !double && !strings.HasSuffix(strings.TrimSpace(code), "\\") {
			out = append(out, *cur)
			cur = nil
		}
	}
	return out
}

// grpcurlArgs has bash expand the command as the README's reader's shell
// would (date substitutions, quotes, the variables of env) and returns
// grpcurl's arguments.
func grpcurlArgs(t *testing.T, shell string, env []string) []string {
	t.Helper()
	cmd := exec.Command("bash", "-c", `grpcurl() { printf '%s\0' "$@"; }`+"\n"+shell)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash on %q: %v\n%s", shell, err, stderr.String())
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// TestReadmeGrpcurl replays, against a dwelld set up as the README's
// quickstart sets it up (rep budi in Asia/Jakarta, the quickstart's
// clients), every grpcurl command of README.md's sh blocks, expanded by
// bash as the reader's shell would: each must succeed, and answer what its
// trailing comment says (CheckIn: VERIFICATION_VERIFIED). So the README's
// examples cannot drift from what the server accepts.
func TestReadmeGrpcurl(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := grpcurlCommands(string(readme))

	dir := t.TempDir()
	m, _ := startMain(t, dir)
	conn := dial(t, m.Addr())
	admin := adminCtx(t, dir)
	dc := dwellv1.NewDirectoryServiceClient(conn)
	if _, err := dc.CreateRep(admin, &dwellv1.CreateRepRequest{RepId: "budi", Rep: &dwellv1.Rep{DisplayName: "Budi Santoso", TimeZone: "Asia/Jakarta"}}); err != nil {
		t.Fatal(err)
	}
	createQuickstartClients(t, dc, admin)
	kr, err := auth.OpenKeyring(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	mint := func(p dwell.Principal) string {
		tok, err := kr.Mint(p, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	env := []string{
		"DWELL_TOKEN=" + mint(dwell.Principal{Tenant: daemon.DefaultTenant, Subject: "admin", Role: dwell.RoleAdmin}),
		"REP=" + mint(dwell.Principal{Tenant: daemon.DefaultTenant, Subject: "budi", Role: dwell.RoleRep}),
	}

	var called []string
	for _, c := range cmds {
		args := grpcurlArgs(t, c.shell, env)
		var header, body string
		var pos []string
		for k := 0; k < len(args); k++ {
			switch args[k] {
			case "-plaintext":
			case "-H":
				k++
				header = args[k]
			case "-d":
				k++
				body = args[k]
			default:
				pos = append(pos, args[k])
			}
		}
		if len(pos) != 2 || pos[0] != "127.0.0.1:7070" {
			t.Fatalf("README.md:%d: grpcurl %q: want the address 127.0.0.1:7070 and a method or list", c.line, args)
		}
		called = append(called, pos[1])
		ctx := t.Context()
		if name, value, ok := strings.Cut(header, ": "); ok {
			ctx = metadata.AppendToOutgoingContext(ctx, name, value)
		}
		var answer string
		if pos[1] == "list" {
			answer = reflectionList(t, conn)
		} else {
			answer = invokeJSON(t, conn, ctx, c.line, pos[1], body)
		}
		if !strings.Contains(answer, c.says) {
			t.Errorf("README.md:%d: %s answered %s, want it to say %s", c.line, pos[1], answer, c.says)
		}
	}
	for _, want := range []string{"list", "grpc.health.v1.Health/Check", "dwell.v1.DirectoryService/ListClients",
		"dwell.v1.ReportService/GetRepDay", "dwell.v1.IngestService/UploadPings", "dwell.v1.IngestService/CheckIn"} {
		if !slices.Contains(called, want) {
			t.Errorf("README.md's grpcurl commands found: %v; missing %s", called, want)
		}
	}
}

// createQuickstartClients creates the circle clients of the quickstart's
// testdata/quickstart/clients.csv whose radius the server accepts, as
// dwellctl clients import does.
func createQuickstartClients(t *testing.T, dc dwellv1.DirectoryServiceClient, ctx context.Context) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "quickstart", "clients.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	num := func(s string) float64 {
		v, _ := strconv.ParseFloat(s, 64)
		return v
	}
	created := 0
	for _, r := range rows[1:] { // id,display_name,kind,lat,lng,radius_m,address,wkt
		if r[5] == "" || num(r[5]) < dwell.MinRadiusM {
			continue
		}
		kind := dwellv1.ClientKind_CLIENT_KIND_PROSPECT
		if r[2] == "customer" {
			kind = dwellv1.ClientKind_CLIENT_KIND_CUSTOMER
		}
		c := &dwellv1.Client{DisplayName: r[1], Kind: kind, Address: r[6], Geofence: &dwellv1.Geofence{Shape: &dwellv1.Geofence_Circle{Circle: &dwellv1.Circle{
			Center: &dwellv1.LatLng{Lat: num(r[3]), Lng: num(r[4])}, RadiusMeters: num(r[5])}}}}
		if _, err := dc.CreateClient(ctx, &dwellv1.CreateClientRequest{ClientId: r[0], Client: c}); err != nil {
			t.Fatalf("client %s: %v", r[0], err)
		}
		created++
	}
	if created == 0 {
		t.Fatal("the quickstart's clients.csv gave no client")
	}
}

// invokeJSON calls the unary method ("package.Service/Method") on conn
// with the JSON request body, as grpcurl does (an empty body is an empty
// request), and returns the answer as JSON.
func invokeJSON(t *testing.T, conn *grpc.ClientConn, ctx context.Context, line int, method, body string) string {
	t.Helper()
	svc, name, _ := strings.Cut(method, "/")
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc + "." + name))
	if err != nil {
		t.Fatalf("README.md:%d: method %s: %v", line, method, err)
	}
	md, ok := d.(protoreflect.MethodDescriptor)
	if !ok || md.IsStreamingClient() || md.IsStreamingServer() {
		t.Fatalf("README.md:%d: %s is not a unary method", line, method)
	}
	in, out := dynamicpb.NewMessage(md.Input()), dynamicpb.NewMessage(md.Output())
	if body != "" {
		if err := protojson.Unmarshal([]byte(body), in); err != nil {
			t.Fatalf("README.md:%d: %s request %s: %v", line, method, body, err)
		}
	}
	if err := conn.Invoke(ctx, "/"+method, in, out); err != nil {
		t.Fatalf("README.md:%d: %s: %v", line, method, err)
	}
	b, err := protojson.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// reflectionList returns the services server reflection lists, as grpcurl
// list prints them.
func reflectionList(t *testing.T, conn *grpc.ClientConn) string {
	t.Helper()
	st, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: "*"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := st.Recv()
	if err != nil {
		t.Fatalf("grpcurl list: %v", err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if !slices.Contains(names, "dwell.v1.IngestService") {
		t.Fatalf("grpcurl list: %v, want dwell.v1.IngestService among them", names)
	}
	return strings.Join(names, "\n")
}
