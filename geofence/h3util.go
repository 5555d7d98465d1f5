package geofence

import (
	"math"

	"github.com/golang/geo/r3"
	"github.com/golang/geo/s2"
	h3 "github.com/uber/h3-go/v4"
)

// H3 helpers. Only the cell of a position (h3.LatLngToCell, cgo) and the
// geometry of cells at build time come from h3-go; parents are derived from
// the index bits, and the cursor's same-cell test is a pure-Go port of the
// first half of H3's latLngToCell (position to face and hex coordinates).

// maxRes is the finest H3 resolution the index uses.
const maxRes = 12

// kappa scales a cell's circumradius (the largest distance from its centre to
// a boundary vertex) into the radius of its query region: every position p
// whose finest cell (at any resolution up to maxRes) has this cell as its
// parent lies within kappa*circumradius of the cell's centre. H3 children
// stick out of their parent by up to about 5.3% of the parent's
// circumradius (0.655*(1+1/sqrt7+1/7+...)); TestQueryRegionBound measures
// at most 1.061 over random and near-pentagon positions. 1.2 leaves room for
// rounding and for distortion the sample missed.
const kappa = 1.2

// cellParent returns the parent of c at resolution r, at most c's, from the
// index layout alone: the resolution in bits 52-55, then 15 digits of 3 bits
// each, digits finer than the resolution set to 7.
func cellParent(c uint64, r int) uint64 {
	c = c&^(uint64(0xF)<<52) | uint64(r)<<52
	return c | (uint64(1)<<uint((15-r)*3) - 1)
}

// cellGeom is what the builder needs of a cell: its centre and the radius
// of its query region in metres.
type cellGeom struct {
	center s2.Point
	rhoM   float64
}

// geomCache is a builder's scratch: it memoises cell geometry (h3-go's
// CellToLatLng and CellToBoundary cost about 0.7 and 2 µs) and holds the
// grid disk buffers. Not safe for concurrent use.
type geomCache struct {
	m     map[uint64]cellGeom
	disk  []uint64
	dist  []int32
	cells []uint64 // a cover being computed
}

func newGeomCache() *geomCache { return &geomCache{m: make(map[uint64]cellGeom)} }

// maxGeomCache bounds the memo; past it, it starts over.
const maxGeomCache = 1 << 18

func (gc *geomCache) get(c uint64) cellGeom {
	if g, ok := gc.m[c]; ok {
		return g
	}
	if len(gc.m) >= maxGeomCache {
		clear(gc.m)
	}
	cell := h3.Cell(c)
	ll := cell.LatLng()
	ctr := s2.PointFromLatLng(s2.LatLngFromDegrees(ll.Lat, ll.Lng))
	var maxRad float64
	for _, v := range cell.Boundary() {
		d := ctr.Distance(s2.PointFromLatLng(s2.LatLngFromDegrees(v.Lat, v.Lng))).Radians()
		maxRad = max(maxRad, d)
	}
	g := cellGeom{center: ctr, rhoM: kappa * maxRad * EarthRadiusM}
	gc.m[c] = g
	return g
}

// edgeLenM is the average H3 hexagon edge length in metres per resolution.
var edgeLenM = func() (t [16]float64) {
	for r := range t {
		t[r] = h3.HexagonEdgeLengthAvgM(r)
	}
	return t
}()

// faceIJK is a position's icosahedron face and hex coordinates at some
// resolution: two positions with equal faceIJK are in the same H3 cell.
type faceIJK struct {
	face    int32
	i, j, k int32
}

// Constants of H3's projection (h3/src/h3lib/include/constants.h).
const (
	h3Res0UGnomonic = 0.38196601125010500003
	h3Ap7RotRads    = 0.333473172251832115336090755351601070065900389
	h3Sin60         = 0.8660254037844386467637231707529361834714
	h3Epsilon       = 0.0000000000000001
)

// h3Face holds, per icosahedron face, its centre and the precomputed terms
// of the azimuth from the centre and of the rotation to the face's i axis.
type h3Face struct {
	center             r3.Vector
	sinLat, cosLat     float64
	sinLng, cosLng     float64
	cosAx, sinAx       float64 // face i-axis azimuth, class II
	cosAxIII, sinAxIII float64 // the same rotated for class III
}

