package monitor

import (
	"time"

	"github.com/git-backup/git-backup/gitstate"
)

// RealClock is the wall clock.
type RealClock struct{}

// Now returns time.Now.
func (RealClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (RealClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealDisk measures with gitstate.Usage.
var RealDisk DiskProvider = DiskFunc(gitstate.Usage)
