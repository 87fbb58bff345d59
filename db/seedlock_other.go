//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package db

import "os"

// tryLock always succeeds where flock is not available: there a running
// bulk seed is not told from a stopped one, and `seed --finish` relies on
// the operator, as its help says.
func tryLock(*os.File) error { return nil }
