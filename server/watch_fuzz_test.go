package server

import (
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// FuzzDecodeCursor feeds arbitrary cursors to the decoder: it never
// panics, accepts only what names the tenant, and what it accepts names a
// sequence whose own cursor decodes to the same.
func FuzzDecodeCursor(f *testing.F) {
	const tenant = dwell.TenantID("acme")
	f.Add(encodeCursor(tenant, 1))
	f.Add(encodeCursor(tenant, 1<<63))
	f.Add(encodeCursor("globex", 7))
	f.Add("")
	f.Add("AQ")
	f.Add(" " + encodeCursor(tenant, 42) + "\n")
	f.Fuzz(func(t *testing.T, cursor string) {
		seq, vs := decodeCursor(tenant, cursor)
		if vs != nil {
			if len(vs) != 1 || vs[0].Field != "cursor" {
				t.Fatalf("decodeCursor(%q) violations %v, want one on cursor", cursor, vs)
			}
			return
		}
		again, vs := decodeCursor(tenant, encodeCursor(tenant, seq))
		if vs != nil || again != seq {
			t.Fatalf("decodeCursor(%q) = %d, whose cursor decodes to %d, %v", cursor, seq, again, vs)
		}
		if _, vs := decodeCursor("globex", cursor); vs == nil {
			t.Fatalf("cursor %q of acme accepted for globex", cursor)
		}
	})
}
