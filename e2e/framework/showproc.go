package framework

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ProcState is what the haproxy master CLI's "show proc" says about the master and its workers.
type ProcState struct {
	MasterPID  int
	Reloads    int   // the master's reload counter
	Failed     int   // the "[failed: N]" counter: reloads whose configuration haproxy rejected
	Workers    []int // PIDs of the current workers
	OldWorkers []int // PIDs of workers still draining after a reload
}

// ReadProcState asks the haproxy master CLI for "show proc" and parses the answer. The master
// closes its CLI socket for a moment while it re-executes during a reload, so a failed exchange is
// retried for up to masterCLIRetry before the error is returned.
func (c *Controller) ReadProcState() (ProcState, error) {
	deadline := time.Now().Add(masterCLIRetry)
	for {
		out, err := masterCommand(filepath.Join(c.RuntimeDir, "master.sock"), "show proc")
		if err == nil {
			return parseProcState(out)
		}
		if time.Now().After(deadline) {
			return ProcState{}, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// masterCLIRetry bounds how long ReadProcState retries the master CLI: far longer than a
// re-execution of the master takes.
const masterCLIRetry = 3 * time.Second

// ProcState returns the master's "show proc" state, failing the test if the master CLI does not
// answer.
func (c *Controller) ProcState(t testing.TB) ProcState {
	t.Helper()
	st, err := c.ReadProcState()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// WaitReloads waits until the master's reload counter reaches at least want and returns it.
func (c *Controller) WaitReloads(t testing.TB, want int, timeout time.Duration) int {
	t.Helper()
	var got int
	Eventually(t, timeout, func() error {
		st, err := c.ReadProcState()
		if err != nil {
			return err
		}
		if got = st.Reloads; got < want {
			return fmt.Errorf("haproxy has reloaded %d times, want at least %d", got, want)
		}
		return nil
	})
	return got
}

// parseProcState parses haproxy "show proc" output, the same up to 3.2 but for the "# programs"
// line, which 3.1 and later leave out when there are none:
//
//	#<PID>          <type>          <reloads>       <uptime>        <version>
//	9573            master          1 [failed: 0]   0d00h10m20s     2.6.12-1+deb12u4
//	# workers
//	19852           worker          0               0d00h00m01s     2.6.12-1+deb12u4
//	# old workers
//	9575            worker          1               0d00h10m20s     2.6.12-1+deb12u4
//	# programs
//
// From 3.1 on, a worker still loading its configuration is listed under "# workers", and after a
// failed reload the worker that keeps serving is listed under "# old workers".
func parseProcState(out string) (ProcState, error) {
	var st ProcState
	section, sawMaster := "", false
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			section = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			continue
		}
		pid, err := strconv.Atoi(fields[0])
		if err != nil {
			continue
		}
		switch {
		case fields[1] == "master":
			st.MasterPID, sawMaster = pid, true
			if st.Reloads, err = strconv.Atoi(fields[2]); err != nil {
				return ProcState{}, fmt.Errorf("parsing the master reload counter in %q: %w", line, err)
			}
			if len(fields) >= 5 && fields[3] == "[failed:" {
				if st.Failed, err = strconv.Atoi(strings.TrimSuffix(fields[4], "]")); err != nil {
					return ProcState{}, fmt.Errorf("parsing the failed-reload counter in %q: %w", line, err)
				}
			}
		case fields[1] == "worker" && section == "workers":
			st.Workers = append(st.Workers, pid)
		case fields[1] == "worker" && section == "old workers":
			st.OldWorkers = append(st.OldWorkers, pid)
		}
	}
	if !sawMaster {
		return ProcState{}, fmt.Errorf("no master line in show proc output %q", out)
	}
	return st, nil
}
