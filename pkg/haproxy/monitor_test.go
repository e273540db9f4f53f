package haproxy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// The monitor answers from its backend's one server: taking it down is a runtime command, sent
// first, also when a reload follows, and a reload keeps it down.
func TestMonitor(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	cfg := model.Config{
		Listeners: []model.Listener{{Name: "http", Bind: model.Bind{Address: addr, Port: 8080}, Protocol: model.HTTP}},
		Monitor:   model.Monitor{Bind: model.Bind{Address: addr, Port: 1042}},
	}
	files, err := Render(cfg, Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[ConfigFile])
	for _, want := range []string{"bind 127.0.0.1:1042 name monitor", "monitor-uri /healthz", "monitor fail if { nbsrv(portcullis_monitor) lt 1 }", "server up 127.0.0.1:1\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("haproxy.cfg lacks %q:\n%s", want, conf)
		}
	}
	checkWithHAProxy(t, files)

	applied := NewPlan(nil, cfg).Next
	down := cfg
	down.Monitor.Down = true
	p := NewPlan(&applied, down)
	if p.Reload() || !slices.Equal(p.Commands, []string{"set server portcullis_monitor/up state maint"}) {
		t.Errorf("monitor down: reload %v, commands %q; want only the runtime command", p.Reasons, p.Commands)
	}
	down.Listeners = append(down.Listeners, model.Listener{Name: "tcp-5432", Bind: model.Bind{Address: addr, Port: 5432}, Protocol: model.TCP})
	p = NewPlan(&applied, down)
	if !p.Reload() || len(p.Commands) == 0 || p.Commands[0] != MonitorCommand(true) {
		t.Errorf("monitor down with a reload: commands %q, want the monitor command first", p.Commands)
	}
	files, err = Render(down, Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(files[ConfigFile]), "server up 127.0.0.1:1 disabled") {
		t.Errorf("a reload while down renders the monitor server up:\n%s", files[ConfigFile])
	}
}