var h3Faces = func() (fs [20]h3Face) {
	// Face centres (lat, lng radians) and i-axis azimuths, from H3's
	// faceijk.c.
	geo := [20][2]float64{
		{0.803582649718989942, 1.248397419617396099}, {1.307747883455638156, 2.536945009877921159},
		{1.054751253523952054, -1.347517358900396623}, {0.600191595538186799, -0.450603909469755746},
		{0.491715428198773866, 0.401988202911306943}, {0.172745327415618701, 1.678146885280433686},
		{0.605929321571350690, 2.953923329812411617}, {0.427370518328979641, -1.888876200336285401},
		{-0.079066118549212831, -0.733429513380867741}, {-0.230961644455383637, 0.506495587332349035},
		{0.079066118549212831, 2.408163140208925497}, {0.230961644455383637, -2.635097066257444203},
		{-0.172745327415618701, -1.463445768309359553}, {-0.605929321571350690, -0.187669323777381622},
		{-0.427370518328979641, 1.252716453253507838}, {-0.600191595538186799, 2.690988744120037492},
		{-0.491715428198773866, -2.739604450678486295}, {-0.803582649718989942, -1.893195233972397139},
		{-1.307747883455638156, -0.604647643711872080}, {-1.054751253523952054, 1.794075294689396615},
	}
	pts := [20]r3.Vector{
		{X: 0.2199307791404606, Y: 0.6583691780274996, Z: 0.7198475378926182},
		{X: -0.2139234834501421, Y: 0.1478171829550703, Z: 0.9656017935214205},
		{X: 0.1092625278784797, Y: -0.4811951572873210, Z: 0.8697775121287253},
		{X: 0.7428567301586791, Y: -0.3593941678278028, Z: 0.5648005936517033},
		{X: 0.8112534709140969, Y: 0.3448953237639384, Z: 0.4721387736413930},
		{X: -0.1055498149613921, Y: 0.9794457296411413, Z: 0.1718874610009365},
		{X: -0.8075407579970092, Y: 0.1533552485898818, Z: 0.5695261994882688},
		{X: -0.2846148069787907, Y: -0.8644080972654206, Z: 0.4144792552473539},
		{X: 0.7405621473854482, Y: -0.6673299564565524, Z: -0.0789837646326737},
		{X: 0.8512303986474293, Y: 0.4722343788582681, Z: -0.2289137388687808},
		{X: -0.7405621473854481, Y: 0.6673299564565524, Z: 0.0789837646326737},
		{X: -0.8512303986474292, Y: -0.4722343788582682, Z: 0.2289137388687808},
		{X: 0.1055498149613919, Y: -0.9794457296411413, Z: -0.1718874610009365},
		{X: 0.8075407579970092, Y: -0.1533552485898819, Z: -0.5695261994882688},
		{X: 0.2846148069787908, Y: 0.8644080972654204, Z: -0.4144792552473539},
		{X: -0.7428567301586791, Y: 0.3593941678278027, Z: -0.5648005936517033},
		{X: -0.8112534709140971, Y: -0.3448953237639382, Z: -0.4721387736413930},
		{X: -0.2199307791404607, Y: -0.6583691780274996, Z: -0.7198475378926182},
		{X: 0.2139234834501420, Y: -0.1478171829550704, Z: -0.9656017935214205},
		{X: -0.1092625278784796, Y: 0.4811951572873210, Z: -0.8697775121287253},
	}
	ax := [20]float64{5.619958268523939882, 5.760339081714187279, 0.780213654393430055,
		0.430469363979999913, 6.130269123335111400, 2.692877706530642877, 2.982963003477243874,
		3.532912002790141181, 3.494305004259568154, 3.003214169499538391, 5.930472956509811562,
		0.138378484090254847, 0.448714947059150361, 0.158629650112549365, 5.891865957979238535,
		2.711123289609793325, 3.294508837434268316, 3.804819692245439833, 3.664438879055192436,
		2.361378999196363184}
	for f := range fs {
		fs[f] = h3Face{
			center: pts[f],
			sinLat: math.Sin(geo[f][0]), cosLat: math.Cos(geo[f][0]),
			sinLng: math.Sin(geo[f][1]), cosLng: math.Cos(geo[f][1]),
			cosAx: math.Cos(ax[f]), sinAx: math.Sin(ax[f]),
			cosAxIII: math.Cos(ax[f] - h3Ap7RotRads), sinAxIII: math.Sin(ax[f] - h3Ap7RotRads),
		}
	}
	return fs
}()

// sqrt7Pow[r] is sqrt(7)^r.
var sqrt7Pow = func() (t [16]float64) {
	t[0] = 1
	for r := 1; r < 16; r++ {
		t[r] = t[r-1] * math.Sqrt(7)
	}
	return t
}()

