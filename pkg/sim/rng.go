package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"time"
)

// Streams of the generator: each part of a simulation draws from its own
// PCG stream of the seed, so changing how uploads are batched does not
// move a single fix, and changing the noise does not change the plan.
const (
	streamCity uint64 = iota + 1
	streamRep
	streamIntent
	streamExec
	streamGaps
	streamEvents
	streamSilences
	streamNoise
	streamUploads
	streamShuffle
	streamDoppler
	streamClaims
)

type rng struct{ *rand.Rand }

func newRNG(seed, stream uint64) rng {
	return rng{rand.New(rand.NewPCG(seed, stream*0x9e3779b97f4a7c15))}
}

func (r rng) uniform(a, b float64) float64 { return a + (b-a)*r.Float64() }
func (r rng) floats(x FloatRange) float64  { return r.uniform(x.Min, x.Max) }
func (r rng) angle() float64               { return r.uniform(0, 2*math.Pi) }
func (r rng) chance(p float64) bool        { return p > 0 && r.Float64() < p }

func (r rng) ints(x IntRange) int {
	if x.Max <= x.Min {
		return x.Min
	}
	return x.Min + r.IntN(x.Max-x.Min+1)
}

// ms draws a duration uniformly from x, in whole milliseconds.
func (r rng) ms(x DurationRange) int64 {
	return int64(math.Round(r.uniform(float64(x.Min.Milliseconds()), float64(x.Max.Milliseconds()))))
}

// msBetween draws uniformly from [a, b] milliseconds.
func (r rng) msBetween(a, b int64) int64 {
	if b <= a {
		return a
	}
	return a + r.Int64N(b-a+1)
}

// logMS draws a duration from x log-uniformly, so short ones are as common
// per doubling as long ones.
func (r rng) logMS(x DurationRange) int64 {
	lo, hi := float64(x.Min.Milliseconds()), float64(x.Max.Milliseconds())
	if hi <= lo || lo <= 0 {
		return r.ms(x)
	}
	return int64(math.Round(math.Exp(r.uniform(math.Log(lo), math.Log(hi)))))
}

// gauss2 returns a pair of independent standard normal deviates.
func (r rng) gauss2() vec { return vec{r.NormFloat64(), r.NormFloat64()} }

// rayleighWithin draws a position error for a fix of accuracy accM (the
// 68 % radius, see sigmaOf) that the phone kept because it was within its
// own accuracy: the Rayleigh law truncated to accM.
func (r rng) rayleighWithin(accM float64) vec {
	s := sigmaOf(accM)
	for {
		e := r.gauss2().mul(s)
		if e.norm() <= accM {
			return e
		}
	}
}

// sigmaOf returns the per-axis standard deviation in metres of a 2-D
// Gaussian error whose radius is within accM with probability 0.68, the
// meaning Android and iOS give to horizontal accuracy:
// 1 - exp(-acc²/2σ²) = 0.68.
func sigmaOf(accM float64) float64 { return accM / math.Sqrt(-2*math.Log(0.32)) }

func ms(d time.Duration) int64 { return d.Milliseconds() }

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
