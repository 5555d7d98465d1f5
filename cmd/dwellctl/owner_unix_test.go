//go:build unix

package main

import (
	"os"
	"testing"
)

// TestCheckOwner: a directory of this process's user passes; one of
// another user is refused, naming both uids.
func TestCheckOwner(t *testing.T) {
	mine := t.TempDir()
	if err := checkOwner(mine); err != nil {
		t.Fatalf("checkOwner of this user's directory: %v", err)
	}
	theirs := "/" // root's, when this is not root
	if os.Geteuid() == 0 {
		theirs = t.TempDir()
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	if err := checkOwner(theirs); err == nil {
		t.Fatalf("checkOwner(%s) of another user's directory passed", theirs)
	}
}
