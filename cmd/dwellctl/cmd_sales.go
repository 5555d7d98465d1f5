package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// This file is the SalesService commands: appointments (planned visits),
// opportunities (deals) and quotas, the inputs of KPIs 3, 5, 9 and 10.

// --- Appointments ---

const appointmentsCreateHelp = `Plans a visit of the rep to the client. --start and --end are RFC 3339
instants (2026-11-27T09:00:00+07:00) or local "YYYY-MM-DD HH:MM" in the rep's
time zone (read from the directory), and an appointment lasts at most 24
hours.

The create is idempotent: its request id is, unless --request-id is given,
a digest of the id, rep, client, start and end, and ID defaults to one
derived from that digest. Running the same command again (after a timeout,
say) answers with the appointment already booked instead of booking it
twice. An appointment deleted since keeps its request id spent: book the
same slot again with a --request-id of your own.`

func appointmentsCreateCommand() command {
	return command{
		name:    "appointments create",
		args:    "[ID]",
		summary: "plan a visit: rep, client, planned start and end",
		help:    appointmentsCreateHelp,
		nargs:   -1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var rep, client, start, end, requestID string
			fs.StringVar(&rep, "rep", "", "the `rep`, ID or reps/ID (required)")
			fs.StringVar(&client, "client", "", "the `client`, ID or clients/ID (required)")
			fs.StringVar(&start, "start", "", "planned start: RFC 3339 or local \"YYYY-MM-DD HH:MM\" (required)")
			fs.StringVar(&end, "end", "", "planned end, as --start (required)")
			fs.StringVar(&requestID, "request-id", "", "idempotency `key` (default: a digest of the appointment)")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "appointments create"
				if len(args) > 1 {
					return e.usageError(name, "unexpected arguments: %s", strings.Join(args[1:], " "))
				}
				for _, f := range []struct{ flag, val string }{{"rep", rep}, {"client", client}, {"start", start}, {"end", end}} {
					if strings.TrimSpace(f.val) == "" {
						return e.usageError(name, "--%s is required", f.flag)
					}
				}
				for _, f := range []struct{ flag, val string }{{"start", start}, {"end", end}} {
					if _, _, err := parseWallOrInstant(f.val, time.UTC); err != nil {
						return e.usageError(name, "--%s: %v", f.flag, err)
					}
				}
				id := ""
				if len(args) == 1 {
					id = strings.TrimPrefix(args[0], "appointments/")
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				a := &dwellv1.Appointment{Rep: resourceName("reps", rep), Client: resourceName("clients", client)}
				loc := time.UTC
				if isLocalTime(start) || isLocalTime(end) {
					r, err := dwellv1.NewDirectoryServiceClient(conn).GetRep(rctx, &dwellv1.GetRepRequest{Name: a.Rep})
					if err != nil {
						fmt.Fprintf(e.stderr, "dwellctl %s: reading the rep's time zone for the local times:\n", name)
						return e.rpcError(name, g, err)
					}
					loc = repZone(r.GetRep().GetTimeZone())
				}
				st, _, _ := parseWallOrInstant(start, loc)
				en, _, _ := parseWallOrInstant(end, loc)
				a.PlannedStartTime, a.PlannedEndTime = timestamppb.New(st), timestamppb.New(en)
				digest := appointmentDigest(id, a)
				if id == "" {
					id = "appt-" + digest[:16]
				}
				if requestID == "" {
					requestID = "dwellctl-appt-" + digest
				}
				resp, err := dwellv1.NewSalesServiceClient(conn).CreateAppointment(rctx, &dwellv1.CreateAppointmentRequest{
					RequestId: requestID, AppointmentId: id, Appointment: a,
				})
				if err != nil {
					code := e.rpcError(name, g, err)
					if status.Code(err) == codes.FailedPrecondition {
						fmt.Fprintln(e.stderr, "hint: an appointment booked with this request id was deleted; give --request-id to book it again")
					}
					return code
				}
				return printAppointment(e, g, resp.GetAppointment())
			}
		},
	}
}

