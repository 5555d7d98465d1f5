package dwell

import (
	"testing"
	"time"
)

func TestEventType(t *testing.T) {
	for ty, want := range map[EventType]struct {
		name  string
		valid bool
	}{
		EventTypeUnspecified: {"UNSPECIFIED", false}, EventVisitStarted: {"VISIT_STARTED", true},
		EventRepSilent: {"REP_SILENT", true}, EventRepSilent + 1: {"UNSPECIFIED", false}, -1: {"UNSPECIFIED", false},
	} {
		if ty.String() != want.name || ty.Valid() != want.valid {
			t.Errorf("EventType(%d) = %q, valid %v; want %q, %v", int(ty), ty.String(), ty.Valid(), want.name, want.valid)
		}
	}
}

func TestValidateSilenceMin(t *testing.T) {
	for d, ok := range map[time.Duration]bool{
		0: false, MinSilence - time.Second: false, MinSilence: true, DefaultSilenceMin: true,
		MaxSilence: true, MaxSilence + time.Second: false, -time.Minute: false,
	} {
		vs := ValidateSilenceMin("settings.silence_min_seconds", d)
		if (vs == nil) != ok || vs != nil && vs[0].Field != "settings.silence_min_seconds" {
			t.Errorf("ValidateSilenceMin(%v) = %v, want ok %v", d, vs, ok)
		}
	}
	if err := ValidateSilenceMin("f", DefaultSettings().SilenceMin); err != nil {
		t.Errorf("the default silence threshold is invalid: %v", err)
	}
}
