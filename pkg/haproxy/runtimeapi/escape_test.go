package runtimeapi

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A map key with a semicolon (a legal path character) reaches the real haproxy whole once
// escaped; an unescaped one is refused as a separator before anything is sent.
func TestEscapedSemicolonReachesTheMap(t *testing.T) {
	c, dir := startHAProxyIn(t)
	m := filepath.Join(dir, "m.map")
	key := `/a;b=c\d`
	if err := c.Execute(context.Background(), []string{"add map " + m + " " + Escape(key) + " " + Escape("be;x")}); err != nil {
		t.Fatalf("adding an escaped key: %v", err)
	}
	out, err := c.Query(context.Background(), "show map "+m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, key+" be;x") {
		t.Errorf("show map lacks %q:\n%s", key+" be;x", out)
	}
	if err := c.Execute(context.Background(), []string{"add map " + m + " /x;y z"}); err == nil || !strings.Contains(err.Error(), "separator") {
		t.Errorf("an unescaped semicolon: %v, want a refusal", err)
	}
}

func TestSeparated(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want bool
	}{
		{`add map m /a b`, false},
		{`add map m /a\;b c`, false},
		{`add map m /a\\;b c`, true}, // an escaped backslash, then a separator
		{`add map m /a;b c`, true},
		{"set server a/b\nstate ready", true},
	} {
		if got := separated(tc.cmd); got != tc.want {
			t.Errorf("separated(%q) = %v, want %v", tc.cmd, got, tc.want)
		}
	}
}
