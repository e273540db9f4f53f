package runtimeapi

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
)

// startHAProxy runs a real haproxy with a stats socket and one backend of two disabled slots.
func startHAProxy(t *testing.T) Client {
	c, _ := startHAProxyIn(t)
	return c
}

// startHAProxyIn is startHAProxy, also returning the directory holding its files (m.map).
func startHAProxyIn(t *testing.T) (Client, string) {
	t.Helper()
	bin := haproxytest.Binary(t)
	dir, err := os.MkdirTemp("", "rtapi-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	sock := filepath.Join(dir, "admin.sock")
	cfg := "global\n  stats socket " + sock + " mode 600 level admin\n" +
		"defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n" +
		"backend be\n  server s1 127.0.0.1:1 disabled\n  server s2 127.0.0.1:1 disabled\n" +
		"backend maps\n  http-request set-var(txn.x) path,map_str(" + filepath.Join(dir, "m.map") + ")\n"
	if err := os.WriteFile(filepath.Join(dir, "h.cfg"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.map"), []byte("/a one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-db", "-f", filepath.Join(dir, "h.cfg"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := Client{Socket: sock, Timeout: 2 * time.Second}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := c.Query(context.Background(), "show info"); err == nil {
			return c, dir
		} else if time.Now().After(deadline) {
			t.Fatalf("haproxy did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExecuteReportsEachFailingCommand(t *testing.T) {
	c := startHAProxy(t)
	ctx := context.Background()
	err := c.Execute(ctx, []string{
		"set server be/s1 addr 127.0.0.2 port 8080",
		"set server be/nope state ready",
		"set server be/s1 state ready",
		"no such command",
	})
	if err == nil {
		t.Fatal("expected errors")
	}
	msg := err.Error()
	for _, want := range []string{"set server be/nope state ready: No such server", "no such command: Unknown command"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "be/s1") {
		t.Errorf("a successful command was reported as failed: %q", msg)
	}
	out, err := c.Query(ctx, "show servers state be")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "s1 127.0.0.2") {
		t.Errorf("the address change did not take: %s", out)
	}
}

func TestExecuteBatchesManyCommands(t *testing.T) {
	c := startHAProxy(t)
	var cmds []string
	for range 120 {
		cmds = append(cmds, "set weight be/s2 3")
	}
	if err := c.Execute(context.Background(), cmds); err != nil {
		t.Fatal(err)
	}
	out, err := c.Query(context.Background(), "get weight be/s2")
	if err != nil || !strings.HasPrefix(out, "3 ") {
		t.Errorf("get weight: %q, %v", out, err)
	}
}

func TestRefusesSeparatorsInCommands(t *testing.T) {
	c := Client{Socket: "/nonexistent"}
	for _, cmd := range []string{"show info;shutdown sessions", "show info\nshutdown", "x\r"} {
		if err := c.Execute(context.Background(), []string{cmd}); err == nil || !strings.Contains(err.Error(), "separator") {
			t.Errorf("%q: got %v, want a refusal", cmd, err)
		}
	}
	if err := c.ExecutePayload(context.Background(), "add map m", "a b\n\nshutdown"); err == nil {
		t.Error("a payload with an empty line was accepted")
	}
}

func TestExecutePayloadAddsMapEntries(t *testing.T) {
	c, dir := startHAProxyIn(t)
	ctx := context.Background()
	m := filepath.Join(dir, "m.map")
	if err := c.ExecutePayload(ctx, "add map "+m, "/b two\n/c three\n"); err != nil {
		t.Fatal(err)
	}
	got, err := c.Query(ctx, "show map "+m)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/a one", "/b two", "/c three"} {
		if !strings.Contains(got, want) {
			t.Errorf("map lacks %q: %s", want, got)
		}
	}
	if err := c.ExecutePayload(ctx, "add map /no/such.map", "/d four\n"); err == nil {
		t.Error("adding to an unknown map reported no error")
	}
}
