// Package sim simulates field-sales rep days with exact ground truth: the
// true timeline (visit, idle, travel, gap), the true path, and what the
// server receives from the rep's phone (noisy fixes, check-ins and
// check-outs, batched uploads that are late, shuffled and repeated). The
// timeline tests, their evaluation, the demo and the load tool use it.
//
// It imports only the standard library and pkg/dwell. Everything is drawn
// from a seed with math/rand/v2's PCG: the same seed, city, profile and
// configuration give the same result byte for byte (DayResult.Digest), and
// each stage draws from its own stream, so changing how uploads are
// batched leaves every fix where it was.
//
// # The city
//
// NewCity places client sites in a disc: offices (circles of 25 to 150 m
// radius), buildings (rectangles, L shapes and blocks with a courtyard
// hole), malls (a polygon with 3 or 4 store circles inside it, the only
// overlapping fences) and shop streets for the canvassing beat: 12 small
// shops a street on both sides, 15 to 30 m across, tens of metres apart.
// Sites are dwell.Client values with their Geofence, valid for
// dwell.ValidateClient. Geometry is done in a local equirectangular plane
// about the city centre, in metres.
//
// # The day
//
// Day plans the working hours of a rep (DayConfig) under a Profile. The
// rep starts at home (the same home every day for a rep in a city), drives
// to sites in their territory ordered by nearest neighbour, or walks a few
// shop streets on a canvassing beat, takes idle breaks at places at least
// 100 m from any fence, and drives home, where the day ends with at least
// 10 minutes idle. Visits are added up to Visits.Max while the rep would
// otherwise be home more than 90 minutes early.
//
// The truth (DayResult.Segments) follows DESIGN's timeline:
//   - KindVisit runs from the rep's arrival at the spot they stand at (at
//     least a few metres inside the fence, and nearer that client's centre
//     than any other fence containing it, so DESIGN's tie rule names the
//     same client) to their departure from it. Walking from the car
//     through the fence to that spot is travel, unless the rep checked in
//     at the door on the way (ModeAtDoor): DESIGN counts the time from a
//     verified check-in as a visit, so the visit starts at that check-in.
//   - KindTravel is walking (1.0 to 1.5 m/s) and driving along a street
//     grid (an L-shaped route, 15 to 50 km/h between stops) including
//     traffic stops of 30 s to 4 min and, for car-park check-ins, a 1 to
//     3 min pause: stops shorter than idle_min are travel.
//   - KindIdle is a stop of at least 10 minutes away from every site:
//     home before and after work, lunch, a parked car.
//   - KindGap is a phone-off stretch that starts and ends during trips at
//     places at least 150 m apart. Visits made during it are real but
//     unobservable; they are counted in DayResult.HiddenVisits and not
//     listed in Visits.
//
// A silence (the phone quiet while the rep stays at a stop) does not change
// the truth: the stop goes on.
//
// # The phone
//
// The tracker samples every MovingInterval (30 s) while moving and for
// StillAfter once still, then every StillInterval (2 to 5 min) until the
// rep moves, waking 3 to 20 s after. Reported accuracy is drawn per fix
// about a per-segment typical value, indoors (at a client, at home) from
// IndoorAccuracyM, outdoors from OutdoorAccuracyM. The position error is a
// 2-D Gaussian whose radius is within the reported accuracy 68 % of the
// time (the meaning phones give accuracy), correlated in time (about 3
// minutes indoors, 20 s on the move). Multipath outliers put a run of 1 to
// 3 fixes hundreds of metres off with an over-optimistic 4 to 15 m
// accuracy; mock fixes carry the OS flag. A fix from the satellites
// reports a speed and a course from the Doppler shift, one from Wi-Fi or
// cell towers neither (Profile.SpeedShare outdoors, IndoorSpeedShare
// indoors): the true velocity with a Gaussian error (SpeedErrorMPS,
// IndoorSpeedErrorMPS), so a still phone reports a small speed in a
// random direction, held at exactly 0 under the chip's static hold
// (StaticHoldMPS). Multipath jumps keep the true velocity: reflections
// move the position, not the Doppler shift. Each check-in and check-out
// carries a fresh fix within its accuracy of the truth (or a mock one) or,
// for a share of honest check-ins, the indoor fix the phone has (30 to 80
// m accuracy, its error not kept within it); that fix is also uploaded
// with the track. Fix ids are "<rep>-<n>", n
// counting the day's fixes in time order.
//
// Uploads go every UploadEvery while online, at most BatchMax fixes a
// batch; network-offline stretches (and phone-off gaps) delay them, up to
// the next morning in Harsh. Batches may be shuffled, fixes may miss their
// batch or be sent twice, and whole batches may be re-sent. Every fix is
// uploaded at least once.
//
// # Claims
//
// A share of visits gets a check-in: on site within the first 2 minutes
// or at the door on the way in, 1 to 5 m inside the fence (both Honest),
// or from a car park 200 to 600 m away before walking over (ModeCarPark,
// not honest, the visit still happens). Some check-outs are forgotten.
// Phantom check-ins are made during idle stops (including home) for a
// client 200 m to 2 km away that is never visited; nearby ones during a
// visit or a break for a client 80 to 500 m away, with the phone's fix of
// the moment (ModeNearby); mock check-ins put the phone's fixes at the
// client's site until check-out while the rep is idle elsewhere. Check-out
// outcomes follow DESIGN's five outcomes.
//
// # Evaluation
//
// DayResult.TruthAt gives the true kind and client at any instant, for
// the share of misallocated seconds; Visits (with their check-in and
// check-out) for visit precision and recall; CheckIn.Honest and Mode for
// check-in verification precision and recall. AllFixes is the set the
// server ends with; Uploads is how it gets there; Shuffled is the same
// multiset in a seeded order.
//
// # Caveats
//
// Byte-identical output is tested within one Go release and GOARCH. A Go
// release that changes how math/rand/v2 derives values (NormFloat64,
// Shuffle, IntN) from its PCG stream, or an architecture where the
// compiler fuses multiply-adds (arm64, ppc64le, s390x), may give other
// bytes for the same seed; golden files should be regenerated, not
// compared, across those.
//
// The phones' speed model is a judgement, not a measurement: how often a
// phone indoors has a satellite fix, how noisy its Doppler speed is there
// and where its static hold sits vary by chip and building. Detectors that
// read movement from the speed (Traccar's) are sensitive to it.
//
// DESIGN's small shops are "15-30 m across" but its smallest circle fence
// has a 10 m radius, so circular shops are 20 to 30 m across and the
// smaller ones are rectangles.
//
// The truth covers the working hours, home idle included; on a short beat
// (canvassing) the rep can be home for hours. Evaluations that want the
// field day alone can cut at the end of the first and the start of the
// last segment.
//
// The plane is accurate to a fraction of a percent within 50 km of the
// centre; cities must stay within 75° of the equator and off the
// antimeridian. Devices' clocks are exact: fixes are never stamped in the
// future or with a skewed clock.
package sim
