package haproxy_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// echoed is what the echo backends answer: who they are and the request as they received it.
type echoed struct {
	Server string      `json:"server"`
	URI    string      `json:"uri"`
	Host   string      `json:"host"`
	Header http.Header `json:"header"`
}

// startEcho serves echoed answers on a free port of 127.0.0.1; /slow answers after 3 s. It
// also sets two response headers that route policies change.
func startEcho(t *testing.T, name string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.Header().Set("X-Resp-Remove", "r")
		w.Header().Add("X-Resp-Add", "a")
		_ = json.NewEncoder(w).Encode(echoed{Server: name, URI: r.RequestURI, Host: r.Host, Header: r.Header})
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return netip.MustParseAddrPort(ln.Addr().String())
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) uint16 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return netip.MustParseAddrPort(ln.Addr().String()).Port()
}

// runHAProxy renders cfg, starts the real haproxy on it and waits until every listener accepts
// connections, and returns its runtime directory (the stats socket is admin.sock there). It is
// stopped at cleanup.
func runHAProxy(t *testing.T, cfg model.Config) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pc-live-") // the stats socket path must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	files, err := haproxy.Render(cfg, haproxy.Env{RuntimeDir: dir})
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	for name, b := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(haproxytest.Binary(t), "-db", "-C", dir, "-f", haproxy.ConfigFile)
	out, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	for _, l := range cfg.Listeners {
		addr := netip.AddrPortFrom(l.Address, l.Port).String()
		if l.Address.IsUnspecified() {
			addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(int(l.Port)))
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				_ = c.Close()
				break
			}
			select {
			case <-done:
				log, _ := os.ReadFile(filepath.Join(dir, "haproxy.log"))
				t.Fatalf("haproxy exited:\n%s\n%s", log, files[haproxy.ConfigFile])
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("listener %s does not accept connections: %v", addr, err)
			}
		}
	}
	return dir
}

// answer is a response as the client got it.
type answer struct {
	status int
	header http.Header
	echo   echoed
}

// send sends one request to addr with the given Host header and request headers.
func send(t *testing.T, addr, host, uri string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+uri, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     &http.Transport{DisableKeepAlives: true},
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET http://%s%s (Host %s): %v", addr, uri, host, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &a.echo); err != nil {
			t.Fatalf("GET %s%s: not an echo: %v: %q", host, uri, err, body)
		}
	}
	return a
}

