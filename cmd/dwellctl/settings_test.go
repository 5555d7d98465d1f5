package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

func (f *directoryFixture) settings(t *testing.T) *dwellv1.Settings {
	t.Helper()
	resp, err := f.api.GetSettings(t.Context(), &dwellv1.GetSettingsRequest{Name: "settings"})
	if err != nil {
		t.Fatalf("GetSettings: %v", err)
	}
	return resp.GetSettings()
}

// TestSettingsCommands: an admin reads and changes the tenant's thresholds
// with dwellctl; each update changes only the settings named, a stale etag
// changes nothing, a manager is refused.
func TestSettingsCommands(t *testing.T) {
	f := newDirectoryFixture(t)
	a := f.admin

	defaults := f.settings(t)
	r := a.must(0, "settings", "get")
	for _, s := range []string{"365 days", "5m0s (300 s)", "30m0s (1800 s)", "Partner accounts required:  false", "Etag:", defaults.GetEtag()} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("settings get printed no %q:\n%s", s, r.stdout)
		}
	}

	r = a.must(0, "settings", "update", "--visit-min", "10m", "-o", "json")
	got := f.settings(t)
	if got.GetVisitMinSeconds() != 600 || got.GetIdleMinSeconds() != defaults.GetIdleMinSeconds() ||
		got.GetRetentionDays() != defaults.GetRetentionDays() || got.GetSilenceMinSeconds() != defaults.GetSilenceMinSeconds() ||
		got.GetPartnerAccountsRequired() {
		t.Errorf("settings update --visit-min 10m: stored %v (defaults %v)", got, defaults)
	}
	if printed := decodeProto(t, r.stdout, &dwellv1.Settings{}); !proto.Equal(printed, got) {
		t.Errorf("settings update -o json = %v, stored %v", printed, got)
	}

	a.must(0, "settings", "update", "--retention-days", "30", "--idle-min", "90s", "--silence-min", "1h")
	got = f.settings(t)
	if got.GetRetentionDays() != 30 || got.GetIdleMinSeconds() != 90 || got.GetSilenceMinSeconds() != 3600 || got.GetVisitMinSeconds() != 600 {
		t.Errorf("settings update --retention-days --idle-min --silence-min: stored %v", got)
	}
	a.must(0, "settings", "update", "--partner-accounts-required")
	got = f.settings(t)
	if !got.GetPartnerAccountsRequired() || got.GetRetentionDays() != 30 || got.GetVisitMinSeconds() != 600 {
		t.Errorf("settings update --partner-accounts-required: stored %v", got)
	}
	a.must(0, "settings", "update", "--partner-accounts-required=false")
	if got = f.settings(t); got.GetPartnerAccountsRequired() {
		t.Errorf("settings update --partner-accounts-required=false: stored %v", got)
	}
	// The server's ranges are the server's to check.
	if r := a.must(1, "settings", "update", "--visit-min", "10s"); !strings.Contains(r.stderr, "INVALID_ARGUMENT") || !strings.Contains(r.stderr, "visit_min_seconds") {
		t.Errorf("settings update --visit-min 10s: stderr %q", r.stderr)
	}

	// --etag.
	r = a.must(0, "settings", "get", "-o", "json")
	if !strings.Contains(r.stdout, `"partner_accounts_required": false`) {
		t.Errorf("settings get -o json leaves out a false partner_accounts_required:\n%s", r.stdout)
	}
	read := decodeProto(t, r.stdout, &dwellv1.Settings{})
	a.must(0, "settings", "update", "--idle-min", "7m", "--etag", read.GetEtag())
	current := f.settings(t)
	if current.GetIdleMinSeconds() != 420 {
		t.Fatalf("settings update --idle-min 7m with a fresh etag: stored %v", current)
	}
	wantStale(t, a, "settings", "update", "--idle-min", "3m", "--etag", read.GetEtag())
	if now := f.settings(t); !proto.Equal(now, current) {
		t.Errorf("a stale update changed the settings: %v, want %v", now, current)
	}

	// A manager may read them but not change them.
	mgr := f.as(t, "manager", "mgr-1")
	if r := mgr.must(1, "settings", "update", "--visit-min", "6m"); !strings.Contains(r.stderr, "PERMISSION_DENIED") {
		t.Errorf("settings update by a manager: stderr %q", r.stderr)
	}
	if now := f.settings(t); !proto.Equal(now, current) {
		t.Errorf("a manager's update changed the settings: %v, want %v", now, current)
	}

	usageErrors(t, a, []usageCase{
		{[]string{"settings", "update"}, "nothing to change"},
		{[]string{"settings", "update", "--etag", current.GetEtag()}, "nothing to change"},
		{[]string{"settings", "update", "--visit-min", "90.5s"}, "--visit-min"},
		{[]string{"settings", "update", "--idle-min", "-5m"}, "--idle-min"},
		{[]string{"settings", "update", "--silence-min", "0s"}, "--silence-min"},
		{[]string{"settings", "update", "--visit-min", "5"}, "-visit-min"},
		{[]string{"settings", "update", "--retention-days", "0"}, "--retention-days"},
		{[]string{"settings", "update", "--retention-days", "a year"}, "-retention-days"},
		{[]string{"settings", "get", "extra"}, "unexpected arguments"},
	})
	if now := f.settings(t); !proto.Equal(now, current) {
		t.Errorf("usage errors changed the settings: %v, want %v", now, current)
	}
}
