package haproxy_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// frontendOf returns the lines of a frontend section of haproxy.cfg, trimmed.
func frontendOf(cfg, name string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(cfg, "\n") {
		if line != "" && line[0] != ' ' {
			in = line == "frontend "+name
			continue
		}
		if in && strings.TrimSpace(line) != "" {
			out = append(out, strings.TrimSpace(line))
		}
	}
	return out
}

func inTable(rt model.HTTPRoute, table string) model.HTTPRoute {
	rt.Match.Table = table
	return rt
}

// tablesConfig has the default table on the operator's HTTP and HTTPS listeners, with an HTTPS
// redirect, and two Gateway tables: one on its own port of every address, one on a specific
// address sharing the default HTTP listener's port.
func tablesConfig() model.Config {
	c := withHTTPS(validConfig())
	c.Listeners = append(c.Listeners,
		model.Listener{Name: "gw-p9090", Bind: model.Bind{Address: anyAddr, Port: 9090}, Protocol: model.HTTP, Table: "gw-p9090"},
		model.Listener{Name: "gw-127-0-0-2-p8080", Bind: model.Bind{Address: netip.MustParseAddr("127.0.0.2"), Port: 8080}, Protocol: model.HTTP,
			Table: "gw-127-0-0-2-p8080", AcceptProxy: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}},
	)
	cond := inTable(prefixRoute("cond.example", "/", "ns_web_80"), "gw-p9090")
	cond.Method = "POST"
	c.HTTPRoutes = append(c.HTTPRoutes,
		inTable(prefixRoute("example.com", "/gw", "ns_web_80"), "gw-p9090"),
		inTable(prefixRoute("*.example.com", "/", "ns_web_80"), "gw-p9090"),
		cond,
		inTable(exactRoute("", "/only", "ns_web_80"), "gw-127-0-0-2-p8080"),
		// A route of a table that no listener serves is served nowhere.
		inTable(exactRoute("nowhere.example", "/", "ns_web_80"), "gw-gone"),
	)
	c.HTTPSRedirects = []model.HTTPSRedirect{{Host: "example.com", Code: 301}}
	c.DefaultBackend = "ns_web_80"
	c.Normalize()
	return c
}

func TestRenderRouteTables(t *testing.T) {
	files, err := haproxy.Render(tablesConfig(), testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	cfg := string(files[haproxy.ConfigFile])
	def, gw, addr := frontendOf(cfg, "http"), frontendOf(cfg, "http_gw-p9090"), frontendOf(cfg, "http_gw-127-0-0-2-p8080")
	if len(def) == 0 || len(gw) == 0 || len(addr) == 0 {
		t.Fatalf("want the frontends http, http_gw-p9090 and http_gw-127-0-0-2-p8080:\n%s", cfg)
	}
	has := func(lines []string, sub string) bool {
		return strings.Contains(strings.Join(lines, "\n"), sub)
	}
	for _, c := range []struct {
		what  string
		lines []string
		sub   string
		want  bool
	}{
		{"the default frontend binds the operator's listeners", def, "bind 0.0.0.0:8080 name http\nbind 0.0.0.0:8443 name https", true},
		{"the default frontend binds no table's listener", def, "gw-", false},
		{"the default frontend reads the default maps", def, "map_str(maps/path-exact.map)", true},
		{"the default frontend redirects to HTTPS", def, "redirect location https://", true},
		{"the default frontend has no conditional route of another table", def, "method POST", false},
		{"a table's frontend binds its listener", gw, "bind 0.0.0.0:9090 name gw-p9090", true},
		{"a table's frontend reads its own maps", gw, "map_beg(maps/path-prefix-gw-p9090.map)", true},
		{"a table's frontend reads no other map", gw, "maps/path-exact.map", false},
		{"a table's frontend has its conditional routes", gw, "{ var(txn.host) -m str cond.example } { method POST }", true},
		{"a table's frontend looks wildcard hosts up", gw, "var(txn.wildpath),map_str(maps/path-exact-gw-p9090.map)", true},
		{"a table's frontend has no hostless stage without hostless routes", gw, "var(txn.path),map", false},
		{"HTTPS redirects are the default table's only", gw, "redirect", false},
		{"every table has the default backend", gw, "default_backend ns_web_80", true},
		{"a specific address shares a port with the unspecified one", addr, "bind 127.0.0.2:8080 name gw-127-0-0-2-p8080", true},
		{"a table's listener has its PROXY protocol networks", addr, "tcp-request connection expect-proxy layer4 if { dst_port 8080 } { src 10.0.0.0/8 }", true},
		{"a table with only hostless routes looks the path up", addr, "var(txn.path),map_str(maps/path-exact-gw-127-0-0-2-p8080.map)", true},
		{"a table without wildcard routes computes no wildcard", addr, "wildhost", false},
		{"every table has the default backend", addr, "default_backend ns_web_80", true},
	} {
		if has(c.lines, c.sub) != c.want {
			t.Errorf("%s: contains %q is %t, want %t", c.what, c.sub, !c.want, c.want)
		}
	}
	for name, want := range map[string]string{
		haproxy.ExactMapFile:                      "/health ns_web_80\n",
		haproxy.PrefixMapFile:                     "example.com/ ns_web_80\n",
		"maps/path-exact-gw-p9090.map":            "example.com/gw ns_web_80\n",
		"maps/path-prefix-gw-p9090.map":           "*.example.com/ ns_web_80\nexample.com/gw/ ns_web_80\n",
		"maps/path-exact-gw-127-0-0-2-p8080.map":  "/only ns_web_80\n",
		"maps/path-prefix-gw-127-0-0-2-p8080.map": "",
	} {
		if got, ok := files[name]; !ok || string(got) != want {
			t.Errorf("%s = %q (present %t), want %q", name, got, ok, want)
		}
	}
	for name := range files {
		if strings.Contains(name, "gw-gone") {
			t.Errorf("%s: a table without a listener has maps", name)
		}
	}
	haproxyCheck(t, files)
}

func TestRenderRefusesBadTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*model.Config)
	}{
		{"a route table with a dot", func(c *model.Config) { c.HTTPRoutes[0].Match.Table = "gw.x" }},
		{"a listener table with upper case", func(c *model.Config) { c.Listeners[2].Table = "GW" }},
		{"a table on a TCP listener", func(c *model.Config) {
			c.Listeners = append(c.Listeners, model.Listener{Name: "db", Bind: model.Bind{Address: anyAddr, Port: 5432}, Protocol: model.TCP, Table: "db"})
		}},
		{"two listeners on the same address and port", func(c *model.Config) { c.Listeners[2].Bind = c.Listeners[0].Bind }},
		{"two listeners of one table on the same port", func(c *model.Config) {
			c.Listeners = append(c.Listeners, model.Listener{Name: "gw-p9090-b", Bind: model.Bind{Address: netip.MustParseAddr("127.0.0.3"), Port: 9090},
				Protocol: model.HTTP, Table: "gw-p9090"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tablesConfig()
			tc.edit(&c)
			if _, err := haproxy.Render(c, testEnv); err == nil {
				t.Error("Render accepted it")
			}
		})
	}
}