// appointmentDigest is the hex SHA-256 of what makes an appointment the
// same booking: its id (if given), rep, client and planned instants.
func appointmentDigest(id string, a *dwellv1.Appointment) string {
	h := sha256.Sum256([]byte(strings.Join([]string{id, a.GetRep(), a.GetClient(),
		a.GetPlannedStartTime().AsTime().UTC().Format(time.RFC3339Nano),
		a.GetPlannedEndTime().AsTime().UTC().Format(time.RFC3339Nano)}, "\x00")))
	return hex.EncodeToString(h[:])
}

func printAppointment(e *env, g *globals, a *dwellv1.Appointment) int {
	return printRecord(e, g, a, [][2]string{
		{"Name:", a.GetName()},
		{"Rep:", a.GetRep()},
		{"Client:", a.GetClient()},
		{"Planned start:", formatTime(a.GetPlannedStartTime())},
		{"Planned end:", formatTime(a.GetPlannedEndTime())},
		{"Created:", formatTime(a.GetCreateTime())},
	})
}

func appointmentsListCommand() command {
	return command{
		name:    "appointments list",
		summary: "list the appointments of a rep or a team over a range of days",
		help: `Lists the appointments planned to start within a range of the reps' local
days, by planned start.

` + rangeHelp,
		nargs: 0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var r rangeFlags
			var l listFlags
			r.register(fs, false)
			l.register(fs)
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "appointments list"
				from, to, reps, team, err := r.resolve(e.now(), false)
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				req := &dwellv1.ListAppointmentsRequest{Rep: first(reps), Team: team, StartDate: from, EndDate: to}
				return runList(ctx, e, g, name, &l,
					func(ctx context.Context, conn *grpc.ClientConn, size int32, token string) ([]*dwellv1.Appointment, string, error) {
						if token == "" { // the first page: read the range on the reps' calendar
							req.StartDate, req.EndDate = r.localDates(ctx, conn, e, name, reps, team, from, to)
						}
						req.PageSize, req.PageToken = size, token
						resp, err := dwellv1.NewSalesServiceClient(conn).ListAppointments(ctx, req)
						return resp.GetAppointments(), resp.GetNextPageToken(), err
					},
					func(_ context.Context, _ *grpc.ClientConn, as []*dwellv1.Appointment) {
						tw := newTable(e.stdout)
						row(tw, "NAME", "REP", "CLIENT", "PLANNED START", "PLANNED END")
						for _, a := range as {
							row(tw, a.GetName(), a.GetRep(), a.GetClient(), formatTime(a.GetPlannedStartTime()), formatTime(a.GetPlannedEndTime()))
						}
						tw.Flush()
					})
			}
		},
	}
}

// runList is the body of a list command: it dials, lists with fetch page
// by page as list does (every page with --all) and prints the items, as a
// JSON array with -o json, else with table, which may use the connection
// for look-ups.
func runList[T proto.Message](ctx context.Context, e *env, g *globals, name string, l *listFlags,
	fetch func(ctx context.Context, conn *grpc.ClientConn, size int32, token string) ([]T, string, error),
	table func(ctx context.Context, conn *grpc.ClientConn, items []T)) int {
	conn, err := g.dial()
	if err != nil {
		return e.fail(name, err)
	}
	defer conn.Close()
	items, err := list(ctx, e, g, l, func(ctx context.Context, size int32, token string) ([]T, string, error) {
		return fetch(ctx, conn, size, token)
	})
	if err != nil {
		return e.rpcError(name, g, err)
	}
	if g.json() {
		printProtos(e.stdout, items)
		return exitOK
	}
	rctx, cancel := g.rpcCtx(ctx)
	defer cancel()
	table(rctx, conn, items)
	return exitOK
}

// first is the first string of ss, or "".
func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

