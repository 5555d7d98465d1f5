package main

import (
	"fmt"
	"strings"

	dwellv1 "github.com/dwellhq/dwell/proto/dwell/v1"
)

// parseWKTPolygon parses a Well-Known Text polygon,
//
//	POLYGON ((lng lat, lng lat, ...), (hole...), ...)
//
// with the keyword in any case. Coordinates are x y, that is longitude then
// latitude in degrees, as in every WKT and GeoJSON file; a third (Z)
// coordinate is refused. The first ring is the shell and the others are
// holes. Rings are sent as written (closed or not); whether they are valid
// fences is the server's decision.
func parseWKTPolygon(s string) (*dwellv1.Polygon, error) {
	p := &wktParser{s: s}
	p.space()
	if !p.keyword("POLYGON") {
		return nil, p.errorf("want POLYGON((lng lat, ...))")
	}
	p.space()
	if p.keyword("EMPTY") {
		return nil, fmt.Errorf("POLYGON EMPTY has no shell")
	}
	if p.keyword("Z") || p.keyword("M") {
		return nil, fmt.Errorf("3D and measured polygons are not supported; give lng lat only")
	}
	if !p.byte('(') {
		return nil, p.errorf("want '(' after POLYGON")
	}
	var rings []*dwellv1.LinearRing
	for {
		r, err := p.ring()
		if err != nil {
			return nil, err
		}
		rings = append(rings, r)
		if p.byte(',') {
			continue
		}
		if p.byte(')') {
			break
		}
		return nil, p.errorf("want ',' or ')' after a ring")
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errorf("unexpected text after the polygon")
	}
	return &dwellv1.Polygon{Shell: rings[0], Holes: rings[1:]}, nil
}

type wktParser struct {
	s string
	i int
}

func (p *wktParser) errorf(format string, args ...any) error {
	return fmt.Errorf("wkt at character %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func (p *wktParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// keyword consumes kw (case-insensitively) if it comes next as a whole word.
func (p *wktParser) keyword(kw string) bool {
	end := p.i + len(kw)
	if end > len(p.s) || !strings.EqualFold(p.s[p.i:end], kw) {
		return false
	}
	if end < len(p.s) && isLetter(p.s[end]) {
		return false
	}
	p.i = end
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// byte consumes c, after optional space, if it comes next.
func (p *wktParser) byte(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *wktParser) ring() (*dwellv1.LinearRing, error) {
	if !p.byte('(') {
		return nil, p.errorf("want '(' to start a ring")
	}
	r := &dwellv1.LinearRing{}
	for {
		lng, err := p.number("longitude")
		if err != nil {
			return nil, err
		}
		lat, err := p.number("latitude")
		if err != nil {
			return nil, err
		}
		r.Vertices = append(r.Vertices, &dwellv1.LatLng{Lat: lat, Lng: lng})
		if p.byte(',') {
			continue
		}
		if p.byte(')') {
			return r, nil
		}
		if p.i < len(p.s) && isNumberStart(p.s[p.i]) {
			return nil, p.errorf("a vertex has more than two coordinates; give lng lat only")
		}
		return nil, p.errorf("want ',' or ')' after a vertex")
	}
}

func isNumberStart(c byte) bool { return c == '-' || c == '+' || c == '.' || '0' <= c && c <= '9' }

func (p *wktParser) number(what string) (float64, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && (isNumberStart(p.s[p.i]) || p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
	}
	if start == p.i {
		p.i = start
		return 0, p.errorf("want a %s", what)
	}
	f, err := parseFloat(p.s[start:p.i])
	if err != nil {
		p.i = start
		return 0, p.errorf("%s: %v", what, err)
	}
	return f, nil
}
