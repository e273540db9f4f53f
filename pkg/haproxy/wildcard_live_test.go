package haproxy_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/runtimeapi"
)

// replaceMap swaps a map's entries through the runtime API as the controller does
// (process.Master): prepare, add in the order of the file, commit.
func replaceMap(t *testing.T, dir, name string, content []byte) {
	t.Helper()
	c := runtimeapi.Client{Socket: filepath.Join(dir, "admin.sock"), Timeout: 5 * time.Second}
	ctx := context.Background()
	out, err := c.Query(ctx, "prepare map "+name)
	if err != nil {
		t.Fatal(err)
	}
	_, ver, ok := strings.Cut(strings.TrimSpace(out), "New version created:")
	if !ok {
		t.Fatalf("prepare map %s: %q", name, out)
	}
	ver = strings.TrimSpace(ver)
	var cmds []string
	for line := range strings.Lines(string(content)) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			cmds = append(cmds, fmt.Sprintf("add map @%s %s %s %s", ver, name, runtimeapi.Escape(k), runtimeapi.Escape(v)))
		}
	}
	if err := c.Execute(ctx, append(cmds, fmt.Sprintf("commit map @%s %s", ver, name))); err != nil {
		t.Fatal(err)
	}
}

// TestMultiLabelWildcardsOnRealHAProxy: Gateway API wildcards match one or more labels, the
// longest matching wildcard first, falling through to shorter ones when its routes do not match
// the path, then to the routes without a host; an Ingress wildcard of the same name keeps
// matching exactly one label. A wildcard added at runtime (a map change) keeps the order.
func TestMultiLabelWildcardsOnRealHAProxy(t *testing.T) {
	one, two, three := startEcho(t, "one"), startEcho(t, "two"), startEcho(t, "three")
	pDefault, pTable := freePort(t), freePort(t)
	const gw = "gw"
	rt := func(table, host string, multiLabel bool, path string, kind model.PathMatch, backend string) model.HTTPRoute {
		return model.HTTPRoute{Match: model.HTTPMatch{Table: table, Host: host, MultiLabel: multiLabel, Path: path, Kind: kind},
			Backends: []model.WeightedBackend{{Name: backend, Weight: 1}}}
	}
	cond := rt(gw, "*.bar.example.com", true, "/cond", model.MatchPrefix, "three")
	cond.Method = "POST"
	routes := []model.HTTPRoute{
		// The Ingress (one-label) wildcard of the default table.
		rt("", "*.example.com", false, "/", model.MatchPrefix, "three"),
		rt(gw, "www.example.com", false, "/", model.MatchExact, "three"),
		rt(gw, "*.example.com", true, "/", model.MatchPrefix, "one"),
		rt(gw, "*.bar.example.com", true, "/bar", model.MatchPrefix, "two"),
		cond,
		rt(gw, "*.foo.bar.example.com", true, "/foo", model.MatchExact, "three"),
		rt(gw, "*.other.com", true, "/only", model.MatchPrefix, "two"),
		rt(gw, "", false, "/hostless", model.MatchPrefix, "three"),
	}
	config := func(routes ...model.HTTPRoute) model.Config {
		c := model.Config{
			Listeners: []model.Listener{
				{Name: "http", Bind: model.Bind{Address: anyAddr, Port: pDefault}, Protocol: model.HTTP},
				{Name: "gw", Bind: model.Bind{Address: anyAddr, Port: pTable}, Protocol: model.HTTP, Table: gw},
			},
			Backends: []model.Backend{
				{Name: "one", Servers: []model.Server{{Address: one.Addr(), Port: one.Port()}}},
				{Name: "three", Servers: []model.Server{{Address: three.Addr(), Port: three.Port()}}},
				{Name: "two", Servers: []model.Server{{Address: two.Addr(), Port: two.Port()}}},
			},
			HTTPRoutes: routes,
		}
		c.Normalize()
		return c
	}
	cfg := config(routes...)
	dir := runHAProxy(t, cfg)
	def := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(pDefault)))
	tbl := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(pTable)))
	type req struct {
		addr, host, uri string
		status          int
		server          string
	}
	check := func(t *testing.T, cases []req) {
		t.Helper()
		for _, c := range cases {
			a := send(t, c.addr, c.host, c.uri)
			if a.status != c.status || a.echo.Server != c.server {
				t.Errorf("%s %s%s: status %d from %q, want %d from %q", c.addr, c.host, c.uri, a.status, a.echo.Server, c.status, c.server)
			}
		}
	}
	served := []req{
		{tbl, "www.example.com", "/", 200, "three"},
		{tbl, "www.example.com", "/x", 200, "one"}, // the exact host's routes miss: its wildcard
		{tbl, "foo.example.com", "/", 200, "one"},
		{tbl, "a.b.c.example.com", "/x", 200, "one"},
		{tbl, "example.com", "/", 404, ""},
		{tbl, ".example.com", "/", 404, ""},
		{tbl, "bar.example.com", "/bar", 200, "one"}, // *.bar.example.com needs a label more
		{tbl, "foo.bar.example.com", "/bar/x", 200, "two"},
		{tbl, "a.b.bar.example.com", "/bar", 200, "two"},
		// The longest wildcard's routes miss the path: the next shorter wildcard's apply.
		{tbl, "foo.bar.example.com", "/other", 200, "one"},
		{tbl, "foo.bar.example.com", "/cond", 200, "one"}, // a GET: the POST route misses
		{tbl, "x.foo.bar.example.com", "/foo", 200, "three"},
		{tbl, "x.foo.bar.example.com", "/bar", 200, "two"},
		{tbl, "x.foo.bar.example.com", "/baz", 200, "one"},
		{tbl, "multiple.prefixes.other.com", "/only/x", 200, "two"},
		// No wildcard's routes match: the routes without a host.
		{tbl, "a.other.com", "/hostless", 200, "three"},
		{tbl, "a.other.com", "/x", 404, ""},
		{tbl, "other.com", "/only", 404, ""},
		// The Ingress wildcard matches exactly one label.
		{def, "foo.example.com", "/", 200, "three"},
		{def, "foo.bar.example.com", "/", 404, ""},
		{def, "example.com", "/", 404, ""},
	}
	t.Run("the longest matching wildcard first, then shorter ones", func(t *testing.T) {
		check(t, served)
	})

	// A wildcard added beside the others is a map change: the new maps are loaded at runtime
	// and map_end still finds the longest suffix first.
	desired := config(append(routes, rt(gw, "*.new.example.com", true, "/", model.MatchPrefix, "two"))...)
	before, err := haproxy.Render(cfg, haproxy.Env{RuntimeDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	after, err := haproxy.Render(desired, haproxy.Env{RuntimeDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if string(before[haproxy.ConfigFile]) != string(after[haproxy.ConfigFile]) {
		t.Fatal("a wildcard beside the others changes haproxy.cfg: it would take a reload")
	}
	for _, name := range []string{haproxy.WildcardMap(gw), haproxy.PrefixMap(gw)} {
		replaceMap(t, dir, name, after[name])
	}
	t.Run("a wildcard added at runtime", func(t *testing.T) {
		check(t, append(served,
			req{tbl, "a.new.example.com", "/x", 200, "two"},
			req{tbl, "a.b.new.example.com", "/", 200, "two"},
			req{tbl, "new.example.com", "/", 200, "one"},
		))
	})
}
