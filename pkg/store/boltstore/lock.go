package boltstore

import "errors"

// ErrLocked is in the chain of Open's and HoldFile's errors when another
// process holds the store file's lock: a Store is open on it, in a running dwelld most
// likely.
var ErrLocked = errors.New("the file is locked by another process (a running dwelld?)")