func appointmentsDeleteCommand() command {
	return deleteCommand("appointments delete", "ID", "appointments", "cancel an appointment (ID or appointments/ID)", dwellv1.NewSalesServiceClient,
		func(ctx context.Context, sc dwellv1.SalesServiceClient, n string) error {
			_, err := sc.DeleteAppointment(ctx, &dwellv1.DeleteAppointmentRequest{Name: n})
			return err
		})
}

// --- Opportunities ---

const opportunitiesImportHelp = `Reads the CSV file FILE ("-" for stdin) and stores its opportunities in
batches of up to 1,000 (UpsertOpportunities, one durable write a batch).
Each row creates the opportunity or replaces the one with the same id
whole; an id may appear once in the file (a repeat is reported with both
lines, as a malformed file). Rows the server rejects (a rep or client not in the directory, a won
deal without a close time) are listed with their line and field errors and
left out; the good rows are stored anyway, and the exit status is 1 if any
row failed. A malformed file is reported by line and nothing is sent.

CSV: a header row and the columns (any order)
  id, rep, client (ids, or reps/ID and clients/ID), stage (open, won or
  lost), currency (ISO 4217, such as IDR or EUR), amount (in major units:
  1500000 rupiah, 1234.50 euros), open_time, and optionally close_time
  (required for won and lost) and external_id.
Times are RFC 3339 instants, such as 2026-11-27T09:00:00+07:00.

Each batch goes under a request id of its own, so a batch the client
retries is stored once; running the command again replaces the same
opportunities with the same values.`

func opportunitiesImportCommand() command {
	return command{
		name:    "opportunities import",
		args:    "FILE",
		summary: "bulk-load opportunities (deals) from a CSV file",
		help:    opportunitiesImportHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				return salesImport(ctx, e, g, "opportunities import", args[0], "opportunities", parseOpportunitiesCSV,
					func(r opportunityRow) (source, string) { return r.Src, r.Opp.GetName() },
					func(ctx context.Context, sc dwellv1.SalesServiceClient, requestID string, batch []opportunityRow) (int32, error) {
						req := &dwellv1.UpsertOpportunitiesRequest{RequestId: requestID}
						for _, r := range batch {
							req.Opportunities = append(req.Opportunities, r.Opp)
						}
						resp, err := sc.UpsertOpportunities(ctx, req)
						return resp.GetStored(), err
					})
			}
		},
	}
}

// salesImport is an import command of a sales CSV file: it reads path
// with parse (a malformed file is reported by line and nothing is sent),
// stores the rows with upsertRows through send and prints the summary,
// naming each refused row by its line (of, with the row's name).
func salesImport[R any](ctx context.Context, e *env, g *globals, name, path, field string, parse func(io.Reader) ([]R, error),
	of func(R) (source, string), send func(ctx context.Context, sc dwellv1.SalesServiceClient, requestID string, batch []R) (int32, error)) int {
	rows, err := readInput(e, path, parse)
	if err != nil {
		return e.inputFailed(name, path, err)
	}
	if len(rows) == 0 {
		return e.fail(name, fmt.Errorf("%s has no %s; nothing was sent", displayPath(path), field))
	}
	conn, err := g.dial()
	if err != nil {
		return e.fail(name, err)
	}
	defer conn.Close()
	sc := dwellv1.NewSalesServiceClient(conn)
	stored, rowErrs, err := upsertRows(ctx, g, field, rows,
		func(r R) source { src, _ := of(r); return src },
		func(r R) string { _, n := of(r); return n },
		func(ctx context.Context, requestID string, batch []R) (int32, error) {
			return send(ctx, sc, requestID, batch)
		})
	if err != nil {
		code := e.rpcError(name, g, err)
		if stored > 0 {
			fmt.Fprintf(e.stderr, "%d of the %d rows were stored before the error; running the import again replaces them with the same values.\n", stored, len(rows))
		}
		return code
	}
	return printImportSummary(e, g, int64(len(rows)), stored, rowErrs, rowSource(rows, func(r R) source { src, _ := of(r); return src }))
}

