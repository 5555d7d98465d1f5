//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// checkOwner returns an error unless this process runs as the owner of
// dir: a key file written by another user (root through sudo, say) is
// mode 0600 and owned by that user, so a dwelld running as dir's owner
// could not read it, would refuse the tenant and would then fail to
// start.
func checkOwner(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s belongs to uid %d and this runs as uid %d: run as the user that owns it (the one dwelld runs as), or dwelld could not read the new key", dir, st.Uid, os.Geteuid())
	}
	return nil
}
