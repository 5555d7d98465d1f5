// Package timeline derives a rep's day (DESIGN's "The timeline") from the
// fixes and claims the server holds: Derive turns one rep-day's fixes,
// check-ins and check-outs, with the client fences, into non-overlapping
// VISIT, IDLE, TRAVEL and GAP segments covering the observed span, the
// visits with how they were established, the verdict on each check-in,
// totals and flags. It is pure: no clock, no I/O, no global state; it is
// safe for concurrent use as long as the FenceMatcher is.
//
// # The algorithm
//
//  1. Prepare. Fixes outside the rep's local day (and the working window,
//     if given) or with an invalid position are ignored. Fixes sharing an
//     ID are one fix (the least by time, position, accuracy, speed and
//     mock flag, so the choice does not depend on order). The rest are
//     sorted by time, then ID. Accuracy is clamped to [1, MaxAccuracyM]
//     metres (missing or negative means MaxAccuracyM).
//  2. Clean. Mock fixes (the OS flag) are dropped and counted: they are
//     never evidence. A run of up to 3 fixes is a multipath jump, dropped
//     and counted, when each is farther from the straight path between the
//     fixes around the run (interpolated in time) than 120 m, than 60 m
//     plus its own accuracy plus the mean accuracy of those two, and than
//     the length of that path, with those fixes at most 30 min apart (a
//     phone that sees no movement samples every few minutes). A fix
//     that could only be reached from both kept neighbours faster than
//     MaxSpeedMPS (50 m/s, after allowing both accuracies) is dropped and
//     counted as impossible speed.
//  3. Stops. The clean fixes are clustered into stay points: a stop starts
//     at a fix that is not moving (reported speed under 0.5 m/s or
//     unknown) and grows while each fix is within 30 m plus its accuracy
//     (40 m to 130 m) of the stop's running centre, weighted by
//     1/accuracy² (accuracy floored at 10 m; moving fixes weigh 1/20).
//     Leaving needs sustained evidence: a fix outside followed by one back
//     inside among the next 3 fixes within 10 min is noise. The stop's core
//     fixes (not moving, within 25 m plus twice their accuracy of the
//     final centre; the last one not right after a moving fix, which
//     shows the rep already on the way out) time it: it starts between
//     the fix before the core and the first core fix, and ends between
//     the last core fix and the fix after. The fix outside gives the
//     instant: its distance to the centre over the rep's speed there
//     (reported, from the neighbouring fix, or walking pace 1.25 m/s).
//     For a moving fix with a reported course the distance is the part of
//     its offset from the centre along that course (the part across it is
//     the fix's and the centre's error, which the straight distance would
//     add); otherwise the straight distance less half the centre's
//     uncertainty. That estimate is uncertain by the fix's and the
//     centre's errors (their accuracies, as 68 % radii, over 1.515 per
//     axis, over the speed), and the instant taken is the median of that
//     normal error truncated to the interval the two fixes bound, rather
//     than the estimate clamped to it. A silence inside a stop (same place
//     before and after) is part of it.
//  4. Sites. A stop's centre is matched against the fences with the
//     centre's uncertainty (the fixes' mean accuracy over the square root
//     of one plus the core's minutes over 3, clamped to 5..30 m): among the
//     fences within that distance the one whose centre is nearest wins (for
//     nested fences, a store in a mall, this is DESIGN's tie rule). If none
//     is, the fixes vote: among the (at most 4) fences within the fixes'
//     mean accuracy of the centre, the one most of the stop's core fixes
//     are at, each allowing for its own accuracy, wins (ties to the nearest
//     centre); indoor errors are correlated for minutes and can pull the
//     centre off a site that the fixes, one by one, are at. A verified
//     check-in made during a stop (or up to 15 min before it) names the
//     stop's client when the stop's centre is within reach of that
//     client's site, unless the centre is inside both sites: in a shop
//     street or a mall the claim settles which neighbouring site it was.
//  5. Kinds. Stops of the same client (or an unnamed stop and a stop at a
//     site whose fence is within reach of it) less than 3 min and 50 m
//     (100 m) apart are joined. A stop at a site lasting VisitMin is a
//     visit; a stop at no site lasting IdleMin is idle; any other stop is
//     travel. "Lasting" allows 30 s of timing uncertainty on the estimate,
//     and the fixes around the stop must be at least that far apart.
//  6. Claims. A check-in is verified when its fix (not mock) is within
//     twice its accuracy (30 m to 150 m) of the client's fence, using the
//     exact distance (geofence.Shape) when the client is known. Otherwise
//     it is LOW_ACCURACY (accuracy over 150 m, within twice it),
//     MOCK_LOCATION, NO_FIX or OUTSIDE_GEOFENCE with the distance. A
//     check-out closes the earliest open check-in of the same client made
//     before it and before the next check-in. A verified check-in claims a
//     visit from the start of the stop it was made in (at most 5 min
//     earlier, never into the previous claim) until its check-out or the
//     next check-in; without a check-out (forgotten) until the end of the
//     visit stop it was made in, else until the last fix at the site
//     before two fixes away from it.
//  7. Segments. The observed span (first to last clean fix) is TRAVEL;
//     over it are laid, each winning over the former: GAP for a silence of
//     more than GapMin (10 min) between two fixes, IDLE stops, VISIT stops,
//     claimed visits. The span is cut at every boundary and equal
//     neighbours joined. A visit's source is GEOFENCE (a visit stop),
//     CHECK_IN (a claimed visit alone) or BOTH; its check-in is the
//     verified one claiming it, else any check-in of the client made up to
//     15 min before or during it (a check-in from the car park:
//     OUTSIDE_GEOFENCE, but the fixes agree). An unverified check-in the
//     fixes do not back is no visit. TRAVEL carries the path length along
//     the fixes inside it, GAP the straight distance across it.
//
// # Determinism
//
// The output is a function of the set of fixes and claims: step 1 makes a
// canonical sequence of the set (IDs deduplicated by content, a total
// order by time and ID), and every later step reads only that sequence,
// check-ins and check-outs deduplicated by request id and sorted by time
// and id, and the fence answers, which are sorted (distance, then ID).
// Maps are looked up, never ranged over. Floating-point sums run in that
// canonical order, so equal sets give equal floats and Day.Encode gives
// equal bytes, as TestDeterminism checks over more than 1,000 orders and
// repeats of simulated days.
//
// # Evaluation
//
// TestEvaluate scores Derive against the simulator's truth and against
// pkg/baseline's detectors on the same fixes (see eval_test.go):
//
//	go test -run TestEvaluate -v ./pkg/timeline/ -days 200
//	go test -run TestEvaluate -v ./pkg/timeline/ -days 200 -seed 1
//
// -seed picks another base for the simulated cities and days (0, the
// default, is the reference run); a change is checked on other bases too,
// so that it is not tuned to the reference seeds.
//
// # Caveats
//
// A stop's site is decided from its centre (and, failing that, by its
// fixes' vote), not fix by fix: DESIGN's "inside for longest" is read as
// "the stop's position is inside", which is cheap (one fence query per
// stop, not per fix) and steadier under noise. The walk from the car to
// the spot is travel, so only the stop counts, not the fences crossed on
// the way. For a store in a mall the rep at the store is inside both for
// the whole stop: a tie, which the nearest centre settles. A fence within
// the centre's uncertainty counts as well as one containing it (the
// centre of a stop in a small store often falls just outside it);
// ranking containing fences first was tried and sent more store visits
// to the mall than it saved mall visits from the stores. A stop that spans two
// neighbouring sites without a check-in goes to one of them. Sites closer
// together than the fixes' accuracy (shops tens of metres apart, indoor
// accuracy 10-50 m) are the main source of wrong clients: the canvassing
// profile of pkg/sim is far from the targets met on the others.
//
// The overlay that builds the segments is quadratic in the number of
// stops, gaps and claims; a day has tens of them, but a Derive over weeks
// of fixes (a zero Day) is slow.
//
// Speed reported by the phone is used as evidence of movement (a moving
// fix is never a stop's core); phones that report a stale or made-up speed
// make stops end early.
//
// The timing of a stop's ends is estimated, so its length can fall a few
// seconds either side of VisitMin; a stop within 30 s under it counts.
//
// Positions are handled in a plane tangent at the day's first fix; that is
// exact enough within a few hundred kilometres, not across a pole.
//
// Fixes with the same ID but different content are resolved by content
// order, not by arrival: the server keeps the first arrival, so the two can
// disagree for a phone that reuses IDs.
package timeline