// salesBatch is the most rows of one UpsertOpportunities or UpsertQuotas
// call.
const salesBatch = dwell.MaxSalesBatch

// rowViolation matches the field of a violation on one row of a batch,
// such as "opportunities[3].rep": the index and the field within the row.
var rowViolation = regexp.MustCompile(`^([a-z_]+)\[(\d+)\](?:\.(.*))?$`)

// batchRef matches a reference to a row of the batch in the description of
// a violation, such as "repeats opportunities[550]".
var batchRef = regexp.MustCompile(`\b([a-z_]+)\[(\d+)\]`)

// fileLines rewrites the references to rows of the batch (field[j]) in a
// violation's description to the rows' places in the file ("line 1552"):
// an index in a batch of 1,000 means nothing to the reader of the file.
func fileLines(desc, field string, idx []int, srcOf func(int) source) string {
	return batchRef.ReplaceAllStringFunc(desc, func(m string) string {
		sm := batchRef.FindStringSubmatch(m)
		j, err := strconv.Atoi(sm[2])
		if sm[1] != field || err != nil || j >= len(idx) {
			return m
		}
		return srcOf(idx[j]).String()
	})
}

// upsertRows stores rows in batches of at most salesBatch through send,
// each under a request id of its own, and returns how many were stored and
// the rows refused. The upserts are all or nothing per batch: a batch the
// server refuses because of some of its rows only (INVALID_ARGUMENT whose
// field violations all name "<field>[i]") is sent again without them, under
// a new request id, so that the good rows are stored and the bad ones
// reported by their index in rows, with any row of the batch their
// descriptions name rewritten to its place in the file (srcOf). Any other
// error ends the import and is returned; the batches stored before it stay
// stored.
func upsertRows[R any](ctx context.Context, g *globals, field string, rows []R, srcOf func(R) source, nameOf func(R) string,
	send func(ctx context.Context, requestID string, batch []R) (int32, error)) (int64, []*dwellv1.ImportRowError, error) {
	run := "dwellctl-" + rand.Text()
	var stored int64
	var rowErrs []*dwellv1.ImportRowError
	for b := 0; b*salesBatch < len(rows); b++ {
		// idx are the indexes in rows of the batch's rows still to send.
		var idx []int
		for i := b * salesBatch; i < min((b+1)*salesBatch, len(rows)); i++ {
			idx = append(idx, i)
		}
		for try := 0; len(idx) > 0; try++ {
			batch := make([]R, len(idx))
			for j, i := range idx {
				batch[j] = rows[i]
			}
			rctx, cancel := g.rpcCtx(ctx)
			n, err := send(rctx, fmt.Sprintf("%s-%d-%d", run, b, try), batch)
			cancel()
			if err == nil {
				stored += int64(n)
				break
			}
			bad := badRows(err, field, len(idx))
			if bad == nil {
				return stored, rowErrs, err
			}
			var keep []int
			for j, i := range idx {
				fes, ok := bad[j]
				if !ok {
					keep = append(keep, i)
					continue
				}
				for _, fe := range fes {
					fe.Description = fileLines(fe.GetDescription(), field, idx, func(i int) source { return srcOf(rows[i]) })
				}
				rowErrs = append(rowErrs, &dwellv1.ImportRowError{Row: int64(i), Name: nameOf(rows[i]), FieldErrors: fes})
			}
			idx = keep
		}
	}
	slices.SortFunc(rowErrs, func(a, b *dwellv1.ImportRowError) int { return cmp.Compare(a.GetRow(), b.GetRow()) })
	return stored, rowErrs, nil
}

