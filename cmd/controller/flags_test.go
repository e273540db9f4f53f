package main

import (
	"io"
	"net/netip"
	"slices"
	"testing"
)

// The pod's own addresses come from --pod-ip, else from $POD_IP (the downward API's
// status.podIPs, comma-separated); a value that is no address stops the controller.
func TestPodIPFlag(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		args      []string
		want      []netip.Addr
		fails     bool
	}{
		{name: "neither", want: nil},
		{name: "from the environment, dual-stack", env: "10.1.2.3,fd00::3", want: []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("fd00::3")}},
		{name: "the flag wins", env: "10.1.2.3", args: []string{"--pod-ip=10.9.9.9"}, want: []netip.Addr{netip.MustParseAddr("10.9.9.9")}},
		{name: "not an address", args: []string{"--pod-ip=pod-a"}, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("POD_IP", tc.env)
			c, err := parseFlags(tc.args, io.Discard)
			if (err != nil) != tc.fails {
				t.Fatalf("parseFlags(%q) with POD_IP=%q: %v", tc.args, tc.env, err)
			}
			if !tc.fails && !slices.Equal(c.podIPs, tc.want) {
				t.Errorf("pod addresses %v, want %v", c.podIPs, tc.want)
			}
		})
	}
	if _, err := parseFlags([]string{"--server-slot-budget=0"}, io.Discard); err == nil {
		t.Errorf("--server-slot-budget=0 was accepted")
	}
}
