package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"

	"github.com/dwellhq/dwell/pkg/dwell"
	"github.com/dwellhq/dwell/pkg/store"
)

// Page sizes of List RPCs.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageTokenVersion prefixes every page token so the format can change.
const pageTokenVersion = 1

// filterDigest binds a page token to the tenant, the listing and its filter,
// so a token cannot be replayed with another filter (AIP-158).
func filterDigest(tenant dwell.TenantID, list, filter string) [8]byte {
	h := sha256.New()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(list))
	h.Write([]byte{0})
	h.Write([]byte(filter))
	var d [8]byte
	copy(d[:], h.Sum(nil))
	return d
}

// encodePageToken returns the opaque token for the page after id last.
func encodePageToken(digest [8]byte, last string) string {
	b := make([]byte, 0, 1+8+len(last))
	b = append(b, pageTokenVersion)
	b = append(b, digest[:]...)
	b = append(b, last...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pageFromRequest validates page_size and page_token against the digest of
// the current filter and returns the store page.
func pageFromRequest(op dwell.Op, size int32, token string, digest [8]byte) (store.Page, error) {
	var vs []dwell.Violation
	p := store.Page{Limit: int(size)}
	switch {
	case size < 0:
		vs = append(vs, dwell.Violation{Field: "page_size", Description: "must not be negative"})
	case size == 0:
		p.Limit = defaultPageSize
	case size > maxPageSize:
		p.Limit = maxPageSize
	}
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(token))
		switch {
		case err != nil || len(b) < 9 || b[0] != pageTokenVersion:
			vs = append(vs, dwell.Violation{Field: "page_token", Description: "is not a token returned by this listing"})
		case binary.BigEndian.Uint64(b[1:9]) != binary.BigEndian.Uint64(digest[:]):
			vs = append(vs, dwell.Violation{Field: "page_token", Description: "was issued for a different filter; start again without a token"})
		default:
			p.After = string(b[9:])
		}
	}
	return p, invalid(op, vs)
}

// nextToken returns the next_page_token of a page whose last id is last.
func nextToken(more bool, digest [8]byte, last string) string {
	if !more {
		return ""
	}
	return encodePageToken(digest, last)
}

// listPage runs one page of a listing: it checks page_size and page_token
// against the filter (any violations vs found by the caller are reported
// with them), fetches the page and returns it with its next_page_token.
// Every List RPC goes through it, also when it knows the answer is empty
// (a scope without reps: fetch returns nothing), so a bad page_size or
// page_token is INVALID_ARGUMENT whatever the scope holds.
func listPage[T any](op dwell.Op, tenant dwell.TenantID, list, filter string, size int32, token string, vs []dwell.Violation,
	fetch func(store.Page) ([]T, bool, error), id func(T) string) ([]T, string, error) {
	digest := filterDigest(tenant, list, filter)
	page, err := pageFromRequest(op, size, token, digest)
	if err == nil {
		err = invalid(op, vs)
	}
	if err != nil {
		return nil, "", err
	}
	items, more, err := fetch(page)
	if err != nil || len(items) == 0 {
		return items, "", err
	}
	return items, nextToken(more, digest, id(items[len(items)-1])), nil
}

// listAll fetches every page of a store listing, maxPageSize items at a
// time, each page after the last item (id) of the one before, and returns
// all the items; for reads that need the whole set (a team's reps, a
// manager's teams).
func listAll[T any](fetch func(store.Page) ([]T, bool, error), id func(T) string) ([]T, error) {
	var all []T
	pg := store.Page{Limit: maxPageSize}
	for {
		items, more, err := fetch(pg)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if !more || len(items) == 0 {
			return all, nil
		}
		pg.After = id(items[len(items)-1])
	}
}
