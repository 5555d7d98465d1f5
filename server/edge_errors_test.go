package server

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncateUTF8(t *testing.T) {
	cases := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven byte", 10, "eleven ..."},
		// "é" is bytes 3 and 4; a cut inside it moves back to its start.
		{"aaaébbbb", 7, "aaa..."},
		{"aaaébbb", 8, "aaaébbb"},
		{"aaaébbbbc", 8, "aaaé..."},
	}
	for _, c := range cases {
		got := truncateUTF8(c.in, c.n)
		if got != c.want || len(got) > c.n || !utf8.ValidString(got) {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	long := strings.Repeat("日本", 1000)
	if got := truncateUTF8(long, maxStatusMessageBytes); len(got) > maxStatusMessageBytes || !utf8.ValidString(got) {
		t.Errorf("truncateUTF8 of %d bytes of CJK = %d bytes, valid UTF-8 %v", len(long), len(got), utf8.ValidString(got))
	}
}
