package server

import (
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// FuzzDecodeCursor feeds arbitrary cursors to the decoder: it never
// panics, accepts only what names the tenant, and what it accepts names a
// position and check whose own cursor decodes to the same.
func FuzzDecodeCursor(f *testing.F) {
	const tenant = dwell.TenantID("acme")
	f.Add(encodeCursor(tenant, 1, 0))
	f.Add(encodeCursor(tenant, 1<<63, 1<<63+5))
	f.Add(encodeCursor("globex", 7, 3))
	f.Add(EventCursor(tenant, 9))
	f.Add("")
	f.Add("AQ")
	f.Add(" " + encodeCursor(tenant, 42, 42) + "\n")
	f.Fuzz(func(t *testing.T, cursor string) {
		pos, vs := decodeCursor(tenant, cursor)
		if vs != nil {
			if len(vs) != 1 || vs[0].Field != "cursor" {
				t.Fatalf("decodeCursor(%q) violations %v, want one on cursor", cursor, vs)
			}
			return
		}
		if pos.v1 && pos.check != 0 {
			t.Fatalf("decodeCursor(%q) = %+v: a version 1 cursor with a check", cursor, pos)
		}
		again, vs := decodeCursor(tenant, encodeCursor(tenant, pos.seq, pos.check))
		if vs != nil || again.seq != pos.seq || again.check != pos.check || again.v1 {
			t.Fatalf("decodeCursor(%q) = %+v, whose cursor decodes to %+v, %v", cursor, pos, again, vs)
		}
		if _, vs := decodeCursor("globex", cursor); vs == nil {
			t.Fatalf("cursor %q of acme accepted for globex", cursor)
		}
	})
}
