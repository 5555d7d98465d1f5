package baseline

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// ReadGeoLife reads the GeoLife PLT files of one user folder (dir holds
// Trajectory/*.plt, read in name order), the format of the real traces
// in testdata/real/geolife_long that trackintel's reference stops were
// computed from: 6 header lines, then lat,lon,0,altitude_feet,days,date,
// time in UTC. Fix IDs are the file name and line number, so ties in
// time keep file and row order as trackintel's index does. GeoLife
// records no accuracy, speed or bearing: AccuracyM is 0 (callers that
// need one set it) and SpeedMPS and BearingDeg are -1 (unknown).
func ReadGeoLife(dir string) ([]dwell.Fix, error) {
	files, err := filepath.Glob(filepath.Join(dir, "Trajectory", "*.plt"))
	if err != nil {
		return nil, fmt.Errorf("baseline.ReadGeoLife: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("baseline.ReadGeoLife: no PLT files in %s", filepath.Join(dir, "Trajectory"))
	}
	slices.Sort(files)
	var fixes []dwell.Fix
	for _, name := range files {
		if fixes, err = readPLTFile(name, fixes); err != nil {
			return nil, fmt.Errorf("baseline.ReadGeoLife: %w", err)
		}
	}
	return fixes, nil
}

// readPLTFile appends the fixes of one PLT file to fixes.
func readPLTFile(name string, fixes []dwell.Fix) ([]dwell.Fix, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		if line <= 6 {
			continue
		}
		rec := strings.Split(strings.TrimSpace(sc.Text()), ",")
		if len(rec) != 7 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 7", name, line, len(rec))
		}
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(rec[0]), 64)
		lng, err2 := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
		altFt, err3 := strconv.ParseFloat(strings.TrimSpace(rec[3]), 64)
		at, err4 := time.Parse("2006-01-02 15:04:05", rec[5]+" "+rec[6])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			return nil, fmt.Errorf("%s:%d: bad row %q", name, line, sc.Text())
		}
		fixes = append(fixes, dwell.Fix{
			ID:          fmt.Sprintf("%s#%06d", filepath.Base(name), line),
			Time:        at,
			Pos:         dwell.LatLng{Lat: lat, Lng: lng},
			SpeedMPS:    -1,
			BearingDeg:  -1,
			AltitudeM:   altFt * 0.3048,
			HasAltitude: true,
		})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return fixes, nil
}