// faceIJKOf returns the face and hex coordinates of the unit vector v at
// resolution res: H3's _geoToFaceIjk without trigonometry (the azimuth and
// the gnomonic radius come from dot products). It agrees with h3-go except
// possibly within rounding of a cell boundary, which the cursor tolerates
// (see Cursor).
func faceIJKOf(v r3.Vector, res int) faceIJK {
	face, sqd := 0, 5.0
	for f := range h3Faces {
		c := h3Faces[f].center
		dx, dy, dz := c.X-v.X, c.Y-v.Y, c.Z-v.Z
		if d := dx*dx + dy*dy + dz*dz; d < sqd {
			face, sqd = f, d
		}
	}
	fc := &h3Faces[face]
	// cos and sin of the angle r from the face centre, from the chord:
	// 1 - cos r = sqd/2 and sin^2 r = sqd (1 - sqd/4), which stays
	// accurate for small r.
	cosR := 1 - sqd/2
	var x, y float64
	if sinR := math.Sqrt(max(0, sqd*(1-sqd/4))); sinR >= h3Epsilon && cosR > 0 {
		// Azimuth from the face centre to v: atan2(ay, ax).
		ay := v.Y*fc.cosLng - v.X*fc.sinLng
		ax := fc.cosLat*v.Z - fc.sinLat*(v.X*fc.cosLng+v.Y*fc.sinLng)
		h := math.Hypot(ax, ay)
		cosAz, sinAz := ax/h, ay/h
		cosA, sinA := fc.cosAx, fc.sinAx
		if res%2 == 1 {
			cosA, sinA = fc.cosAxIII, fc.sinAxIII
		}
		// theta = axis - azimuth.
		cosT := cosA*cosAz + sinA*sinAz
		sinT := sinA*cosAz - cosA*sinAz
		r := sinR / cosR / h3Res0UGnomonic * sqrt7Pow[res]
		x, y = r*cosT, r*sinT
	}
	i, j, k := hex2dToIJK(x, y)
	return faceIJK{face: int32(face), i: i, j: j, k: k}
}

// hex2dToIJK is H3's _hex2dToCoordIJK: the normalized ijk coordinates of the
// hex containing the 2D hex-grid position (x, y).
func hex2dToIJK(x, y float64) (i, j, k int32) {
	a1, a2 := math.Abs(x), math.Abs(y)
	x2 := a2 / h3Sin60
	x1 := a1 + x2/2
	m1, m2 := int32(x1), int32(x2)
	r1, r2 := x1-float64(m1), x2-float64(m2)
	if r1 < 0.5 {
		if r1 < 1.0/3.0 {
			i = m1
			if r2 < (1+r1)/2 {
				j = m2
			} else {
				j = m2 + 1
			}
		} else {
			if r2 < 1-r1 {
				j = m2
			} else {
				j = m2 + 1
			}
			if 1-r1 <= r2 && r2 < 2*r1 {
				i = m1 + 1
			} else {
				i = m1
			}
		}
	} else {
		if r1 < 2.0/3.0 {
			if r2 < 1-r1 {
				j = m2
			} else {
				j = m2 + 1
			}
			if 2*r1-1 < r2 && r2 < 1-r1 {
				i = m1
			} else {
				i = m1 + 1
			}
		} else {
			i = m1 + 1
			if r2 < r1/2 {
				j = m2
			} else {
				j = m2 + 1
			}
		}
	}
	if x < 0 {
		if j%2 == 0 {
			i -= 2 * (i - j/2)
		} else {
			i -= 2*(i-(j+1)/2) + 1
		}
	}
	if y < 0 {
		i -= (2*j + 1) / 2
		j = -j
	}
	return ijkNormalize(i, j, k)
}

// cellOf returns the H3 cell at resolution res of the unit vector v: H3's
// latLngToCell in pure Go, about 150 ns. It agrees with h3-go except
// possibly for a position within rounding (micrometres) of a cell
// boundary, where it may return the neighbour; the query region bound
// (kappa) absorbs that. 0 means v is not a valid position.
func cellOf(v r3.Vector, res int) uint64 {
	return faceIJKToCell(faceIJKOf(v, res), res)
}

// Index digits, as H3 numbers them: the digit of a unit ijk vector is
// 4i+2j+k, so the k axis is 1.
const digitK = 1

// rot60ccw and rot60cw rotate an index digit by 60°.
var (
	rot60ccw = [8]uint8{0, 5, 3, 1, 6, 4, 2, 7}
	rot60cw  = [8]uint8{0, 3, 6, 2, 5, 1, 4, 7}
)

