package dwell

import "time"

// Limits of the API, shared by validation and documentation.
const (
	// MinRadiusM and MaxRadiusM bound a circle fence's radius in metres.
	MinRadiusM = 10.0
	MaxRadiusM = 5000.0
	// MinPolygonVertices and MaxPolygonVertices bound each polygon ring.
	MinPolygonVertices = 3
	MaxPolygonVertices = 1000
	// MaxPolygonHoles bounds the number of holes of one polygon.
	MaxPolygonHoles = 100
	// MaxFixIDBytes bounds a fix id's length in bytes.
	MaxFixIDBytes = 64
	// MaxFixesPerBatch bounds the fixes of one upload or stream message.
	MaxFixesPerBatch = 1000
	// MaxFutureSkew is how far ahead of the server clock a fix may be.
	MaxFutureSkew = 24 * time.Hour
	// MaxIDBytes bounds a resource id (client, rep, team) in bytes.
	MaxIDBytes = 64
	// MaxRequestIDBytes bounds a request_id in bytes.
	MaxRequestIDBytes = 128
	// MaxTextBytes bounds free-text fields (names, notes, addresses).
	MaxTextBytes = 4096
)

// Settings are a tenant's thresholds and policies.
type Settings struct {
	// Retention is how long fixes are kept; older fixes are refused.
	Retention time.Duration
	// VisitMin is the least time inside a site that makes a visit.
	VisitMin time.Duration
	// IdleMin is the least stationary time that makes an idle stop.
	IdleMin time.Duration
}

// DefaultSettings returns the settings of a tenant that set none.
func DefaultSettings() Settings {
	return Settings{
		Retention: 365 * 24 * time.Hour,
		VisitMin:  5 * time.Minute,
		IdleMin:   5 * time.Minute,
	}
}