// TestGatewaySemanticsOnRealHAProxy serves route tables, Gateway API filters and unresolved
// backends with the real haproxy and checks what clients and backends see.
func TestGatewaySemanticsOnRealHAProxy(t *testing.T) {
	one, two := startEcho(t, "one"), startEcho(t, "two")
	pDefault, pTable := freePort(t), freePort(t)
	lo := netip.MustParseAddr("127.0.0.1")
	lo2 := netip.MustParseAddr("127.0.0.2")
	route := func(table, host, path string, kind model.PathMatch, p model.RoutePolicy, backends ...model.WeightedBackend) model.HTTPRoute {
		if len(backends) == 0 {
			backends = []model.WeightedBackend{{Name: "one", Weight: 1}}
		}
		return model.HTTPRoute{Match: model.HTTPMatch{Table: table, Host: host, Path: path, Kind: kind}, Policy: p, Backends: backends}
	}
	const gw, addrTable = "gw-a", "gw-127-0-0-2"
	cfg := model.Config{
		Listeners: []model.Listener{
			{Name: "http", Bind: model.Bind{Address: anyAddr, Port: pDefault}, Protocol: model.HTTP},
			{Name: "gw-a", Bind: model.Bind{Address: lo, Port: pTable}, Protocol: model.HTTP, Table: gw},
			// A specific address on the default listener's port: the most specific socket
			// takes its connections.
			{Name: addrTable, Bind: model.Bind{Address: lo2, Port: pDefault}, Protocol: model.HTTP, Table: addrTable},
		},
		Backends: []model.Backend{
			{Name: "one", Servers: []model.Server{{Address: one.Addr(), Port: one.Port()}}},
			{Name: "two", Servers: []model.Server{{Address: two.Addr(), Port: two.Port()}}},
		},
		HTTPRoutes: []model.HTTPRoute{
			route("", "a.example", "/", model.MatchPrefix, model.RoutePolicy{}),
			route(gw, "gw.example", "/", model.MatchPrefix, model.RoutePolicy{}),
			route(gw, "*.wild.example", "/", model.MatchPrefix, model.RoutePolicy{}),
			route(gw, "", "/hostless", model.MatchExact, model.RoutePolicy{}),
			route(addrTable, "a.example", "/", model.MatchPrefix, model.RoutePolicy{}, model.WeightedBackend{Name: "two", Weight: 1}),
			route(gw, "redir.example", "/foo", model.MatchPrefix, model.RoutePolicy{RequestRedirect: &model.RequestRedirect{
				Scheme: "https", Path: &model.PathModifier{Value: "/xyz"}, Code: 301}}),
			route(gw, "redir.example", "/root", model.MatchPrefix, model.RoutePolicy{RequestRedirect: &model.RequestRedirect{
				Port: 8443, Path: &model.PathModifier{Value: "/"}, Code: 302}}),
			route(gw, "redir.example", "/full", model.MatchPrefix, model.RoutePolicy{RequestRedirect: &model.RequestRedirect{
				Hostname: "other.example", Path: &model.PathModifier{Full: true, Value: "/replaced"}, Code: 308}}),
			route(gw, "redir.example", "/keep", model.MatchExact, model.RoutePolicy{RequestRedirect: &model.RequestRedirect{Code: 302}}),
			route(gw, "rw.example", "/foo", model.MatchPrefix, model.RoutePolicy{URLRewrite: &model.URLRewrite{
				Hostname: "backend.example", Path: &model.PathModifier{Value: "/"}}}),
			route(gw, "rw.example", "/bar", model.MatchPrefix, model.RoutePolicy{URLRewrite: &model.URLRewrite{
				Path: &model.PathModifier{Value: "/xyz/"}}}),
			route(gw, "rw.example", "/full", model.MatchPrefix, model.RoutePolicy{URLRewrite: &model.URLRewrite{
				Path: &model.PathModifier{Full: true, Value: "/replaced"}}}),
			route(gw, "hdr.example", "/", model.MatchPrefix, model.RoutePolicy{
				RemoveRequestHeaders:  []string{"X-Remove"},
				RequestHeaders:        []model.Header{{Name: "X-Set", Value: "one"}},
				AddRequestHeaders:     []model.Header{{Name: "X-Add", Value: "two"}},
				RemoveResponseHeaders: []string{"X-Resp-Remove"},
				AddResponseHeaders:    []model.Header{{Name: "X-Resp-Add", Value: "b"}},
			}),
			route(gw, "bad.example", "/", model.MatchPrefix, model.RoutePolicy{}, model.WeightedBackend{Weight: 1}),
			route(gw, "half.example", "/", model.MatchPrefix, model.RoutePolicy{},
				model.WeightedBackend{Name: "one", Weight: 1}, model.WeightedBackend{Weight: 1}),
			route(gw, "slow.example", "/", model.MatchPrefix, model.RoutePolicy{Timeout: 300 * time.Millisecond}),
		},
	}
	cfg.Normalize()
	if _, rej := haproxy.Prune(cfg); len(rej) > 0 {
		t.Fatalf("Prune leaves out %v", rej)
	}
	runHAProxy(t, cfg)
	def := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(pDefault)))
	tbl := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(pTable)))
	spec := net.JoinHostPort("127.0.0.2", strconv.Itoa(int(pDefault)))

	t.Run("each listener serves its own table's routes", func(t *testing.T) {
		for _, c := range []struct {
			addr, host, uri string
			status          int
			server          string
		}{
			{def, "a.example", "/x", 200, "one"},
			{def, "gw.example", "/x", 404, ""},
			{def, "x.wild.example", "/", 404, ""},
			{tbl, "gw.example", "/x", 200, "one"},
			{tbl, "a.example", "/x", 404, ""},
			{tbl, "x.wild.example", "/", 200, "one"},
			{tbl, "a.b.wild.example", "/", 404, ""},
			{tbl, "any.example", "/hostless", 200, "one"},
			{tbl, "any.example", "/hostless/x", 404, ""},
			{spec, "a.example", "/x", 200, "two"},
			{spec, "gw.example", "/x", 404, ""},
		} {
			a := send(t, c.addr, c.host, c.uri)
			if a.status != c.status || a.echo.Server != c.server {
				t.Errorf("%s %s%s: status %d from %q, want %d from %q", c.addr, c.host, c.uri, a.status, a.echo.Server, c.status, c.server)
			}
		}
	})
	t.Run("request redirects build the Location from the request", func(t *testing.T) {
		for _, c := range []struct {
			uri, location string
			status        int
		}{
			{"/foo/bar?q=1", "https://redir.example/xyz/bar?q=1", 301},
			{"/foo", "https://redir.example/xyz", 301},
			{"/foo/", "https://redir.example/xyz/", 301},
			{"/root/bar?q=1", "http://redir.example:8443/bar?q=1", 302},
			{"/root", "http://redir.example:8443/", 302},
			{"/full/x?q=1", "http://other.example/replaced?q=1", 308},
			{"/keep?a=b", "http://redir.example/keep?a=b", 302},
		} {
			a := send(t, tbl, "redir.example:"+strconv.Itoa(int(pTable)), c.uri)
			if a.status != c.status || a.header.Get("Location") != c.location {
				t.Errorf("%s: %d %q, want %d %q", c.uri, a.status, a.header.Get("Location"), c.status, c.location)
			}
		}
	})
	t.Run("URL rewrites change the host and path the backend sees", func(t *testing.T) {
		for _, c := range []struct{ uri, want, host string }{
			{"/foo/bar?x=y", "/bar?x=y", "backend.example"},
			{"/foo", "/", "backend.example"},
			{"/foo/", "/", "backend.example"},
			{"/bar/baz", "/xyz/baz", "rw.example"},
			{"/bar", "/xyz", "rw.example"},
			{"/bar/", "/xyz/", "rw.example"},
			{"/full/x?q=1", "/replaced?q=1", "rw.example"},
		} {
			a := send(t, tbl, "rw.example", c.uri)
			if a.status != 200 || a.echo.URI != c.want || a.echo.Host != c.host {
				t.Errorf("%s: %d, backend saw %q on host %q; want %q on %q", c.uri, a.status, a.echo.URI, a.echo.Host, c.want, c.host)
			}
		}
	})
	t.Run("header modifiers remove, set, then add", func(t *testing.T) {
		a := send(t, tbl, "hdr.example", "/", "X-Remove", "a", "X-Set", "zero", "X-Add", "one")
		if a.status != 200 {
			t.Fatalf("status %d", a.status)
		}
		h := a.echo.Header
		if _, ok := h["X-Remove"]; ok || !slices.Equal(h["X-Set"], []string{"one"}) || strings.Join(h["X-Add"], ",") != "one,two" {
			t.Errorf("the backend saw X-Remove %q, X-Set %q, X-Add %q; want none, [one], [one two]", h["X-Remove"], h["X-Set"], h["X-Add"])
		}
		if _, ok := a.header["X-Resp-Remove"]; ok || strings.Join(a.header.Values("X-Resp-Add"), ",") != "a,b" {
			t.Errorf("the client saw X-Resp-Remove %q, X-Resp-Add %q; want none, [a b]", a.header["X-Resp-Remove"], a.header.Values("X-Resp-Add"))
		}
	})
	t.Run("an unresolved backend's share is answered 500", func(t *testing.T) {
		if a := send(t, tbl, "bad.example", "/"); a.status != 500 {
			t.Errorf("the only backend unresolved: %d, want 500", a.status)
		}
		counts := map[int]int{}
		for range 200 {
			counts[send(t, tbl, "half.example", "/").status]++
		}
		// Half of 200 requests each way: either count at 0 has a probability of 2^-199.
		if counts[200] == 0 || counts[500] == 0 || counts[200]+counts[500] != 200 {
			t.Errorf("one resolved and one unresolved backend of equal weight: %v, want both 200 and 500", counts)
		}
	})
	t.Run("a route timeout bounds the wait for the server", func(t *testing.T) {
		if a := send(t, tbl, "slow.example", "/slow"); a.status != 504 {
			t.Errorf("a server slower than the route's timeout: %d, want 504", a.status)
		}
		if a := send(t, tbl, "slow.example", "/fast"); a.status != 200 {
			t.Errorf("a fast answer: %d, want 200", a.status)
		}
	})
}