// badRows returns the field errors of each row of a batch of n that err
// refuses, by index in the batch, when err is INVALID_ARGUMENT with field
// violations that all name a row of field; else nil.
func badRows(err error, field string, n int) map[int][]*dwellv1.FieldError {
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument {
		return nil
	}
	bad := map[int][]*dwellv1.FieldError{}
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		for _, v := range br.GetFieldViolations() {
			m := rowViolation.FindStringSubmatch(v.GetField())
			if m == nil || m[1] != field {
				return nil
			}
			i, err := strconv.Atoi(m[2])
			if err != nil || i >= n {
				return nil
			}
			bad[i] = append(bad[i], &dwellv1.FieldError{Field: m[3], Description: v.GetDescription()})
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return bad
}

func opportunitiesListCommand() command {
	return command{
		name:    "opportunities list",
		summary: "list opportunities, of a rep, a team or a client, or all",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var l listFlags
			var rep, team, client string
			l.register(fs)
			fs.StringVar(&rep, "rep", "", "only this `rep`'s, ID or reps/ID")
			fs.StringVar(&team, "team", "", "only this `team`'s, ID or teams/ID")
			fs.StringVar(&client, "client", "", "only this `client`'s, ID or clients/ID")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "opportunities list"
				if rep != "" && team != "" {
					return e.usageError(name, "give --rep or --team, not both")
				}
				req := &dwellv1.ListOpportunitiesRequest{}
				if rep != "" {
					req.Rep = resourceName("reps", rep)
				}
				if team != "" {
					req.Team = resourceName("teams", team)
				}
				if client != "" {
					req.Client = resourceName("clients", client)
				}
				return runList(ctx, e, g, name, &l,
					func(ctx context.Context, conn *grpc.ClientConn, size int32, token string) ([]*dwellv1.Opportunity, string, error) {
						req.PageSize, req.PageToken = size, token
						resp, err := dwellv1.NewSalesServiceClient(conn).ListOpportunities(ctx, req)
						return resp.GetOpportunities(), resp.GetNextPageToken(), err
					},
					func(_ context.Context, _ *grpc.ClientConn, os []*dwellv1.Opportunity) {
						tw := newTable(e.stdout)
						row(tw, "NAME", "REP", "CLIENT", "STAGE", "AMOUNT", "OPENED", "CLOSED", "ETAG")
						for _, o := range os {
							row(tw, o.GetName(), o.GetRep(), o.GetClient(), stageName(o.GetStage()), formatMoney(o.GetAmount()),
								formatTime(o.GetOpenTime()), formatTime(o.GetCloseTime()), o.GetEtag())
						}
						tw.Flush()
					})
			}
		},
	}
}

func printOpportunity(e *env, g *globals, o *dwellv1.Opportunity) int {
	return printRecord(e, g, o, [][2]string{
		{"Name:", o.GetName()},
		{"Rep:", o.GetRep()},
		{"Client:", o.GetClient()},
		{"Stage:", stageName(o.GetStage())},
		{"Amount:", formatMoney(o.GetAmount())},
		{"Opened:", formatTime(o.GetOpenTime())},
		{"Closed:", formatTime(o.GetCloseTime())},
		{"External id:", orDash(o.GetExternalId())},
		{"Etag:", o.GetEtag()},
	})
}

func opportunitiesGetCommand() command {
	return command{
		name:    "opportunities get",
		args:    "ID",
		summary: "show one opportunity and its etag (ID or opportunities/ID)",
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				return callService(ctx, e, g, "opportunities get", dwellv1.NewSalesServiceClient,
					func(ctx context.Context, sc dwellv1.SalesServiceClient) (*dwellv1.Opportunity, error) {
						resp, err := sc.GetOpportunity(ctx, &dwellv1.GetOpportunityRequest{Name: resourceName("opportunities", args[0])})
						return resp.GetOpportunity(), err
					}, nil, printOpportunity)
			}
		},
	}
}

const opportunitiesUpdateHelp = `Changes only the fields whose flags are given: --stage, --amount,
--close-time, --external-id (an empty --close-time or --external-id clears
it). Closing a deal takes both: --stage won --close-time 2026-11-27T15:00:00Z.

With --etag (from "opportunities get"), the change applies only if nobody
has written the opportunity since that etag was read; otherwise nothing
changes and the exit status is 1: read it again and reapply the change.`

