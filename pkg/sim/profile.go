package sim

import (
	"fmt"
	"time"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// IntRange is an inclusive range of whole numbers, drawn uniformly.
type IntRange struct{ Min, Max int }

// FloatRange is a range of reals, drawn uniformly unless a field says
// otherwise.
type FloatRange struct{ Min, Max float64 }

// DurationRange is a range of durations, drawn uniformly (to the
// millisecond) unless a field says otherwise.
type DurationRange struct{ Min, Max time.Duration }

// Profile is how a rep works and how their phone behaves: the plan of the
// day, the GPS noise, the sampling and the uploads. The profiles returned
// by Clean, Realistic, Harsh and Canvassing are the ones the evaluation
// uses; callers may copy one and change fields. Rates are probabilities in
// [0, 1].
type Profile struct {
	// Name identifies the profile in reports ("realistic").
	Name string

	// Canvassing makes the day a beat of the city's shop clusters (walked
	// shop to shop) instead of visits to offices, buildings and malls.
	Canvassing bool
	// Visits bounds the client visits of a day: a number is drawn from it,
	// then visits are added (up to Max) while the rep would be home more
	// than 90 minutes before the end of the day, or dropped (down to Min)
	// while they do not fit. Visits hidden by phone-off gaps count.
	Visits IntRange
	// VisitDuration bounds a visit's length, drawn log-uniformly.
	VisitDuration DurationRange
	// IdleBreaks is how many breaks (lunch, a parked car) the day has,
	// besides the idle time at home before and after work.
	IdleBreaks IntRange
	// IdleDuration bounds a break's length.
	IdleDuration DurationRange

	// SpeedKMH bounds the driving speed in km/h between two stops or
	// corners.
	SpeedKMH FloatRange
	// TrafficStopsPerKM is the mean number of traffic stops per driven
	// kilometre (lights, jams); stops are at least 200 m apart.
	TrafficStopsPerKM float64
	// TrafficStop bounds a traffic stop's length; short ones are likelier
	// (Min + (Max-Min)·U²). Max must stay under idle_min (5 min) for the
	// stops to be travel.
	TrafficStop DurationRange

	// MovingInterval is the sampling interval while moving or recently
	// moving (±2 s of jitter).
	MovingInterval time.Duration
	// StillAfter is how long the phone must be still before it throttles.
	StillAfter time.Duration
	// StillInterval bounds the throttled sampling interval; a phone wakes
	// 3 to 20 s after it starts moving again. Throttling is off when
	// StillInterval.Max <= MovingInterval.
	StillInterval DurationRange

	// OutdoorAccuracyM and IndoorAccuracyM bound the reported horizontal
	// accuracy in metres outdoors (driving, walking, idle) and indoors (at
	// a client, at home). The position error agrees with it: a 2-D
	// Gaussian whose radius is within the accuracy 68 % of the time,
	// correlated in time as a phone's error is.
	OutdoorAccuracyM FloatRange
	IndoorAccuracyM  FloatRange
	// OutlierRate is the chance that a fix starts a multipath outlier: a
	// run of 1 to 3 fixes OutlierDistanceM away reporting an accuracy of
	// 4 to 15 m.
	OutlierRate      float64
	OutlierDistanceM FloatRange
	// SpeedShare and IndoorSpeedShare are the shares of fixes outdoors and
	// indoors that report a speed and a course: a fix from the satellites
	// has them (from the Doppler shift), one from Wi-Fi or cell towers
	// has neither (SpeedMPS -1). Zero means no fix reports a speed.
	SpeedShare, IndoorSpeedShare float64
	// SpeedErrorMPS and IndoorSpeedErrorMPS are the standard deviations, in
	// m/s per axis, of the error of the reported velocity outdoors and
	// indoors: a still phone reports a small speed (Rayleigh-distributed)
	// in a random direction, a moving one its speed give or take this.
	SpeedErrorMPS, IndoorSpeedErrorMPS float64
	// StaticHoldMPS is the chip's static hold: a reported speed under it,
	// in m/s, is reported as exactly 0.
	StaticHoldMPS float64
	// MockRate is the chance that a fix starts a run of 1 to 3 mock fixes
	// (OS flag set) at a nearby site.
	MockRate float64

	// PhoneOffGaps is how many times the phone is off while the rep moves
	// on (truth KindGap), each PhoneOffDuration long or a little longer.
	PhoneOffGaps     IntRange
	PhoneOffDuration DurationRange
	// Silences is how many times the phone is silent during a stop (no GPS
	// indoors, the app killed) while the rep stays put; the truth keeps
	// the stop.
	Silences        IntRange
	SilenceDuration DurationRange

	// CheckInShare is the share of visits the rep checks in to.
	CheckInShare float64
	// ForgetCheckOutShare is the share of check-ins never checked out.
	ForgetCheckOutShare float64
	// CarParkShare is the share of checked-in visits whose check-in is made
	// from a car park 200 to 600 m from the site before walking there.
	CarParkShare float64
	// PhantomCheckIns is how many check-ins per day are made during an
	// idle stop for a client 200 m to 2 km away that the rep never visits.
	PhantomCheckIns IntRange
	// MockCheckIns is how many phantom check-ins per day use a mock
	// location at the site; the phone's fixes are mocked until check-out.
	MockCheckIns IntRange
	// DoorCheckInShare is the share of on-site check-ins made at the door
	// on the way in, 1 to 5 m inside the fence (ModeAtDoor).
	DoorCheckInShare float64
	// LowAccuracyCheckInShare is the share of honest check-ins made with
	// the indoor fix the phone has rather than a fresh one it trusts: its
	// accuracy is drawn from LowCheckInAccuracyM and its error is not
	// kept within it.
	LowAccuracyCheckInShare float64
	LowCheckInAccuracyM     FloatRange
	// NearbyCheckIns is how many check-ins per day are made during a stop
	// of 12 min or more (a visit, a break) for a client whose fence is 80
	// to 500 m away that is not visited then (ModeNearby), with the fix
	// the phone has (accuracy from IndoorAccuracyM or OutdoorAccuracyM,
	// error not kept within it).
	NearbyCheckIns IntRange

	// UploadEvery is how often the phone uploads what it has buffered
	// (0 to 10 s of jitter).
	UploadEvery time.Duration
	// BatchMax caps the fixes per upload (at most dwell.MaxFixesPerBatch).
	BatchMax int
	// NetworkOffline is how many times the phone has no network for
	// NetworkOfflineDuration; fixes buffer and arrive late.
	NetworkOffline         IntRange
	NetworkOfflineDuration DurationRange
	// OvernightShare is the chance that the phone is offline from late in
	// the day until the next morning (10 to 14 h after the day's end).
	OvernightShare float64
	// ShuffleShare is the share of batches sent in random order.
	ShuffleShare float64
	// HoldBackRate is the chance that a fix misses its batch and goes in a
	// later one (order mixed across batches).
	HoldBackRate float64
	// ResendShare is the share of batches sent twice (acknowledgement
	// lost), 5 s to 2 min apart.
	ResendShare float64
	// RepeatRate is the chance that a sent fix is sent again in a later
	// batch.
	RepeatRate float64
}

// Clean is a well-behaved phone: 30 s sampling throughout, small errors,
// no outliers, no gaps, every visit checked in and out on site, uploads
// every minute in order and once.
func Clean() Profile {
	return Profile{
		Name:                "clean",
		Visits:              IntRange{6, 12},
		VisitDuration:       DurationRange{10 * time.Minute, 60 * time.Minute},
		IdleBreaks:          IntRange{1, 1},
		IdleDuration:        DurationRange{30 * time.Minute, 45 * time.Minute},
		SpeedKMH:            FloatRange{20, 50},
		TrafficStopsPerKM:   0.8,
		TrafficStop:         DurationRange{30 * time.Second, 2 * time.Minute},
		MovingInterval:      30 * time.Second,
		StillAfter:          2 * time.Minute,
		StillInterval:       DurationRange{30 * time.Second, 30 * time.Second},
		OutdoorAccuracyM:    FloatRange{3, 8},
		IndoorAccuracyM:     FloatRange{5, 12},
		OutlierDistanceM:    FloatRange{150, 800},
		SpeedShare:          1,
		IndoorSpeedShare:    0.9,
		SpeedErrorMPS:       0.05,
		IndoorSpeedErrorMPS: 0.1,
		StaticHoldMPS:       0.2,
		CheckInShare:        1,
		UploadEvery:         time.Minute,
		BatchMax:            100,
	}
}

// Realistic is the day the product targets: 30 s sampling while moving,
// 2 to 5 min when still, indoor accuracy 10 to 50 m, about one multipath
// outlier per hundred fixes, an occasional phone-off gap and silence,
// forgotten check-outs and check-ins from the car park, uploads that are
// late, shuffled and duplicated.
func Realistic() Profile {
	return Profile{
		Name:                    "realistic",
		Visits:                  IntRange{6, 12},
		VisitDuration:           DurationRange{5 * time.Minute, 60 * time.Minute},
		IdleBreaks:              IntRange{1, 2},
		IdleDuration:            DurationRange{10 * time.Minute, 60 * time.Minute},
		SpeedKMH:                FloatRange{15, 50},
		TrafficStopsPerKM:       1.5,
		TrafficStop:             DurationRange{30 * time.Second, 4 * time.Minute},
		MovingInterval:          30 * time.Second,
		StillAfter:              2 * time.Minute,
		StillInterval:           DurationRange{2 * time.Minute, 5 * time.Minute},
		OutdoorAccuracyM:        FloatRange{3, 15},
		IndoorAccuracyM:         FloatRange{10, 50},
		OutlierRate:             0.01,
		OutlierDistanceM:        FloatRange{150, 800},
		SpeedShare:              0.95,
		IndoorSpeedShare:        0.5,
		SpeedErrorMPS:           0.1,
		IndoorSpeedErrorMPS:     0.2,
		StaticHoldMPS:           0.3,
		MockRate:                0.002,
		PhoneOffGaps:            IntRange{0, 1},
		PhoneOffDuration:        DurationRange{20 * time.Minute, 90 * time.Minute},
		Silences:                IntRange{0, 2},
		SilenceDuration:         DurationRange{10 * time.Minute, 40 * time.Minute},
		CheckInShare:            0.7,
		ForgetCheckOutShare:     0.15,
		CarParkShare:            0.1,
		PhantomCheckIns:         IntRange{0, 1},
		DoorCheckInShare:        0.2,
		LowAccuracyCheckInShare: 0.25,
		LowCheckInAccuracyM:     FloatRange{30, 80},
		NearbyCheckIns:          IntRange{0, 2},
		UploadEvery:             5 * time.Minute,
		BatchMax:                100,
		NetworkOffline:          IntRange{1, 2},
		NetworkOfflineDuration:  DurationRange{20 * time.Minute, 2 * time.Hour},
		ShuffleShare:            0.5,
		HoldBackRate:            0.02,
		ResendShare:             0.05,
		RepeatRate:              0.01,
	}
}

// Harsh is a bad phone on a bad day: larger errors, four times the
// outliers and farther, long phone-off gaps, more silences, frequent
// away and mock check-ins, uploads every 15 min that are often a night
// late.
func Harsh() Profile {
	p := Realistic()
	p.Name = "harsh"
	p.IdleBreaks = IntRange{1, 3}
	p.TrafficStopsPerKM = 2
	p.StillAfter = time.Minute
	p.StillInterval = DurationRange{3 * time.Minute, 6 * time.Minute}
	p.OutdoorAccuracyM = FloatRange{5, 30}
	p.IndoorAccuracyM = FloatRange{20, 80}
	p.OutlierRate = 0.04
	p.OutlierDistanceM = FloatRange{150, 1500}
	p.SpeedShare, p.IndoorSpeedShare = 0.85, 0.4
	p.SpeedErrorMPS, p.IndoorSpeedErrorMPS = 0.15, 0.3
	p.MockRate = 0.01
	p.PhoneOffGaps = IntRange{1, 2}
	p.PhoneOffDuration = DurationRange{30 * time.Minute, 2 * time.Hour}
	p.Silences = IntRange{1, 3}
	p.SilenceDuration = DurationRange{15 * time.Minute, 60 * time.Minute}
	p.CheckInShare = 0.6
	p.ForgetCheckOutShare = 0.3
	p.CarParkShare = 0.25
	p.PhantomCheckIns = IntRange{1, 2}
	p.MockCheckIns = IntRange{0, 1}
	p.DoorCheckInShare = 0.3
	p.LowAccuracyCheckInShare = 0.4
	p.NearbyCheckIns = IntRange{1, 3}
	p.UploadEvery = 15 * time.Minute
	p.BatchMax = 200
	p.NetworkOffline = IntRange{2, 3}
	p.NetworkOfflineDuration = DurationRange{time.Hour, 4 * time.Hour}
	p.OvernightShare = 0.5
	p.ShuffleShare = 1
	p.HoldBackRate = 0.05
	p.ResendShare = 0.15
	p.RepeatRate = 0.03
	return p
}

// Canvassing is the FMCG beat with Realistic noise: 15 to 25 visits of 5
// to 15 min to small shops (fences 15 to 30 m across, tens of metres
// apart) walked one after the other along a street, a few streets a day.
func Canvassing() Profile {
	p := Realistic()
	p.Name = "canvassing"
	p.Canvassing = true
	p.Visits = IntRange{15, 25}
	p.VisitDuration = DurationRange{5 * time.Minute, 15 * time.Minute}
	p.IdleBreaks = IntRange{1, 3}
	p.IdleDuration = DurationRange{15 * time.Minute, 45 * time.Minute}
	p.CheckInShare = 0.85
	p.ForgetCheckOutShare = 0.2
	p.CarParkShare = 0.05
	return p
}

// Profiles returns the evaluation's profiles from clean to harsh, then the
// canvassing beat.
func Profiles() []Profile { return []Profile{Clean(), Realistic(), Harsh(), Canvassing()} }

// ProfileByName returns the profile of Profiles named name.
func ProfileByName(name string) (Profile, bool) {
	for _, p := range Profiles() {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// validate reports the first inconsistent field of p.
func (p *Profile) validate() error {
	rate := func(name string, x float64) error {
		if !(x >= 0 && x <= 1) {
			return fmt.Errorf("%s must be in [0, 1], got %g", name, x)
		}
		return nil
	}
	ints := func(name string, x IntRange) error {
		if x.Min < 0 || x.Max < x.Min {
			return fmt.Errorf("%s must have 0 <= Min <= Max, got %d..%d", name, x.Min, x.Max)
		}
		return nil
	}
	durs := func(name string, x DurationRange, positive bool) error {
		if x.Min < 0 || x.Max < x.Min || positive && x.Min <= 0 {
			return fmt.Errorf("%s must have 0 < Min <= Max, got %v..%v", name, x.Min, x.Max)
		}
		return nil
	}
	floats := func(name string, x FloatRange) error {
		if !(x.Min > 0 && x.Max >= x.Min) {
			return fmt.Errorf("%s must have 0 < Min <= Max, got %g..%g", name, x.Min, x.Max)
		}
		return nil
	}
	for _, err := range []error{
		ints("Visits", p.Visits), ints("IdleBreaks", p.IdleBreaks), ints("PhoneOffGaps", p.PhoneOffGaps),
		ints("Silences", p.Silences), ints("PhantomCheckIns", p.PhantomCheckIns),
		ints("MockCheckIns", p.MockCheckIns), ints("NetworkOffline", p.NetworkOffline),
		ints("NearbyCheckIns", p.NearbyCheckIns),
		rate("DoorCheckInShare", p.DoorCheckInShare), rate("LowAccuracyCheckInShare", p.LowAccuracyCheckInShare),
		durs("VisitDuration", p.VisitDuration, true), durs("IdleDuration", p.IdleDuration, true),
		durs("TrafficStop", p.TrafficStop, true), durs("StillInterval", p.StillInterval, true),
		durs("PhoneOffDuration", p.PhoneOffDuration, p.PhoneOffGaps.Max > 0),
		durs("SilenceDuration", p.SilenceDuration, p.Silences.Max > 0),
		durs("NetworkOfflineDuration", p.NetworkOfflineDuration, p.NetworkOffline.Max > 0),
		floats("SpeedKMH", p.SpeedKMH), floats("OutdoorAccuracyM", p.OutdoorAccuracyM),
		floats("IndoorAccuracyM", p.IndoorAccuracyM), floats("OutlierDistanceM", p.OutlierDistanceM),
		rate("OutlierRate", p.OutlierRate), rate("MockRate", p.MockRate),
		rate("SpeedShare", p.SpeedShare), rate("IndoorSpeedShare", p.IndoorSpeedShare), rate("CheckInShare", p.CheckInShare),
		rate("ForgetCheckOutShare", p.ForgetCheckOutShare), rate("CarParkShare", p.CarParkShare),
		rate("OvernightShare", p.OvernightShare), rate("ShuffleShare", p.ShuffleShare),
		rate("HoldBackRate", p.HoldBackRate), rate("ResendShare", p.ResendShare), rate("RepeatRate", p.RepeatRate),
	} {
		if err != nil {
			return err
		}
	}
	if p.LowAccuracyCheckInShare > 0 {
		if err := floats("LowCheckInAccuracyM", p.LowCheckInAccuracyM); err != nil {
			return err
		}
	}
	switch {
	case p.Visits.Max < 1:
		return fmt.Errorf("Visits.Max must be at least 1")
	case !(p.SpeedErrorMPS >= 0 && p.IndoorSpeedErrorMPS >= 0 && p.StaticHoldMPS >= 0):
		return fmt.Errorf("SpeedErrorMPS, IndoorSpeedErrorMPS and StaticHoldMPS must be >= 0")
	case p.TrafficStopsPerKM < 0:
		return fmt.Errorf("TrafficStopsPerKM must be >= 0, got %g", p.TrafficStopsPerKM)
	case p.MovingInterval < time.Second:
		return fmt.Errorf("MovingInterval must be at least 1s, got %v", p.MovingInterval)
	case p.StillAfter < 0:
		return fmt.Errorf("StillAfter must be >= 0, got %v", p.StillAfter)
	case p.UploadEvery < time.Second:
		return fmt.Errorf("UploadEvery must be at least 1s, got %v", p.UploadEvery)
	case p.BatchMax < 1 || p.BatchMax > dwell.MaxFixesPerBatch:
		return fmt.Errorf("BatchMax must be in [1, %d], got %d", dwell.MaxFixesPerBatch, p.BatchMax)
	case p.SpeedKMH.Max > 200:
		return fmt.Errorf("SpeedKMH.Max must be at most 200, got %g", p.SpeedKMH.Max)
	}
	return nil
}
