package server

import (
	"testing"

	"github.com/dwellhq/dwell/pkg/dwell"
)

// FuzzPageToken feeds arbitrary page tokens and page sizes to
// pageFromRequest: it never panics; what it refuses it refuses with
// violations on page_size or page_token only; what it accepts has a limit
// from 1 to maxPageSize and an After whose own token decodes to the same;
// and a token is never accepted for another tenant or filter.
func FuzzPageToken(f *testing.F) {
	acme := filterDigest("acme", "clients", "")
	f.Add(encodePageToken(acme, "c00"), int32(10))
	f.Add(encodePageToken(acme, ""), int32(0))
	f.Add(encodePageToken(filterDigest("globex", "clients", ""), "c00"), int32(5))
	f.Add("", int32(-1))
	f.Add("AQ", int32(1<<30))
	f.Add(" "+encodePageToken(acme, "x")+"\n", int32(1000))
	f.Fuzz(func(t *testing.T, token string, size int32) {
		const op = dwell.Op("fuzz")
		p, err := pageFromRequest(op, size, token, acme)
		if err != nil {
			vs := dwell.ViolationsOf(err)
			if !dwell.Is(dwell.Invalid, err) || len(vs) == 0 {
				t.Fatalf("pageFromRequest(%d, %q) = %v, want INVALID_ARGUMENT with violations", size, token, err)
			}
			for _, v := range vs {
				if v.Field != "page_size" && v.Field != "page_token" {
					t.Fatalf("pageFromRequest(%d, %q) violation on %q", size, token, v.Field)
				}
			}
			return
		}
		if p.Limit < 1 || p.Limit > maxPageSize {
			t.Fatalf("pageFromRequest(%d, %q) limit %d, want 1 to %d", size, token, p.Limit, maxPageSize)
		}
		if token == "" {
			return
		}
		again, err := pageFromRequest(op, 1, encodePageToken(acme, p.After), acme)
		if err != nil || again.After != p.After {
			t.Fatalf("token %q gave After %q, whose token gives %q, %v", token, p.After, again.After, err)
		}
		for _, other := range [][8]byte{filterDigest("globex", "clients", ""), filterDigest("acme", "clients", "kind")} {
			if _, err := pageFromRequest(op, size, token, other); err == nil {
				t.Fatalf("token %q of acme's clients accepted for another tenant or filter", token)
			}
		}
	})
}
