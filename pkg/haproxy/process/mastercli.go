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
