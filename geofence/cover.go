package geofence

import (
	"math"
	"slices"

	h3 "github.com/uber/h3-go/v4"
)

// Covers. A tier stores fence f under every cell c of f's resolution with
//
//	dist(centre(c), f) <= bufferM + rho(c)                                (1)
//
// where rho(c) = kappa*circumradius(c) bounds the distance from centre(c)
// of any position whose finest cell (any resolution up to maxRes) descends
// from c. The cell is interior when centre(c) is inside f deeper than
// rho(c) (plus 1 cm for the exact test's tolerance): then every such
// position is inside f.
//
// Enumeration: cells are taken from GridDiskDistances(c0, k) around the
// cell c0 of the fence's anchor (a point of the fence), and k grows until
// no cell on ring k satisfies the looser
//
//	dist(centre(c), f) <= bufferM + 2.5*rho(c).                           (2)
//
// This finds every cell satisfying (1): walk from the centre of such a cell
// to the nearest point of f (at most bufferM+rho) and then within f to the
// anchor. Every point z on the walk is within bufferM+rho of f and the
// centre of z's own cell is within rho/kappa of z, so z's cell satisfies
// (2): bufferM + rho(c) + rho(z's cell)/kappa is about bufferM + 1.83*rho,
// and cell sizes within a few rings differ far less than the factor left
// over. Consecutive cells along a continuous walk are neighbours, so the
// walk's grid distance from c0 changes by at most one per step: a cell
// satisfying (1) beyond ring k would need a cell satisfying (2) on ring k.

// interiorFlag marks an interior cell in a cover; bit 63 of an H3 index is
// always 0.
const interiorFlag = uint64(1) << 63

// maxDiskK bounds the grid disk of one cover before a coarser resolution is
// tried.
const maxDiskK = 24

// looseRho is the factor of rho in (2).
const looseRho = 2.5

// chooseRes returns the finest resolution whose average edge is at least
// reachM/ratio: covers of a few dozen cells.
func chooseRes(reachM, ratio float64) int {
	for r := maxRes; r > 0; r-- {
		if edgeLenM[r]*ratio >= reachM {
			return r
		}
	}
	return 0
}

// computeCover returns the resolution and the cells of f's cover in a tier
// with the given buffer, interior cells flagged with interiorFlag. The
// result depends only on f, the buffer and the ratio, so a Delete recomputes
// exactly the cells a Put stored.
func computeCover(f *fence, bufferM, ratio float64, gc *geomCache) (int, []uint64) {
	reach := f.extentM + bufferM
	for res := chooseRes(reach, ratio); ; res-- {
		if res == 0 {
			return 0, coverOf(f, bufferM, gc, res0Cells)
		}
		c0 := cellOf(f.anchorPoint().Vector, res)
		g0 := gc.get(c0)
		circ := g0.rhoM / kappa
		// Ring k of a hex grid is at least 1.5*k*circumradius from its
		// centre. The loop below checks.
		k := max(1, int(math.Ceil((reach+looseRho*g0.rhoM)/(1.5*circ))))
		for ; k <= maxDiskK; k++ {
			disk, dist := gc.gridDisk(c0, k)
			clean := true
			for i, c := range disk {
				if c == 0 || int(dist[i]) != k {
					continue
				}
				g := gc.get(c)
				if f.signedDistM(g.center, false) <= bufferM+looseRho*g.rhoM {
					clean = false
					break
				}
			}
			if !clean {
				continue
			}
			cells := gc.cells[:0]
			for i, c := range disk {
				if int(dist[i]) < k {
					cells = appendQualifying(cells, f, bufferM, gc, c)
				}
			}
			gc.cells = cells
			return res, slices.Clip(slices.Clone(cells))
		}
	}
}

var res0Cells = h3.Res0Cells()

func coverOf(f *fence, bufferM float64, gc *geomCache, cs []h3.Cell) []uint64 {
	var dst []uint64
	for _, c := range cs {
		dst = appendQualifying(dst, f, bufferM, gc, uint64(c))
	}
	return dst
}

// appendQualifying appends c if it satisfies (1), flagged if interior; the
// hole 0 is skipped.
func appendQualifying(dst []uint64, f *fence, bufferM float64, gc *geomCache, c uint64) []uint64 {
	if c == 0 {
		return dst
	}
	g := gc.get(c)
	d := f.signedDistM(g.center, false)
	switch {
	case d < -(g.rhoM + 0.01):
		dst = append(dst, c|interiorFlag)
	case d <= bufferM+g.rhoM:
		dst = append(dst, c)
	}
	return dst
}
