package framework

import (
	"io/fs"
	"path/filepath"
	"testing"
	"time"
)

// IdleQuiet is how long the controller's configuration directory must stay unchanged for
// WaitIdle: longer than the controller holds a reload off (one second at most), so that no reload
// is pending or under way afterwards.
const IdleQuiet = 1500 * time.Millisecond

// WaitIdle waits up to RouteTimeout until no file in the controller's configuration directory has
// changed for IdleQuiet. It can run in t.Cleanup, before the controller is stopped.
//
// A haproxy 2.6 master loses the SIGUSR1 it gets while it re-executes itself for a reload, and the
// controller's shutdown then waits its whole stop timeout (10 s) before killing haproxy, which the
// framework reports as a controller that did not exit. Waiting for the controller to be idle
// before stopping it keeps that out of tests about something else.
func (c *Controller) WaitIdle(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(RouteTimeout)
	for {
		newest := time.Time{}
		_ = filepath.WalkDir(c.ConfigDir, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if info, err := d.Info(); err == nil && info.ModTime().After(newest) {
				newest = info.ModTime()
			}
			return nil
		})
		quiet := time.Since(newest)
		if quiet >= IdleQuiet {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the controller's configuration still changes after %s", RouteTimeout)
			return
		}
		time.Sleep(IdleQuiet - quiet + 10*time.Millisecond)
	}
}
