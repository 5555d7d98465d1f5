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
	// SilenceMin is how much working time without a fix makes a rep
	// silent (a REP_SILENT event), from MinSilence to MaxSilence.
	SilenceMin time.Duration
	// PartnerAccountsRequired makes every partner token of the tenant need
	// a registered, enabled partner account holding the call's scope; when
	// false (the default, for tokens minted before accounts existed) a
	// partner subject with no account keeps every partner right, unless
	// its account was deleted (PartnerDeletion).
	PartnerAccountsRequired bool
	// Revision is set by the store (see Client.Revision): 0 while the
	// tenant has stored no settings, as in DefaultSettings.
	Revision int64
}

// DefaultSettings returns the settings of a tenant that set none.
func DefaultSettings() Settings {
	return Settings{
		Retention: 365 * 24 * time.Hour,
		VisitMin:  5 * time.Minute,
		IdleMin:   5 * time.Minute,

		SilenceMin: DefaultSilenceMin,
	}
}

// Bounds and default of Settings.SilenceMin.
const (
	// DefaultSilenceMin is the silence threshold of a tenant that set none.
	DefaultSilenceMin = 30 * time.Minute
	// MinSilence and MaxSilence bound the silence threshold: a phone that
	// samples every few minutes when still must not look silent, and a
	// threshold beyond a working day would never fire.
	MinSilence = 5 * time.Minute
	MaxSilence = 24 * time.Hour
)

// ValidateSilenceMin checks a silence threshold against MinSilence and
// MaxSilence. A violation is reported on field.
func ValidateSilenceMin(field string, d time.Duration) []Violation {
	if d >= MinSilence && d <= MaxSilence {
		return nil
	}
	return oneViolation(field, "silence threshold must be between %d and %d seconds, got %d",
		int64(MinSilence/time.Second), int64(MaxSilence/time.Second), int64(d/time.Second))
}
