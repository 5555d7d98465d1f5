package sim_test

import (
	"fmt"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/sim"
)

// A realistic day in Jakarta: the truth, what the phone produced and what
// reached the server.
func ExampleDay() {
	city, err := sim.NewCity(1, sim.CityConfig{})
	if err != nil {
		panic(err)
	}
	wib := time.FixedZone("WIB", 7*3600)
	day, err := sim.Day(7, city, sim.Realistic(), sim.DayConfig{
		Rep:  "rep-42",
		Date: dwell.Date{Year: 2026, Month: time.March, Day: 2},
		Loc:  wib,
	})
	if err != nil {
		panic(err)
	}
	kind, client := day.TruthAt(day.Visits[0].Start.Add(time.Minute))
	fmt.Println("first visit:", kind, client, day.Visits[0].Start.In(wib).Format("15:04"))
	received := 0
	for _, b := range day.Uploads {
		received += len(b.Fixes)
	}
	fmt.Println("visits:", len(day.Visits), "check-ins:", len(day.CheckIns))
	fmt.Println("fixes:", len(day.AllFixes()), "received:", received, "in", len(day.Uploads), "batches")
	// Output:
	// first visit: VISIT c0134 08:21
	// visits: 9 check-ins: 9
	// fixes: 434 received: 474 in 97 batches
}
