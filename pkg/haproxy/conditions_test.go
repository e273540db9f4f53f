package haproxy

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// Conditional routes render as frontend rules in precedence order, their host leaves the maps,
// the configuration passes the real haproxy -c, and a change of one reloads while a plain route
// change does not.
func TestConditionalRoutes(t *testing.T) {
	be := func(name string) model.Backend {
		return model.Backend{Name: name, Servers: []model.Server{{Address: netip.MustParseAddr("10.0.0.1"), Port: 80}}}
	}
	route := func(host, path string, kind model.PathMatch, backend string) model.HTTPRoute {
		return model.HTTPRoute{Match: model.HTTPMatch{Host: host, Path: path, Kind: kind}, Backends: []model.WeightedBackend{{Name: backend, Weight: 1}}}
	}
	withHeader := route("api.example", "/", model.MatchPrefix, "ns_v2_80")
	withHeader.Headers = []model.ValueMatch{{Name: "X-Version", Value: "two"}}
	withMethod := route("api.example", "/", model.MatchPrefix, "ns_post_80")
	withMethod.Method = "POST"
	regex := route("api.example", `^/items/\d+$`, model.MatchRegex, "ns_items_80")
	withQuery := route("", "/search", model.MatchPrefix, "ns_search_80")
	withQuery.Query = []model.ValueMatch{{Name: "q", Value: "^a.*", Regex: true}}
	cfg := model.Config{
		Listeners: []model.Listener{{Name: "http", Bind: model.Bind{Address: netip.MustParseAddr("127.0.0.1"), Port: 8080}, Protocol: model.HTTP}},
		HTTPRoutes: []model.HTTPRoute{
			route("api.example", "/", model.MatchPrefix, "ns_v1_80"),
			route("api.example", "/exact", model.MatchExact, "ns_v1_80"),
			withHeader, withMethod, regex, withQuery,
			route("plain.example", "/", model.MatchPrefix, "ns_v1_80"),
		},
		Backends: []model.Backend{be("ns_items_80"), be("ns_post_80"), be("ns_search_80"), be("ns_v1_80"), be("ns_v2_80")},
	}
	cfg.Normalize()
	files, err := Render(cfg, Env{RuntimeDir: "/run/portcullis"})
	if err != nil {
		t.Fatal(err)
	}
	conf := string(files[ConfigFile])
	order := []string{
		"str(ns_v1_80) if { var(txn.host) -m str api.example } { var(txn.path) -m str /exact }",
		`str(ns_items_80) if { var(txn.host) -m str api.example } { var(txn.path) -m reg ^/items/\\d+$ }`,
		"str(ns_post_80) if { var(txn.host) -m str api.example } { method POST }",
		`str(ns_v2_80) if { var(txn.host) -m str api.example } { req.hdr(X-Version) -m str "two" }`,
		"str(ns_v1_80) if { var(txn.host) -m str api.example } !{ var(txn.backend) -m found }",
		"var(txn.hostpath),map_str(maps/path-exact.map)",
		`str(ns_search_80) if { var(txn.path) -m reg ^/search(/|$) } { url_param(q) -m reg ^a.* }`,
	}
	last := -1
	for _, want := range order {
		i := strings.Index(conf, want)
		if i < 0 {
			t.Fatalf("haproxy.cfg lacks %q:\n%s", want, conf)
		}
		if i < last {
			t.Errorf("%q comes too early:\n%s", want, conf)
		}
		last = i
	}
	if m := string(files[PrefixMapFile]); strings.Contains(m, "api.example") || !strings.Contains(m, "plain.example/ ns_v1_80") {
		t.Errorf("prefix map should hold plain.example only:\n%s", m)
	}
	checkWithHAProxy(t, files)

	applied := NewPlan(nil, cfg).Next
	plain := cfg
	plain.HTTPRoutes = append([]model.HTTPRoute{route("other.example", "/", model.MatchPrefix, "ns_v1_80")}, cfg.HTTPRoutes...)
	plain.Normalize()
	if p := NewPlan(&applied, plain); p.Reload() {
		t.Errorf("a plain route added: reload %v, want a map update", p.Reasons)
	}
	changed := cfg
	changed.HTTPRoutes = append([]model.HTTPRoute(nil), cfg.HTTPRoutes...)
	for i := range changed.HTTPRoutes {
		if changed.HTTPRoutes[i].Method == "POST" {
			changed.HTTPRoutes[i].Method = "PUT"
		}
	}
	changed.Normalize()
	if p := NewPlan(&applied, changed); !p.Reload() || p.Reasons[0].Kind != ReasonRouteRules {
		t.Errorf("a conditional route changed: reasons %v, want %s", p.Reasons, ReasonRouteRules)
	}
}

func TestConditionChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*model.HTTPRoute)
	}{
		{"a header value with a quote", func(r *model.HTTPRoute) { r.Headers = []model.ValueMatch{{Name: "X", Value: `a"b`}} }},
		{"a regex with a space", func(r *model.HTTPRoute) { r.Match.Kind, r.Match.Path = model.MatchRegex, "^/a b" }},
		{"a regex that RE2 refuses", func(r *model.HTTPRoute) { r.Match.Kind, r.Match.Path = model.MatchRegex, "^/(a" }},
		{"a regex that is an operator", func(r *model.HTTPRoute) { r.Query = []model.ValueMatch{{Name: "q", Value: "||", Regex: true}} }},
		{"a lower-case method", func(r *model.HTTPRoute) { r.Method = "get" }},
		{"a header name with a colon", func(r *model.HTTPRoute) { r.Headers = []model.ValueMatch{{Name: "X:Y", Value: "a"}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := model.HTTPRoute{Match: model.HTTPMatch{Host: "a.example", Path: "/", Kind: model.MatchPrefix}}
			tc.edit(&rt)
			if errs := checkConditions("route", rt); len(errs) == 0 {
				t.Errorf("accepted %+v", rt)
			}
		})
	}
}

// checkWithHAProxy runs the real haproxy -c on rendered files.
func checkWithHAProxy(t *testing.T, files Files) {
	t.Helper()
	// haproxytest.Binary, which this package's tests cannot import (haproxytest imports it).
	name := "haproxy"
	if bin := os.Getenv("PORTCULLIS_HAPROXY"); bin != "" {
		name = bin
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("no haproxy to test (%v): run e2e/tools/install-deps.sh, or set PORTCULLIS_HAPROXY", err)
	}
	dir := t.TempDir()
	for name, b := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(bin, "-c", "-q", "-C", dir, "-f", ConfigFile).CombinedOutput(); err != nil {
		t.Errorf("haproxy -c: %v\n%s\n%s", err, out, files[ConfigFile])
	}
}
