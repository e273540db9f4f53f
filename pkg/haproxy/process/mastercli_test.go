package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
)

func (s procState) String() string {
	return fmt.Sprintf("{master %d, reloads %d, failed %d, workers %v}", s.masterPID, s.reloads, s.failed, s.workers)
}

func equalProcState(a, b procState) bool {
	return a.masterPID == b.masterPID && a.reloads == b.reloads && a.failed == b.failed && slices.Equal(a.workers, b.workers)
}

func TestParseShowProc(t *testing.T) {
	// The files under testdata/showproc are verbatim replies to `show proc` on the master CLI of
	// HAProxy 2.6.12 (no suffix), 3.0.11 (-3.0) and 3.2.0 (-3.2): just started, after reloads
	// that left old workers behind (kept alive by open connections), after a reload with a
	// broken configuration, and after the next good reload.
	tests := []struct {
		name  string
		file  string // under testdata/showproc, or "" for in
		in    string
		want  procState
		isErr bool
	}{
		{
			name: "a master that has just started with its first worker",
			file: "fresh.txt",
			want: procState{masterPID: 19667, reloads: 0, failed: 0, workers: []int{19670}},
		},
		{
			name: "after a reload, the old worker still finishing its connections is not current",
			file: "one-old-worker.txt",
			want: procState{masterPID: 19667, reloads: 1, failed: 0, workers: []int{29369}},
		},
		{
			name: "after several reloads, two old workers are not current",
			file: "two-old-workers.txt",
			want: procState{masterPID: 19667, reloads: 7, failed: 0, workers: []int{30082}},
		},
		{
			name: "a failed reload counts as a reload and as a failure; the previous worker stays current",
			file: "failed-reload.txt",
			want: procState{masterPID: 19667, reloads: 3, failed: 1, workers: []int{29534}},
		},
		{
			name: "the next good reload clears the failure count",
			file: "recovered-after-failed-reload.txt",
			want: procState{masterPID: 19667, reloads: 4, failed: 0, workers: []int{29716}},
		},
		{
			name: "3.0: just started",
			file: "fresh-3.0.txt",
			want: procState{masterPID: 16323, workers: []int{16325}},
		},
		{
			name: "3.0: after a reload, with an old worker",
			file: "one-old-worker-3.0.txt",
			want: procState{masterPID: 16323, reloads: 1, workers: []int{16352}},
		},
		{
			name: "3.0: a failed reload leaves the previous worker current, as 2.6 does",
			file: "failed-reload-3.0.txt",
			want: procState{masterPID: 16323, reloads: 2, failed: 1, workers: []int{16352}},
		},
		{
			name: "3.0: the next good reload clears the failure count",
			file: "recovered-after-failed-reload-3.0.txt",
			want: procState{masterPID: 16323, reloads: 3, workers: []int{16358}},
		},
		{
			name: "3.2: just started, without a programs section",
			file: "fresh-3.2.txt",
			want: procState{masterPID: 16411, workers: []int{16413}},
		},
		{
			name: "3.2: after a reload, with an old worker",
			file: "one-old-worker-3.2.txt",
			want: procState{masterPID: 16411, reloads: 1, workers: []int{16515}},
		},
		{
			name: "3.2: after a failed reload the worker that keeps serving is listed as old, and none as current",
			file: "failed-reload-3.2.txt",
			want: procState{masterPID: 16411, reloads: 2, failed: 1},
		},
		{
			name: "3.2: the next good reload clears the failure count",
			file: "recovered-after-failed-reload-3.2.txt",
			want: procState{masterPID: 16411, reloads: 3, workers: []int{16529}},
		},
		{
			name: "a master without workers yet",
			in: "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
				"4242            master          0 [failed: 0]   0d00h00m00s     2.6.12-1+deb12u4\n" +
				"# workers\n" +
				"# programs\n\n",
			want: procState{masterPID: 4242},
		},
		{
			name: "programs are not workers, even one named worker",
			in: "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
				"4242            master          2 [failed: 0]   0d00h01m00s     2.6.12-1+deb12u4\n" +
				"# workers\n" +
				"4250            worker          0               0d00h00m10s     2.6.12-1+deb12u4\n" +
				"# programs\n" +
				"4251            worker          0               0d00h00m10s     -\n" +
				"4252            dataplaneapi    0               0d00h00m10s     -\n\n",
			want: procState{masterPID: 4242, reloads: 2, workers: []int{4250}},
		},
		{
			name: "several failures in a row and a large reload count",
			in: "#<PID>          <type>          <reloads>       <uptime>        <version>      \n" +
				"7               master          1234 [failed: 12] 12d03h04m05s  2.6.12-1+deb12u4\n" +
				"# workers\n" +
				"99999           worker          12              0d00h00m10s     2.6.12-1+deb12u4\n\n",
			want: procState{masterPID: 7, reloads: 1234, failed: 12, workers: []int{99999}},
		},
		{
			name: "carriage returns and surrounding blank lines are tolerated",
			in: "\r\n#<PID>          <type>          <reloads>       <uptime>        <version>\r\n" +
				"4242            master          0 [failed: 0]   0d00h00m00s     2.6.12\r\n" +
				"# workers\r\n" +
				"4250            worker          0               0d00h00m00s     2.6.12\r\n\r\n",
			want: procState{masterPID: 4242, workers: []int{4250}},
		},
		{
			name:  "an empty reply is an error",
			in:    "",
			isErr: true,
		},
		{
			name:  "an unknown-command reply is an error",
			in:    "Unknown command, but maybe one of the following ones is a better match:\n  @master : send a command to the master process\n\n",
			isErr: true,
		},
		{
			name:  "a permission error is an error",
			in:    "Permission denied\n\n",
			isErr: true,
		},
		{
			name:  "workers without a master line is an error",
			in:    "# workers\n4250            worker          0               0d00h00m00s     2.6.12\n",
			isErr: true,
		},
		{
			name:  "binary garbage is an error",
			in:    "\x00\x01\x02 master\xff\n",
			isErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if tt.file != "" {
				b, err := os.ReadFile(filepath.Join("testdata", "showproc", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				in = string(b)
			}
			got, err := parseShowProc(in)
			if tt.isErr {
				if err == nil {
					t.Errorf("parseShowProc(%q) = %v, want an error", in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseShowProc: %v", err)
			}
			if !equalProcState(got, tt.want) {
				t.Errorf("parseShowProc = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMasterCLIAgainstRealHAProxy drives a real haproxy master through masterCLI: every command
// must come back promptly (the master keeps a connection open unless told to quit), `show proc`
// must parse, and reloads, good and bad, must show in the counters.
func TestMasterCLIAgainstRealHAProxy(t *testing.T) {
	bin := haproxytest.Binary(t)
	// Unix socket paths are limited to about 100 bytes: keep the directory short.
	dir, err := os.MkdirTemp("", "pc-mcli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	good := fmt.Sprintf(`global
  stats timeout 2m

defaults
  mode http
  timeout connect 5s
  timeout client 5s
  timeout server 5s

frontend http
  bind unix@%s
  default_backend none

backend none
`, filepath.Join(dir, "http.sock"))
	if err := os.WriteFile(cfgPath, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "master.sock")
	cmd := exec.Command(bin, "-W", "-S", sock+",mode,600", "-f", cfgPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// The master and its workers share the process group started above.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("haproxy output:\n%s", out.String())
		}
	})

	cli := masterCLI{path: sock}
	// show runs one `show proc`, which must answer well before its deadline.
	show := func() (procState, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		st, err := cli.showProc(ctx)
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Fatalf("show proc took %s: the connection is not closed after the reply", elapsed)
		}
		return st, err
	}
	// waitFor polls `show proc` until cond holds.
	waitFor := func(what string, cond func(procState) bool) procState {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		var last procState
		var lastErr error
		for time.Now().Before(deadline) {
			select {
			case <-exited:
				t.Fatalf("haproxy exited while waiting for %s", what)
			default:
			}
			st, err := show()
			if err == nil && cond(st) {
				return st
			}
			last, lastErr = st, err
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("waiting for %s: last state %v, last error %v", what, last, lastErr)
		return procState{}
	}

	started := waitFor("the first worker", func(s procState) bool { return len(s.workers) > 0 })
	if started.masterPID != cmd.Process.Pid || started.reloads != 0 || started.failed != 0 || len(started.workers) != 1 {
		t.Fatalf("after start: %v, want master %d, no reloads, no failures, one worker", started, cmd.Process.Pid)
	}

	// reload asks for a reload and returns the answer. 3.1 and later refuse a reload while a
	// worker still loads its configuration, as the first one may just after start: ask again.
	reload := func() reloadReply {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			start := time.Now()
			reply, err := cli.reload(ctx)
			cancel()
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Fatalf("reload took %s: the connection is not closed after the reply", elapsed)
			}
			if reply.outcome != reloadBusy {
				return reply
			}
			if time.Now().After(deadline) {
				t.Fatalf("reload: still refused after 10 s: %q", reply.log)
			}
			time.Sleep(reloadBusyRetry)
		}
	}
	// 2.6 answers nothing; 2.7 and later say how the reload went.
	reports := reportsReloads(t, bin)
	wantOutcome := func(what string, got reloadReply, want reloadOutcome) {
		t.Helper()
		if !reports {
			want = reloadUnreported
		}
		if got.outcome != want {
			t.Fatalf("%s: reload answered %+v, want outcome %d", what, got, want)
		}
	}

	wantOutcome("a good reload", reload(), reloadSucceeded)
	reloaded := waitFor("the first reload", func(s procState) bool { return s.reloads == 1 && len(s.workers) > 0 })
	if reloaded.failed != 0 || len(reloaded.workers) != 1 || reloaded.workers[0] == started.workers[0] {
		t.Fatalf("after a good reload: %v, want no failures and one new worker (the old one was %d)", reloaded, started.workers[0])
	}

	if err := os.WriteFile(cfgPath, []byte(good+"  no-such-directive\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := reload()
	wantOutcome("a bad reload", bad, reloadFailed)
	if reports && !strings.Contains(bad.reason(), "no-such-directive") {
		t.Errorf("the failed reload's reason %q does not name the bad keyword", bad.reason())
	}
	failed := waitFor("the failed reload", func(s procState) bool { return s.reloads == 2 })
	// The previous worker keeps serving: still current up to 3.0; listed as an old worker from
	// 3.1 on, with no current worker.
	if failed.failed != 1 || !(slices.Equal(failed.workers, reloaded.workers) || len(failed.workers) == 0) {
		t.Fatalf("after a bad reload: %v, want one failure and the previous worker %v still serving", failed, reloaded.workers)
	}
	if err := syscall.Kill(reloaded.workers[0], 0); err != nil {
		t.Fatalf("after a bad reload the previous worker %d is gone: %v", reloaded.workers[0], err)
	}

	if err := os.WriteFile(cfgPath, []byte(good), 0o644); err != nil {
		t.Fatal(err)
	}
	wantOutcome("a good reload after a bad one", reload(), reloadSucceeded)
	recovered := waitFor("the recovering reload", func(s procState) bool { return s.reloads == 3 && len(s.workers) > 0 })
	if recovered.failed != 0 || len(recovered.workers) != 1 || recovered.workers[0] == reloaded.workers[0] {
		t.Fatalf("after a good reload following a bad one: %v, want no failures and a new worker", recovered)
	}
}

// reportsReloads reports whether the haproxy binary answers `reload` on the master CLI with the
// outcome, which HAProxy does from 2.7 on.
func reportsReloads(t *testing.T, bin string) bool {
	t.Helper()
	out, err := exec.Command(bin, "-v").Output()
	if err != nil {
		t.Fatalf("%s -v: %v", bin, err)
	}
	// "HAProxy version 3.0.11-9e587df 2025/06/02 - https://haproxy.org/" (2.6: "HAProxy version 2.6.12-1+deb12u4 ...")
	var major, minor int
	if _, err := fmt.Sscanf(string(out), "HAProxy version %d.%d", &major, &minor); err != nil {
		t.Fatalf("parsing the version in %q: %v", out, err)
	}
	return major > 2 || major == 2 && minor >= 7
}

func TestParseReloadReply(t *testing.T) {
	// The files under testdata/reload are verbatim answers to `reload` of HAProxy 3.0.11 and
	// 3.2.0 (paths aside); HAProxy 2.6 answers nothing.
	tests := []struct {
		name       string
		file       string // under testdata/reload, or "" for in
		in         string
		want       reloadOutcome
		wantReason string // for failures
		isErr      bool
	}{
		{name: "2.6 answers nothing", in: "", want: reloadUnreported},
		{name: "2.6 answers nothing, or a blank line", in: "\n\n", want: reloadUnreported},
		{name: "3.0: a good reload", file: "success-3.0.txt", want: reloadSucceeded},
		{name: "3.0: a good reload with the previous worker's exit in the log", file: "success-with-log-3.0.txt", want: reloadSucceeded},
		{
			name: "3.0: a bad configuration is reported with haproxy's alerts", file: "failed-3.0.txt", want: reloadFailed,
			wantReason: "config : parsing [/etc/portcullis/haproxy.cfg:18] : unknown keyword 'no-such-directive' in 'backend' section; " +
				"config : Error(s) found in configuration file : /etc/portcullis/haproxy.cfg; config : Fatal errors found in configuration.",
		},
		{name: "3.2: a good reload", file: "success-3.2.txt", want: reloadSucceeded},
		{name: "3.2: a good reload with the previous worker's exit in the log", file: "success-with-log-3.2.txt", want: reloadSucceeded},
		{
			name: "3.2: a bad configuration is reported with the new worker's alerts", file: "failed-3.2.txt", want: reloadFailed,
			wantReason: "config : parsing [/etc/portcullis/haproxy.cfg:18] : unknown keyword 'no-such-directive' in 'backend' section; " +
				"config : Error(s) found in configuration file : /etc/portcullis/haproxy.cfg; config : Fatal errors found in configuration.",
		},
		{name: "3.2: a reload refused while a worker is still loading", file: "busy-3.2.txt", want: reloadBusy},
		{name: "a failure without a log", in: "Success=0\n", want: reloadFailed, wantReason: "no reason given"},
		{name: "a failure without alerts gives the log's last line", in: "Success=0\n--\n[WARNING]  (1) : Loading failure!\n", want: reloadFailed, wantReason: "[WARNING]  (1) : Loading failure!"},
		{name: "carriage returns are tolerated", in: "Success=1\r\n--\r\n[NOTICE]   (1) : Loading success.\r\n\r\n", want: reloadSucceeded},
		{name: "a permission error is an error", in: "Permission denied\n\n", isErr: true},
		{name: "an unknown-command reply is an error", in: "Unknown command, but maybe one of the following ones is a better match:\n  reload\n", isErr: true},
		{name: "a status other than 0 or 1 is an error", in: "Success=2\n", isErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if tt.file != "" {
				b, err := os.ReadFile(filepath.Join("testdata", "reload", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				in = string(b)
			}
			got, err := parseReloadReply(in)
			if tt.isErr {
				if err == nil {
					t.Errorf("parseReloadReply(%q) = %+v, want an error", in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseReloadReply: %v", err)
			}
			if got.outcome != tt.want {
				t.Errorf("parseReloadReply(%q): outcome %d, want %d", in, got.outcome, tt.want)
			}
			if tt.wantReason != "" && got.reason() != tt.wantReason {
				t.Errorf("reason = %q, want %q", got.reason(), tt.wantReason)
			}
		})
	}
}

// A socket that does not exist is retried until the context ends; the error says so.
func TestMasterCLIRetriesUntilTheContextEnds(t *testing.T) {
	cli := masterCLI{path: filepath.Join(t.TempDir(), "absent.sock")}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := cli.command(ctx, "show proc")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("command on a missing socket: %v, want an error wrapping %v", err, context.DeadlineExceeded)
	}
}
