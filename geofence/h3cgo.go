package geofence

// The base-cell tables of the pure-Go latLngToCell (h3util.go) are read at
// start-up from the H3 C library that h3-go links into the binary, through
// its internal lookup functions, so they are the very tables h3-go uses and
// cannot drift from it. Queries make no cgo call; builds call H3's
// gridDiskDistances directly into reused buffers (h3-go's wrapper
// allocates the disk three times over, most of a bulk load's garbage).

/*
#include <stdint.h>
typedef struct { int face; int i, j, k; } dwellFaceIJK;
extern uint32_t gridDiskDistances(uint64_t origin, int k, uint64_t *out, int *distances);
extern int _faceIjkToBaseCell(const dwellFaceIJK *h);
extern int _faceIjkToBaseCellCCWrot60(const dwellFaceIJK *h);
extern int _isBaseCellPentagon(int baseCell);
extern _Bool _baseCellIsCwOffset(int baseCell, int testFace);
*/
import "C"

import (
	"fmt"

	h3 "github.com/uber/h3-go/v4"
)

// h3-go defines the C symbols above; make sure it is linked.
var _ = h3.LatLngToCell

// numBaseCells is the number of H3 resolution 0 cells.
const numBaseCells = 122

// h3BaseCells is what _faceIjkToH3 looks up about base cells.
type h3BaseCellTables struct {
	// cell and rot hold, per face and res 0 ijk coordinates (each 0..2),
	// the base cell there and the number of 60° ccw rotations from the
	// face's coordinate system to the base cell's.
	cell, rot [20][3][3][3]int8
	// pentagon tells the 12 pentagon base cells.
	pentagon [numBaseCells]bool
	// cwOffset has bit f set when face f is one of the pentagon's two
	// clockwise offset faces.
	cwOffset [numBaseCells]uint32
}

var h3BaseCells = func() (t h3BaseCellTables) {
	for f := range 20 {
		for i := range 3 {
			for j := range 3 {
				for k := range 3 {
					fk := C.dwellFaceIJK{face: C.int(f), i: C.int(i), j: C.int(j), k: C.int(k)}
					t.cell[f][i][j][k] = int8(C._faceIjkToBaseCell(&fk))
					t.rot[f][i][j][k] = int8(C._faceIjkToBaseCellCCWrot60(&fk))
				}
			}
		}
	}
	for bc := range numBaseCells {
		t.pentagon[bc] = C._isBaseCellPentagon(C.int(bc)) != 0
		for f := range 20 {
			if C._baseCellIsCwOffset(C.int(bc), C.int(f)) {
				t.cwOffset[bc] |= 1 << f
			}
		}
	}
	return t
}()

// gridDisk returns the cells within grid distance k of origin and their
// distances, in gc's buffers (valid until the next call); entries of cell
// 0 are holes (near pentagons) to skip.
func (gc *geomCache) gridDisk(origin uint64, k int) ([]uint64, []int32) {
	n := 3*k*(k+1) + 1
	if cap(gc.disk) < n {
		gc.disk, gc.dist = make([]uint64, n), make([]int32, n)
	}
	disk, dist := gc.disk[:n], gc.dist[:n]
	clear(disk)
	clear(dist)
	if e := C.gridDiskDistances(C.uint64_t(origin), C.int(k), (*C.uint64_t)(&disk[0]), (*C.int)(&dist[0])); e != 0 {
		// Only an invalid origin or k fails; the builder passes neither.
		panic(fmt.Sprintf("geofence: gridDiskDistances(%x, %d) = error %d", origin, k, e))
	}
	return disk, dist
}