func opportunitiesUpdateCommand() command {
	return command{
		name:    "opportunities update",
		args:    "ID",
		summary: "change an opportunity's stage, amount, close time or external id",
		help:    opportunitiesUpdateHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var stage, amount, closeTime, externalID, etag string
			fs.StringVar(&stage, "stage", "", "new `stage`: open, won or lost")
			fs.StringVar(&amount, "amount", "", "new `amount`, currency and major units, such as \"EUR 1234.50\"")
			fs.StringVar(&closeTime, "close-time", "", "when it was closed, RFC 3339 (`instant`; empty clears it)")
			fs.StringVar(&externalID, "external-id", "", "the CRM's `id` of the deal")
			fs.StringVar(&etag, "etag", "", "change it only if it is still as this `etag` saw it")
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "opportunities update"
				o := &dwellv1.Opportunity{Name: resourceName("opportunities", args[0]), ExternalId: externalID, Etag: etag}
				var paths []string
				var usage string
				fs.Visit(func(f *flag.Flag) {
					var err error
					switch f.Name {
					case "stage":
						o.Stage, err = parseStage(stage)
						paths = append(paths, "stage")
					case "amount":
						o.Amount, err = parseMoneyFlag(amount)
						paths = append(paths, "amount")
					case "close-time":
						o.CloseTime, err = parseInstant(closeTime)
						paths = append(paths, "close_time")
					case "external-id":
						paths = append(paths, "external_id")
					}
					if err != nil && usage == "" {
						usage = fmt.Sprintf("--%s: %v", f.Name, err)
					}
				})
				if usage != "" {
					return e.usageError(name, "%s", usage)
				}
				if len(paths) == 0 {
					return e.usageError(name, "nothing to change: give --stage, --amount, --close-time or --external-id")
				}
				return callService(ctx, e, g, name, dwellv1.NewSalesServiceClient,
					func(ctx context.Context, sc dwellv1.SalesServiceClient) (*dwellv1.Opportunity, error) {
						resp, err := sc.UpdateOpportunity(ctx, &dwellv1.UpdateOpportunityRequest{
							Opportunity: o, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths},
						})
						return resp.GetOpportunity(), err
					},
					func(err error) int {
						if status.Code(err) == codes.Aborted && etag != "" {
							fmt.Fprintf(e.stderr, "dwellctl %s: %s was changed by someone else after etag %s was read; nothing was changed.\n", name, o.GetName(), etag)
							fmt.Fprintf(e.stderr, "Run \"dwellctl opportunities get %s\" for its current values and etag, and apply your change again.\n", args[0])
							return exitFail
						}
						return e.rpcError(name, g, err)
					}, printOpportunity)
			}
		},
	}
}

// --- Quotas ---

const quotasImportHelp = `Reads the CSV file FILE ("-" for stdin) and stores its quotas in batches of
up to 1,000 (UpsertQuotas). A quota is identified by its rep and first day:
a row replaces the quota of that rep starting that day, and a rep and
first day may appear once in the file (a repeat is reported with both
lines, as a malformed file). A rep's quotas may
not overlap: a row whose period shares a day with another quota of its rep
(stored, or an earlier row of the batch) is rejected, naming that quota;
remove it first with "dwellctl quotas delete". Rows the server
rejects are listed with their line and field errors and left out; the good
rows are stored anyway, and the exit status is 1 if any row failed. A
malformed file is reported by line and nothing is sent.

CSV: a header row and the columns (any order)
  rep (an id or reps/ID), start_date and end_date (YYYY-MM-DD, the rep's
  local days, inclusive, at most 367 days), currency (ISO 4217) and target
  (or amount; in major units: 1500000 rupiah, 1234.50 euros).`

