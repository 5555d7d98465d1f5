// Package geofence answers the geometry question at the heart of Dwell:
// given a fix (latitude, longitude, accuracy in metres), which client sites
// contain it, which it may be in given its accuracy, which it is near, and
// how far it is from each boundary. It knows nothing of reps, storage or
// gRPC.
//
// Shape (exact.go) is the oracle: the signed great-circle distance from a
// position to a fence's boundary, with golang/geo s2 for polygons. Index is
// an H3-indexed set of fences that answers the same question for a million
// fences, reading the memory of little more than the fences in the answer,
// and Cursor makes a stream of fixes from one phone cheaper still.
//
// # Units and relations
//
// Distances are metres on a sphere of radius EarthRadiusM, angles degrees.
// Index.Query(p, accuracy, buf) returns every fence whose signed distance
// d from p satisfies d <= reach, where reach = max(accuracy, MarginM) and
// accuracy is clamped to [0, MaxAccuracyM] (default 500 m; NaN and
// negative count as 0). Each match carries d and a Relation:
// RelationInside when d <= 0 (p itself is inside or on the boundary),
// RelationMaybeInside when 0 < d <= accuracy, RelationNear when
// accuracy < d <= MarginM (default 100 m). Matches come nearest first,
// ties by id. Distances agree with Shape.SignedDistanceM within 1 mm, and
// inside-or-not agrees exactly, on edges and vertices too: whenever the
// fast test lands within 1 mm of a boundary the fence answers with the
// oracle's own s2 computation.
//
// # Containment mode: buffered covers, and why no fence is missed
//
// The index keeps two tiers, each a map from H3 cell to the fences stored
// under it. A tier has a buffer B: the near tier B = max(MarginM, 50 m),
// serving queries with reach <= B (ordinary fixes); the far tier
// B = max(MarginM, MaxAccuracyM), serving the rest. In each tier a fence
// has one resolution, the finest whose average edge is at least its
// extent plus B over 4 (near) or 2 (far), so a cover has a few dozen
// cells. The fence is stored under every cell c of that resolution with
//
//	dist(centre(c), fence) <= B + rho(c)
//
// where rho(c) = 1.2 x (c's largest centre-to-vertex distance). H3 is not
// nested: a query computes ONE cell, at the finest resolution the tier
// uses, and takes its parents at the other resolutions from the index
// bits, so the cell a query looks up at resolution r is the parent of its
// finest cell, not the res-r cell containing p. Children stick out of their
// parent by about 5% of its circumradius; rho's factor 1.2 covers that
// (TestQueryRegionBound measures at most 1.05 over random and
// near-pentagon positions). So for the cell c a query looks up,
// dist(p, centre(c)) <= rho(c).
//
// No miss: let fence f have d = dist(p, f) <= reach <= B. Then
// dist(centre(c), f) <= dist(centre(c), p) + d <= rho(c) + B, so c is in
// f's cover, provided the cover holds every cell meeting the inequality.
// The builder finds them in a grid disk around the cell of a point of f,
// growing the disk until no cell on its outer ring meets the looser
// B + 2.5 rho; a walk from any qualifying cell to f and along f to that
// point passes only cells meeting the looser bound, and crosses every
// ring, so none lies beyond the disk (see cover.go).
//
// A cell is interior to f when its centre is inside f deeper than rho(c):
// then every position that looks it up is inside, and the polygon
// containment test is skipped. The distance is still computed exactly for
// every candidate, interior or not, since every match reports it.
//
// Each entry of a cell list is the fence pointer and a float32 cap that
// holds the fence (centre unit vector, radius rounded up): a candidate
// whose cap is more than reach + 2 m from the fix (the 2 m cover float32
// rounding, under 0.7 m) cannot match and is dropped without reading the
// fence. With it the fences read are the answer plus a few percent.
//
// # Cells without cgo
//
// cellOf (h3util.go) is H3's latLngToCell in pure Go: the face and hex
// coordinates by dot products instead of trigonometry, then the index
// digits by walking up the aperture-7 grids in ij coordinates, the base
// cell and its rotation from h3-go's own tables (read once at init through
// its C lookup functions) and H3's pentagon rules. It is about 10x cheaper
// than the cgo call (BenchmarkCell) and agrees with h3-go on 400,000 random
// positions over the globe, pentagons, antimeridian and poles; on cell
// vertices rounding may pick the neighbour, which the kappa margin covers.
// Only builds call into C (grid disks, cell geometry).
//
// The exact tests: circles by the chord between unit vectors; polygons up
// to 3 km across on their gnomonic tangent plane, where great-circle edges
// are straight segments (containment by crossing parity, distance to the
// segments, error under 1 mm); larger polygons with s2 as Shape does. All
// of it is precomputed at Put, and a query allocates nothing.
//
// # Streams
//
// Cursor remembers the last four cells it looked up, each with its
// candidates and their signed distances from the fix that filled it (exact
// within reach, else the cap's lower bound). A new fix close enough to a
// slot's fix that it stays within the query regions of the slot's cells
// (a chord: each cell list keeps its cell's centre and rho in float32) or
// in its cell (the first half of cellOf: face and hex coordinates) is
// served by that slot; then
// only the candidates with distance <= reach + moved + 1 cm are tested,
// because a signed distance changes by at most the distance moved. The
// answer is identical to Index.Query's; a remembered cell is used only
// while the shards it came from are still the published ones.
//
// # Concurrency
//
// Queries never block and never wait on writers. Each tier's cell map is
// split into 16384 shards, each an immutable open-addressing table behind
// an atomic pointer; Put, PutAll and Delete are serialized by a mutex,
// rebuild only the shards their cells fall in and swap them in. A query
// sees each shard either before or after a change; a fence that is in the
// index for the whole of a query is always found. All Index methods are
// safe for concurrent use; a Cursor belongs to one goroutine.
//
// # Performance: what the benchmarks taught
//
// The machine is a 2-core virtual machine shared with other work: the wall
// clock (ns/op) of a row swings 1.5-2x between runs, so the benchmarks
// also report the process's CPU time (cpu-ns/op, cpu-ns/fix), every
// figure stands beside the R-tree's from the same run, and the figures
// below are ranges over the runs of 27 November 2026. In the benchmark
// city (1,000,000 circles of 50-150 m and buildings in 900 km², about
// 1,100 per km², overlapping), a query's cost is set by the size of its
// answer, by branch mispredictions and by cache misses, not by the search:
//
//   - 1e6 uniform, default 100 m margin (97 matches): 12.7-21.5 µs, the
//     R-tree 33-35 µs; no margin (29 matches): 5.6-7.0 µs, R-tree 12-16
//     µs; clustered (530 matches): 80 µs, R-tree 170 µs. 1e5 uniform:
//     2.8-4.3 µs, R-tree 4.1-5.0 µs; with no margin (3.4 matches) 1.8-2.8
//     µs against 2.1-2.4 µs: at a hundred thousand fences the R-tree stays
//     in cache while the H3 lists (about 25 entries per fence) do not.
//     1e3: 0.5 µs, R-tree 0.45 µs.
//   - Compute. Every match needs its exact distance (each reports it) and
//     a place in the sorted answer. With the index in cache (h3warm) the
//     97-match query takes 3.0-3.9 µs, the 29-match one 1.2-1.6 µs. The
//     sort was most of it: a comparison sort of a hundred matches whose
//     distances are spread evenly mispredicts half its branches, and the
//     inlined quicksort took 3.75 µs for a random 97-match answer; the
//     bucket sort of sortMatches takes 0.94 µs. So the 2.5 µs target of
//     issue 3 is out of reach for the default-margin answer even with no
//     cache miss at all.
//   - Memory. BenchmarkMemoryLatency measures this machine: a load from a
//     random line of a 512 MiB table costs 363-374 ns when its address
//     depends on the previous load, 41.5-42 ns each with 8 independent
//     chains and 10.4-12.2 ns with 32. A cold query's lookup chain (shard table, slot,
//     cell list, fence, a polygon's planar record) is four or five
//     dependent levels, about 1.5-2 µs before any work, and its answer's
//     fences are a few hundred lines more, which overlap only as far as
//     the code issues their loads side by side. The lookups of all of a
//     query's resolutions go first, and one pass touches every line of
//     their lists (touchRefs) and of each batch's fences before the exact
//     tests.
//   - A compact store was tried (branch lean-experiment, not merged):
//     small fences kept once each in 16-byte records, grouped by their
//     res-10 cell under res-8 blocks, read through per-cell plans. It
//     built the million fences in 8.2 s with 557 MiB kept (1,399 MiB from
//     the system) and answered the no-margin 1e6 query in 5.9-6.2 µs, but
//     the default-margin one no faster (13-14 µs: the records of the ~22
//     sub-cells within reach, their vertices and ids are as many lines as
//     the cover lists and fences), the 1e5 query and the rep day slower
//     (3.0 µs; 1.29 µs a fix), since every query walks dozens of sub-cell
//     headers, and an isolated fence cost kilobytes of plans.
//   - Streams (BenchmarkRepDay, per fix). 1e5: Cursor 1.10-1.29 µs, plain
//     queries 1.12-1.23 µs, R-tree 1.37-1.60 µs; no margin: Cursor 0.82
//     µs, R-tree 0.68-0.77 µs. 1e6: Cursor 6.2 µs, plain 5.7 µs, R-tree
//     8.9 µs; no margin: Cursor 3.0 µs, R-tree 3.4 µs. The 0.5 µs and 2x
//     targets are not met. A quarter of the rep day's fixes are travel or
//     a jitter out of the slot's cell, and each is a cold query (2.5-4 µs
//     at 1e5: a quarter of it is already 0.6-1 µs a fix); a fix served by
//     a slot still computes every match's distance and sorts them. With
//     the default margin a slot hit cannot skip anything (every candidate
//     within reach must be measured again, since every match reports its
//     distance), so the cursor is no faster than plain queries; use
//     Index.Query with the default margin. The warm rows replay one day
//     fifty times, so every line it reads stays in cache: even then a fix
//     costs 0.49-0.57 µs with plain queries and 0.68-0.80 µs with the
//     R-tree (10.2 matches a fix, each measured and sorted: the exact
//     tests are half of it, the cell a quarter). Since each cell list
//     keeps its cell's centre, the cursor serves a jittering phone by the
//     chord to its anchor instead of faceIJKOf (35,951 of 36,161 slot hits
//     of the benchmark day): quiet runs of 27 November, cursor before and
//     after beside the R-tree in the same runs, warm 0.48-0.49 -> 0.43-0.44
//     µs (R-tree 0.69-0.77), warm with no margin 0.32-0.40 -> 0.24-0.25 µs
//     (R-tree 0.46-0.52), cold 1.07 -> 0.99-1.07 µs (R-tree 1.25-1.30).
//     So in cache the default margin's day is under 0.5 µs a fix, but the
//     quarter of cold fills (2.5-4 µs each at 1e5) keeps the cold day near
//     1 µs, which the dependent misses above rule out bringing near 0.5.
//   - The product's path is cheaper than the rep-day stream: the timeline
//     queries the index per stop (its centre) and per check-in, not per
//     fix, about 0.06 queries a fix of a realistic day. Replaying the
//     queries of 512 such days, one after another so each is out of cache,
//     on the benchmark city's sites plus 1,000,000 random circles (800 a
//     km²) costs 2.0-3.2 µs a query, 0.12-0.20 µs a fix, beside the
//     derivation's own 0.45-0.71 µs a fix (pkg/timeline
//     BenchmarkDeriveFences, two runs of 28 November). DESIGN's bar, a
//     match well under a microsecond with a million fences, holds there.
//   - Overlapping the fills of a trip was tried (a Cursor.QueryAll that
//     planned 64 fixes at a time and looked up to 8 cells' shards, table
//     slots, lists and fences level by level across them): no gain on a
//     stream of fills alone (3.2-3.6 µs a fix either way at 1e5). A fill
//     reads about 25-40 lines (24 entries of its list, 11 fences, 3
//     planar records), whose misses already overlap within one fill; the
//     bound is the lines, not the chain. Not kept.
//   - The cap prefilter keeps the fences read to the answer plus a few
//     percent (100.7 read for 97.3 returned, 30.4 for 28.8 at margin 0),
//     so cell lists can be generous without cost in fence reads; the list
//     itself is read whole.
//   - Building a million fences (BenchmarkBuild alone) took 14-20 s and
//     1,870-1,894 MiB from the system; it is dominated by covers (grid
//     disks, cell geometry through cgo, the exact test of each cell), and
//     garbage, not the index (about 944 MiB kept), makes the peak. With
//     the cells' regions (27 November, three runs each, alternated): 13.7-
//     14.9 s, 946 MiB kept, 1,862-1,980 MiB from the system, against 14.0-
//     14.7 s, 944 MiB and 1,883-2,052 MiB before: the peak swings with the
//     collector's timing by more than the change, and touched 2 GiB. The
//     additions of a tier, sorted by shard, were the largest transient
//     (16 bytes a cover cell, hundreds of megabytes); apply now sorts and
//     builds them one eighth of the shards at a time into one buffer:
//     1,666-1,732 MiB from the system against 1,879-1,984 in the same
//     alternated runs, 15.4-16.9 s against 16.1-16.9 s, 946 MiB kept.
//   - Huge pages are no cure here. Collapsing the whole heap into 2 MiB
//     pages (MADV_COLLAPSE, an experiment not kept) left the cold query
//     within this machine's noise, although they do shorten a lone chain:
//     BenchmarkMemoryLatency's dependent load from 512 MiB costs 226-285
//     ns in 2 MiB pages against 328-426 ns in 4 KiB ones (27 November,
//     four alternated runs; the kernel's AnonHugePages confirmed the 2 MiB
//     pages). A cold query's four or five dependent levels are a fraction
//     of its time; the rest is the lines of its lists and fences, whose
//     misses overlap. The latency falls with the table only as it nears
//     the cache: 220-290 ns at 64 MiB, 95-150 ns at 8 MiB (other work
//     shares the last-level cache), so no layout of a million fences'
//     lists (hundreds of MiB) escapes it.
//
// # Caveats
//
//   - Queries allocate nothing, except that s2's exact arithmetic, used
//     when a fix lies within rounding of a polygon edge (the oracle path),
//     may allocate. A Cursor's candidate buffers grow to the largest cell
//     it has seen, then are reused.
//   - Queries with reach above the near tier's buffer (accuracy worse than
//     the margin, at least 50 m) use the far tier, whose cells are coarser:
//     slower, still exact.
//   - Polygons larger than 3 km use the s2 path, linear in their vertices
//     per query; a ring spanning a continent is correct but slow to cover
//     (coarse cells) and to test, and its cap is too large to filter.
//   - Delete and replacement recompute the old cover (a few hundred
//     microseconds) instead of storing it.
//   - PutAll keeps its fences in one slab ordered on the ground, and their
//     planar records in arenas of 256 fences; each is freed only when all
//     its fences are gone. A Cursor keeps the fences it remembers alive
//     until it looks elsewhere.
//   - The index keeps no copy of the input geofences; callers that need
//     them keep their own.
package geofence
