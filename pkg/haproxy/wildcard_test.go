package haproxy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// multi marks a route's wildcard host as matching one or more labels (Gateway API).
func multi(rt model.HTTPRoute) model.HTTPRoute {
	rt.Match.MultiLabel = true
	return rt
}

// wildcardConfig has, in table gw, an exact host, nested multi-label wildcards (*.example.com,
// *.bar.example.com, *.foo.bar.example.com) and one beside them (*.other.com), a conditional
// route on one of them, and a hostless route; and in the default table an Ingress one-label
// wildcard with the same name as a multi-label one.
func wildcardConfig() model.Config {
	c := validConfig()
	c.Listeners = append(c.Listeners, model.Listener{Name: "gw", Bind: model.Bind{Address: anyAddr, Port: 9090}, Protocol: model.HTTP, Table: "gw"})
	cond := inTable(multi(prefixRoute("*.bar.example.com", "/cond", "ns_web_80")), "gw")
	cond.Method = "POST"
	c.HTTPRoutes = append(c.HTTPRoutes,
		prefixRoute("*.example.com", "/", "ns_web_80"),
		inTable(exactRoute("www.example.com", "/", "ns_web_80"), "gw"),
		inTable(multi(prefixRoute("*.example.com", "/", "ns_web_80")), "gw"),
		inTable(multi(prefixRoute("*.bar.example.com", "/bar", "ns_web_80")), "gw"),
		cond,
		inTable(multi(exactRoute("*.foo.bar.example.com", "/foo", "ns_web_80")), "gw"),
		inTable(multi(prefixRoute("*.other.com", "/", "ns_web_80")), "gw"),
		inTable(exactRoute("", "/hostless", "ns_web_80"), "gw"),
	)
	c.Normalize()
	return c
}

// TestRenderMultiLabelWildcards pins the frontend and maps of multi-label wildcards: after the
// exact host, one stage per wildcard of the longest nested chain (three here), each finding the
// next shorter wildcard in the wildcard map, its conditional routes as rules, then the route maps;
// the one-label wildcard of the default table keeps its own stage.
func TestRenderMultiLabelWildcards(t *testing.T) {
	files, err := haproxy.Render(wildcardConfig(), testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	cfg := string(files[haproxy.ConfigFile])
	const unfound = "unless { var(txn.backend) -m found }"
	step := func(k int) []string {
		host, path := fmt.Sprintf("txn.anyhost%d", k), fmt.Sprintf("txn.anypath%d", k)
		first := fmt.Sprintf("http-request set-var(%s) var(txn.anyhost%d),field(2,.,0),map_end(maps/host-wildcard-gw.map) %s", host, k-1, unfound)
		if k == 1 {
			first = "http-request set-var(txn.anyhost1) var(txn.host),map_end(maps/host-wildcard-gw.map) " + unfound + " || { var(txn.host) -m beg . }"
		}
		return []string{
			first,
			fmt.Sprintf("http-request set-var(%s) var(%s),concat(,txn.path,) %s", path, host, unfound),
			fmt.Sprintf("http-request set-var(txn.backend) str(ns_web_80) if { var(%s) -m str **.bar.example.com } { var(txn.path) -m reg ^/cond(/|$) } { method POST } !{ var(txn.backend) -m found }", host),
			fmt.Sprintf("http-request set-var(txn.backend) str(ns_web_80) if { var(%s) -m str **.bar.example.com } { var(txn.path) -m reg ^/bar(/|$) } !{ var(txn.backend) -m found }", host),
			fmt.Sprintf("http-request set-var(txn.backend) var(%s),map_str(maps/path-exact-gw.map) %s", path, unfound),
			fmt.Sprintf("http-request set-var(txn.backend) var(%s),map_beg(maps/path-prefix-gw.map) %s", path, unfound),
		}
	}
	want := []string{
		"mode http",
		"bind 0.0.0.0:9090 name gw",
		"http-request set-var(txn.host) req.hdr(host),field(1,:),lower",
		"http-request set-var(txn.path) path",
		"http-request deny deny_status 400 if { var(txn.host) -m sub / }",
		"http-request set-var(txn.hostpath) var(txn.host),concat(,txn.path,)",
		"http-request set-var(txn.backend) var(txn.hostpath),map_str(maps/path-exact-gw.map)",
		"http-request set-var(txn.backend) var(txn.hostpath),map_beg(maps/path-prefix-gw.map) " + unfound,
	}
	for k := 1; k <= 3; k++ {
		want = append(want, step(k)...)
	}
	want = append(want,
		"http-request set-var(txn.backend) var(txn.path),map_str(maps/path-exact-gw.map) "+unfound,
		"http-request set-var(txn.backend) var(txn.path),map_beg(maps/path-prefix-gw.map) "+unfound,
		"use_backend %[var(txn.backend)] if { var(txn.backend) -m found }",
		"default_backend portcullis_default",
		"http-after-response set-header Server portcullis unless { res.hdr(server) -m found }",
	)
	compareLines(t, "frontend http_gw", frontendOf(cfg, "http_gw"), want)
	// The default table has the Ingress wildcard only: its one-label stage, no wildcard map.
	def := strings.Join(frontendOf(cfg, "http"), "\n")
	if !strings.Contains(def, "set-var(txn.wildhost) str(*.),concat(,txn.wildrest,)") || strings.Contains(def, "anyhost") {
		t.Errorf("the default frontend:\n%s\nwant the one-label wildcard stage only", def)
	}
	if _, ok := files[haproxy.WildcardMap("")]; ok {
		t.Error("the default table has a wildcard map")
	}
	for name, content := range map[string]string{
		haproxy.WildcardMap("gw"): ".foo.bar.example.com **.foo.bar.example.com\n.bar.example.com **.bar.example.com\n.example.com **.example.com\n.other.com **.other.com\n",
		haproxy.ExactMap("gw"):    "/hostless ns_web_80\n**.foo.bar.example.com/foo ns_web_80\nwww.example.com/ ns_web_80\n",
		haproxy.PrefixMap("gw"):   "**.example.com/ ns_web_80\n**.other.com/ ns_web_80\n",
		haproxy.PrefixMap(""):     "*.example.com/ ns_web_80\nexample.com/ ns_web_80\n",
	} {
		if got := string(files[name]); got != content {
			t.Errorf("%s:\n%s\nwant\n%s", name, got, content)
		}
	}
	haproxyCheck(t, files)
}

// A route that says its host matches several labels must have a wildcard host.
func TestMultiLabelNeedsAWildcard(t *testing.T) {
	c := configFor(multi(prefixRoute("www.example.com", "/", "ns_web_80")))
	if _, err := haproxy.Render(c, testEnv); err == nil || !strings.Contains(err.Error(), "only a \"*.\" host") {
		t.Errorf("Render: %v, want the route refused", err)
	}
	if out, rej := haproxy.Prune(c); len(rej) != 1 || len(out.HTTPRoutes) != 0 {
		t.Errorf("Prune: %v, want the route left out", rej)
	}
}

// The Ingress and the Gateway API wildcard of one name are different routes: they do not
// conflict.
func TestMultiLabelIsPartOfTheRouteKey(t *testing.T) {
	a, b := prefixRoute("*.example.com", "/", "x"), multi(prefixRoute("*.example.com", "/", "x"))
	if a.Key() == b.Key() || model.CompareRoutes(a, b) >= 0 {
		t.Errorf("keys %v and %v: want them different, the one-label wildcard first", a.Key(), b.Key())
	}
}