func quotasImportCommand() command {
	return command{
		name:    "quotas import",
		args:    "FILE",
		summary: "bulk-load reps' quotas from a CSV file",
		help:    quotasImportHelp,
		nargs:   1,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				return salesImport(ctx, e, g, "quotas import", args[0], "quotas", parseQuotasCSV,
					func(r quotaRow) (source, string) {
						return r.Src, r.Quota.GetRep() + " from " + formatDate(r.Quota.GetStartDate())
					},
					func(ctx context.Context, sc dwellv1.SalesServiceClient, requestID string, batch []quotaRow) (int32, error) {
						req := &dwellv1.UpsertQuotasRequest{RequestId: requestID}
						for _, r := range batch {
							req.Quotas = append(req.Quotas, r.Quota)
						}
						resp, err := sc.UpsertQuotas(ctx, req)
						return resp.GetStored(), err
					})
			}
		},
	}
}

func quotasDeleteCommand() command {
	return command{
		name:    "quotas delete",
		args:    "REP START_DATE",
		summary: "remove the quota of a rep (ID or reps/ID) that starts on START_DATE (YYYY-MM-DD)",
		help: `START_DATE is the quota's first local day: YYYY-MM-DD, "today" or
"yesterday", which are the rep's days, on the calendar of its time zone.
When the rep cannot be read they are this computer's days, and the day
used is printed on stderr.`,
		nargs: 2,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			return func(ctx context.Context, e *env, g *globals, args []string) int {
				const name = "quotas delete"
				start, err := parseDate(args[1], e.now())
				if err != nil {
					return e.usageError(name, "%v", err)
				}
				conn, rctx, done, err := g.connect(ctx)
				if err != nil {
					return e.fail(name, err)
				}
				defer done()
				rep := resourceName("reps", args[0])
				// Quotas are in the rep's days: today is the rep's today.
				start = repDate(rctx, conn, e, name, rep, args[1], start)
				if _, err := dwellv1.NewSalesServiceClient(conn).DeleteQuota(rctx, &dwellv1.DeleteQuotaRequest{Rep: rep, StartDate: start}); err != nil {
					return e.rpcError(name, g, err)
				}
				if g.json() {
					printJSON(e.stdout, map[string]any{"rep": rep, "start_date": formatDate(start), "deleted": true})
					return exitOK
				}
				fmt.Fprintf(e.stdout, "Deleted the quota of %s from %s\n", rep, formatDate(start))
				return exitOK
			}
		},
	}
}

func quotasListCommand() command {
	return command{
		name:    "quotas list",
		summary: "list the quotas of a rep or a team",
		nargs:   0,
		flags: func(fs *flag.FlagSet) func(context.Context, *env, *globals, []string) int {
			var l listFlags
			var rep, team string
			l.register(fs)
			fs.StringVar(&rep, "rep", "", "the `rep`, ID or reps/ID")
			fs.StringVar(&team, "team", "", "the `team`, ID or teams/ID (instead of --rep)")
			return func(ctx context.Context, e *env, g *globals, _ []string) int {
				const name = "quotas list"
				req := &dwellv1.ListQuotasRequest{}
				switch {
				case rep != "" && team != "":
					return e.usageError(name, "give --rep or --team, not both")
				case rep != "":
					req.Rep = resourceName("reps", rep)
				case team != "":
					req.Team = resourceName("teams", team)
				}
				return runList(ctx, e, g, name, &l,
					func(ctx context.Context, conn *grpc.ClientConn, size int32, token string) ([]*dwellv1.Quota, string, error) {
						req.PageSize, req.PageToken = size, token
						resp, err := dwellv1.NewSalesServiceClient(conn).ListQuotas(ctx, req)
						return resp.GetQuotas(), resp.GetNextPageToken(), err
					},
					func(_ context.Context, _ *grpc.ClientConn, qs []*dwellv1.Quota) {
						tw := newTable(e.stdout)
						row(tw, "REP", "FROM", "TO", "TARGET")
						for _, q := range qs {
							row(tw, q.GetRep(), formatDate(q.GetStartDate()), formatDate(q.GetEndDate()), formatMoney(q.GetTarget()))
						}
						tw.Flush()
					})
			}
		},
	}
}