// faceIJKToCell is H3's _faceIjkToH3: the cell at resolution res whose
// face and hex coordinates are fk. The index digits come from walking up
// the aperture-7 hierarchy; the base cell and its orientation come from
// h3-go's own tables (h3cgo.go); pentagons skip their deleted k subsequence
// as H3 does.
func faceIJKToCell(fk faceIJK, res int) uint64 {
	var d [maxH3Res + 1]uint8
	// Walk up in ij coordinates (i-k, j-k), which normalization leaves
	// unchanged, so no step needs normalizing.
	i, j := fk.i-fk.k, fk.j-fk.k
	for r := res - 1; r >= 0; r-- {
		var ci, cj int32  // the parent's centre, then the step from it
		if (r+1)%2 == 1 { // class III: counter-clockwise aperture 7
			pi, pj := roundDiv7(3*i-j), roundDiv7(i+2*j)
			ci, cj = 2*pi+pj, 3*pj-pi // the parent's centre one level down
			i, j, ci, cj = pi, pj, i-ci, j-cj
		} else {
			pi, pj := roundDiv7(2*i+j), roundDiv7(3*j-i)
			ci, cj = 3*pi-pj, pi+2*pj
			i, j, ci, cj = pi, pj, i-ci, j-cj
		}
		// (ci, cj) is now the step from the parent's centre.
		if uint32(ci+1) > 2 || uint32(cj+1) > 2 || unitIJDigit[3*(ci+1)+cj+1] > 6 {
			return 0 // not a unit step: the input was not a position
		}
		d[r+1] = unitIJDigit[3*(ci+1)+cj+1]
	}
	i, j, k := ijkNormalize(i, j, 0)
	if uint32(i) > 2 || uint32(j) > 2 || uint32(k) > 2 {
		return 0
	}
	t := &h3BaseCells
	bc := int(t.cell[fk.face][i][j][k])
	rots := int(t.rot[fk.face][i][j][k])
	digits := d[1 : res+1]
	if t.pentagon[bc] {
		if leadingDigit(digits) == digitK {
			if t.cwOffset[bc]&(1<<fk.face) != 0 {
				rotateDigits(digits, &rot60cw)
			} else {
				rotateDigits(digits, &rot60ccw)
			}
		}
		for range rots {
			found := false
			for r := range digits {
				digits[r] = rot60ccw[digits[r]]
				if !found && digits[r] != 0 {
					found = true
					if digits[r] == digitK {
						rotateDigits(digits, &rot60ccw)
					}
				}
			}
		}
	} else {
		for range rots {
			rotateDigits(digits, &rot60ccw)
		}
	}
	h := uint64(1)<<59 | uint64(res)<<52 | uint64(bc)<<45 | (uint64(1)<<45 - 1)
	for r, dg := range digits {
		shift := uint(15-(r+1)) * 3
		h = h&^(7<<shift) | uint64(dg)<<shift
	}
	return h
}

// maxH3Res is H3's finest resolution.
const maxH3Res = 15

func rotateDigits(ds []uint8, rot *[8]uint8) {
	for r := range ds {
		ds[r] = rot[ds[r]]
	}
}

func leadingDigit(ds []uint8) uint8 {
	for _, d := range ds {
		if d != 0 {
			return d
		}
	}
	return 0
}

// unitIJDigit is the index digit of a unit step (di, dj) in ij
// coordinates, at 3*(di+1)+(dj+1); 7 marks a step that is not a unit.
// k = (-1,-1), j = (0,1), jk = (-1,0), i = (1,0), ik = (0,-1), ij = (1,1).
var unitIJDigit = [9]uint8{
	1, 3, 7, // di = -1: dj = -1, 0, 1
	5, 0, 2, // di = 0
	7, 4, 6, // di = 1
}

// roundDiv7 is n/7 rounded to the nearest integer, as H3's lround: n/7 is
// never halfway between integers, so it is floor((n+3)/7).
func roundDiv7(n int32) int32 {
	n += 3
	q := n / 7
	if n%7 < 0 {
		q--
	}
	return q
}

// ijkNormalize makes ijk coordinates non-negative with a zero minimum.
func ijkNormalize(i, j, k int32) (int32, int32, int32) {
	if i < 0 {
		j, k, i = j-i, k-i, 0
	}
	if j < 0 {
		i, k, j = i-j, k-j, 0
	}
	if k < 0 {
		i, j, k = i-k, j-k, 0
	}
	if m := min(i, j, k); m > 0 {
		i, j, k = i-m, j-m, k-m
	}
	return i, j, k
}
