package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dwellhq/dwell/pkg/dwell"
	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
	"github.com/dwellhq/dwell/server"
)

// BenchmarkMaskedUpdate measures masked updates (UpdateTeam of one field)
// on two servers sharing one PostgreSQL schema, per acknowledged update:
// one writer on server A (the baseline), a writer on each server each
// updating its own team (no conflict), and a writer on each server
// updating other fields of one team (their conditional writes conflict,
// and the loser reads again and retries). An update that keeps losing is
// ABORTED after 10 tries (aborted/op says how often; ns/op counts it).
func BenchmarkMaskedUpdate(b *testing.B) {
	p := newPair(b, func(c *server.Config) { c.RefreshWorkers = -1 })
	ctx := context.Background()
	sides := [2]*env{p.a, p.b}
	var admins [2]context.Context
	for i, e := range sides {
		admins[i] = e.caller(ctx, acme, dwell.RoleAdmin, "admin")
	}
	p.a.mustCreateTeam(admins[0], "north", "m0")
	p.a.mustCreateTeam(admins[0], "south", "m0")
	update := func(side int, team, field string, n int) error {
		t := &dwellv1.Team{Name: "teams/" + team}
		if field == "managers" {
			t.Managers = []string{fmt.Sprint("m", n)}
		} else {
			t.DisplayName = fmt.Sprint("Team ", n)
		}
		_, err := sides[side].dirc.UpdateTeam(admins[side], &dwellv1.UpdateTeamRequest{Team: t, UpdateMask: mask(field)})
		return err
	}
	// race runs b.N updates, half by each side, side i updating field
	// fields[i] of team teams[i].
	race := func(b *testing.B, teams, fields [2]string) {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		aborted := make([]int, 2)
		b.ResetTimer()
		for side := range 2 {
			wg.Go(func() {
				for n := side; n < b.N; n += 2 {
					err := update(side, teams[side], fields[side], n)
					switch {
					case status.Code(err) == codes.Aborted:
						aborted[side]++
					case err != nil:
						errs[side] = err
						return
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(aborted[0]+aborted[1])/float64(b.N), "aborted/op")
	}
	b.Run("one-server", func(b *testing.B) {
		n := 0
		for b.Loop() {
			n++
			if err := update(0, "north", "display_name", n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two-servers/own-teams", func(b *testing.B) {
		race(b, [2]string{"north", "south"}, [2]string{"display_name", "display_name"})
	})
	b.Run("two-servers/one-team", func(b *testing.B) {
		race(b, [2]string{"north", "north"}, [2]string{"display_name", "managers"})
	})
}
