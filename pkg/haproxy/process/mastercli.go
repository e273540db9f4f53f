package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// masterCLI speaks to HAProxy's master CLI over its unix socket, one connection per command. The
// master keeps a connection open after answering, so every command is followed by "quit".
type masterCLI struct {
	path string
}

// command sends one command and returns the whole reply. The master refuses connections for a
// moment while it re-executes itself during a reload, so connection errors are retried until ctx
// ends.
func (m masterCLI) command(ctx context.Context, cmd string) (string, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		out, err := m.once(ctx, cmd)
		if err == nil {
			return out, nil
		}
		lastErr = err
		var opErr *net.OpError
		if !errors.As(err, &opErr) || opErr.Op != "dial" {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("master CLI %q: %w (last error: %v)", cmd, ctx.Err(), lastErr)
		case <-time.After(time.Duration(min(attempt+1, 10)) * 20 * time.Millisecond):
		}
	}
}

func (m masterCLI) once(ctx context.Context, cmd string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", m.path)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	} else {
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	}
	if _, err := conn.Write([]byte(cmd + ";quit\n")); err != nil {
		return "", fmt.Errorf("sending %q: %w", cmd, err)
	}
	var b strings.Builder
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading reply to %q: %w", cmd, err)
	}
	return b.String(), nil
}

// procState is what `show proc` says about the master and its current workers.
type procState struct {
	masterPID int
	reloads   int
	failed    int
	workers   []int // PIDs of current (not old) workers
}

// showProc reads and parses `show proc`.
func (m masterCLI) showProc(ctx context.Context) (procState, error) {
	out, err := m.command(ctx, "show proc")
	if err != nil {
		return procState{}, err
	}
	return parseShowProc(out)
}

// parseShowProc understands HAProxy 2.6 and later:
//
//	#<PID>          <type>          <reloads>       <uptime>        <version>
//	1234            master          2 [failed: 0]   0d00h00m05s     2.6.12
//	# workers
//	1240            worker          0               0d00h00m01s     2.6.12
//	# old workers
//	1237            worker          1               0d00h00m03s     2.6.12
//	# programs
//
// The columns are the same up to 3.2. 3.1 and later leave out "# programs" when there are none,
// list a new worker as current while it still loads its configuration, and after a failed reload
// list the worker that keeps serving under "# old workers" (testdata/showproc/*-3.2.txt).
func parseShowProc(out string) (procState, error) {
	var st procState
	section := "master"
	sawMaster := false
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "# workers"):
			section = "workers"
			continue
		case strings.HasPrefix(line, "#"):
			section = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		switch {
		case f[1] == "master":
			st.masterPID = pid
			st.reloads, _ = strconv.Atoi(f[2])
			if i := strings.Index(line, "[failed:"); i >= 0 {
				rest := strings.TrimSpace(line[i+len("[failed:"):])
				if j := strings.IndexByte(rest, ']'); j >= 0 {
					st.failed, _ = strconv.Atoi(strings.TrimSpace(rest[:j]))
				}
			}
			sawMaster = true
		case f[1] == "worker" && section == "workers":
			st.workers = append(st.workers, pid)
		}
	}
	if !sawMaster {
		return st, fmt.Errorf("unexpected show proc reply: %q", out)
	}
	return st, nil
}

// reloadOutcome is what the master says about a reload it was asked for.
type reloadOutcome int

const (
	// reloadUnreported: HAProxy 2.6 answers `reload` with nothing; the outcome shows in the
	// counters of `show proc`.
	reloadUnreported reloadOutcome = iota
	// reloadSucceeded: "Success=1" (2.7 and later, once the new worker is up).
	reloadSucceeded
	// reloadFailed: "Success=0": the new configuration was not loaded and the previous workers
	// keep serving.
	reloadFailed
	// reloadBusy: 3.1 and later refuse a reload while a worker is still loading its
	// configuration (just after a start or another reload); nothing was done.
	reloadBusy
)

// reloadReply is the master's answer to `reload`.
type reloadReply struct {
	outcome reloadOutcome
	// log is the start-up log that 2.7 and later send with the status.
	log string
}

// reload asks the master to reload and returns its answer. On 2.7 and later the answer comes once
// the new worker has loaded its configuration or failed to.
func (m masterCLI) reload(ctx context.Context) (reloadReply, error) {
	out, err := m.command(ctx, "reload")
	if err != nil {
		return reloadReply{}, err
	}
	return parseReloadReply(out)
}

// busyMessage is what 3.1 and later answer to a reload while a worker is still loading.
const busyMessage = "Another reload is still in progress."

// parseReloadReply understands the answers to `reload`: nothing on 2.6; on 2.7 and later a status
// line, then "--" and the master's start-up log when there is one:
//
//	Success=1
//	--
//	[NOTICE]   (16323) : New worker (16352) forked
//	[NOTICE]   (16323) : Loading success.
//
// "Success=0" reports a configuration that was not loaded, with the alerts in the log, or, on 3.1
// and later, a reload refused because another is still in progress (testdata/reload/).
func parseReloadReply(out string) (reloadReply, error) {
	out = strings.ReplaceAll(out, "\r\n", "\n")
	trimmed := strings.TrimSpace(out)
	if trimmed == "" {
		return reloadReply{outcome: reloadUnreported}, nil
	}
	status, log, _ := strings.Cut(trimmed, "\n")
	log = strings.TrimSpace(log)
	if log == "--" {
		log = ""
	} else if rest, ok := strings.CutPrefix(log, "--\n"); ok {
		log = strings.TrimSpace(rest)
	}
	switch strings.TrimSpace(status) {
	case "Success=1":
		return reloadReply{outcome: reloadSucceeded, log: log}, nil
	case "Success=0":
		if strings.HasPrefix(log, busyMessage) {
			return reloadReply{outcome: reloadBusy, log: log}, nil
		}
		return reloadReply{outcome: reloadFailed, log: log}, nil
	}
	return reloadReply{}, fmt.Errorf("unexpected reply to reload: %q", out)
}

// reason sums up a failed reload from its log: haproxy's alerts (the lines that say what it
// refused), else the log's last line.
func (r reloadReply) reason() string {
	var alerts []string
	lines := strings.Split(r.log, "\n")
	for _, line := range lines {
		if _, msg, ok := strings.Cut(line, "[ALERT]"); ok {
			// "[ALERT]    (16523) : config : parsing [...] : unknown keyword ..."
			if _, after, ok := strings.Cut(msg, ") : "); ok {
				msg = after
			}
			alerts = append(alerts, strings.TrimSpace(msg))
		}
	}
	if len(alerts) > 0 {
		return strings.Join(alerts, "; ")
	}
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return last
	}
	return "no reason given"
}
