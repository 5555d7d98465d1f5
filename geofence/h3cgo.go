package geofence

// latLngToCell calls H3's C latLngToCell, which h3-go links into the
// binary, directly: h3-go's wrapper passes Go pointers to C and so costs two
// heap allocations per call, which the query path must not have. Only
// scalars cross here.

/*
#include <stdint.h>
typedef struct { double lat; double lng; } dwellH3LatLng;
extern uint32_t latLngToCell(const dwellH3LatLng *g, int res, uint64_t *out);
static uint64_t dwellLatLngToCell(double latRad, double lngRad, int res) {
	dwellH3LatLng g = {latRad, lngRad};
	uint64_t out = 0;
	if (latLngToCell(&g, res, &out) != 0) return 0;
	return out;
}
*/
import "C"

import (
	"math"

	h3 "github.com/uber/h3-go/v4"
)

// h3Linked makes sure h3-go, which defines the C symbol, is linked.
var _ = h3.LatLngToCell

// latLngToCell returns the H3 cell of the position at resolution r, or 0
// for a non-finite position (cgo, about 1.4 µs, no allocation).
func latLngToCell(latDeg, lngDeg float64, r int) uint64 {
	return uint64(C.dwellLatLngToCell(C.double(latDeg*math.Pi/180), C.double(lngDeg*math.Pi/180), C.int(r)))
}
