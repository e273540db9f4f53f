package haproxy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

var (
	certsMu sync.Mutex
	certs   = map[string]model.Certificate{}
)

// certFor is a self-signed certificate for host, served for host; the same for every call, so
// that configurations built twice are equal.
func certFor(host string) model.Certificate {
	certsMu.Lock()
	defer certsMu.Unlock()
	if c, ok := certs[host]; ok {
		c.SNI = slices.Clone(c.SNI)
		return c
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(0, 0).Add(100 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		panic(err)
	}
	p := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb})...)
	c := model.Certificate{Name: model.CertName(p), PEM: p, SNI: []string{host}}
	certs[host] = c
	c.SNI = slices.Clone(c.SNI)
	return c
}

// httpsConfig is validConfig with an HTTPS listener holding certs.
func httpsConfig(certs ...model.Certificate) model.Config {
	c := withHTTPS(validConfig())
	c.Listeners[1].TLS.Certificates = certs
	c.Normalize()
	return c
}

// A certificate for more names than HAProxy takes on one crt-list line is listed on several lines
// of sniPerLine (256) names, each with the certificate's options.
func TestRenderCrtListSplitsManySNINames(t *testing.T) {
	many := certFor("many.example.com")
	many.SNI = nil
	for i := range 600 {
		many.SNI = append(many.SNI, fmt.Sprintf("h%03d.example.com", i))
	}
	ca := testCert()
	many.ClientCA = &ca
	many.ClientOptional = true
	one := certFor("one.example.com")
	cfg := httpsConfig(many, one)
	files, err := haproxy.Render(cfg, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if haproxy.CrtList("https") != "certs/https.crt-list" {
		t.Errorf("crt-list of listener https is %s", haproxy.CrtList("https"))
	}
	lines := strings.Split(strings.TrimSuffix(string(files[haproxy.CrtList("https")]), "\n"), "\n")
	manyOpts := "certs/" + many.Name + " [alpn h2,http/1.1 ca-file certs/" + ca.Name + " verify optional] "
	oneLine := "certs/" + one.Name + " [alpn h2,http/1.1] one.example.com"
	var manyLines []string
	for _, l := range lines {
		if strings.HasPrefix(l, "certs/"+many.Name) {
			manyLines = append(manyLines, l)
		}
	}
	if len(lines) != 4 || len(manyLines) != 3 || !slices.Contains(lines, oneLine) {
		t.Fatalf("crt-list has %d lines, %d of the certificate of 600 names; want 3 and %q:\n%s", len(lines), len(manyLines), oneLine, strings.Join(lines, "\n"))
	}
	var names []string
	for i, l := range manyLines {
		rest, ok := strings.CutPrefix(l, manyOpts)
		if !ok {
			t.Fatalf("line %d does not start with %q: %q", i+1, manyOpts, l)
		}
		n := strings.Fields(rest)
		if want := []int{256, 256, 88}[i]; len(n) != want {
			t.Errorf("line %d has %d names, want %d", i+1, len(n), want)
		}
		names = append(names, n...)
	}
	if !slices.Equal(names, many.SNI) {
		t.Errorf("the lines hold %d names, not the certificate's 600 in order", len(names))
	}
	for _, f := range []string{"certs/" + many.Name, "certs/" + one.Name, "certs/" + ca.Name} {
		if _, ok := files[f]; !ok {
			t.Errorf("no file %s", f)
		}
	}
	haproxyCheck(t, files)

	t.Run("a name change of a certificate on several lines reloads", func(t *testing.T) {
		cur := httpsConfig(many, one)
		cur.Listeners[1].TLS.Certificates[slices.IndexFunc(cur.Listeners[1].TLS.Certificates, func(c model.Certificate) bool { return c.Name == many.Name })].SNI = many.SNI[:599]
		next := haproxy.NewPlan(nil, cfg).Next
		p := haproxy.NewPlan(&next, cur)
		if !slices.Contains(planReasons(p), "certificate_lines_changed: https") {
			t.Errorf("reasons %q, want certificate_lines_changed: https", planReasons(p))
		}
	})
	t.Run("a name change of a certificate on one line is listed again at runtime", func(t *testing.T) {
		changed := certFor("one.example.com")
		changed.SNI = []string{"one.example.com", "two.example.com"}
		next := haproxy.NewPlan(nil, cfg).Next
		p := haproxy.NewPlan(&next, httpsConfig(many, changed))
		if p.Reload() {
			t.Fatalf("reload %q", planReasons(p))
		}
		want := []haproxy.Command{
			{Line: "del ssl crt-list certs/https.crt-list certs/" + one.Name},
			{Line: "add ssl crt-list certs/https.crt-list", Payload: "certs/" + one.Name + " [alpn h2,http/1.1] one.example.com two.example.com\n"},
		}
		if !slices.Equal(p.CertCommands, want) {
			t.Errorf("certificate commands\n got %q\nwant %q", p.CertCommands, want)
		}
	})
}

func TestRenderHTTPSRedirectsWithTwoCodes(t *testing.T) {
	cfg := withHTTPS(validConfig())
	cfg.HTTPSRedirects = []model.HTTPSRedirect{
		{Host: "a.example.com", Code: 301, Port: 443},
		{Host: "*.b.example.com", Code: 308, Port: 8443},
		{Host: "c.example.com", Code: 301, Port: 443},
	}
	cfg.Normalize()
	files, err := haproxy.Render(cfg, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got, want := string(files[haproxy.RedirectMap]), "*.b.example.com 308-8443\na.example.com 301-443\nc.example.com 301-443\n"; got != want {
		t.Errorf("%s:\n%s\nwant\n%s", haproxy.RedirectMap, got, want)
	}
	var rules []string
	for _, l := range section(files[haproxy.ConfigFile], "frontend http") {
		if strings.HasPrefix(l, "http-request redirect") {
			rules = append(rules, l)
		}
	}
	want := []string{
		"http-request redirect location https://%[var(txn.host)]%[capture.req.uri] code 301 if !{ ssl_fc } { var(txn.redirect) -m str 301-443 }",
		"http-request redirect location https://%[var(txn.host)]:8443%[capture.req.uri] code 308 if !{ ssl_fc } { var(txn.redirect) -m str 308-8443 }",
	}
	compareLines(t, "redirect rules, one per code and port", rules, want)
	haproxyCheck(t, files)

	applied := haproxy.NewPlan(nil, cfg).Next
	t.Run("a host with a code already in use is a map update", func(t *testing.T) {
		cur := cfg
		cur.HTTPSRedirects = append(slices.Clone(cfg.HTTPSRedirects), model.HTTPSRedirect{Host: "d.example.com", Code: 308, Port: 8443})
		cur.Normalize()
		p := haproxy.NewPlan(&applied, cur)
		if p.Reload() || !slices.Equal(p.MapFiles, []string{haproxy.RedirectMap}) {
			t.Errorf("reasons %q, maps %v; want the redirect map alone", planReasons(p), p.MapFiles)
		}
	})
	t.Run("a new code reloads", func(t *testing.T) {
		cur := cfg
		cur.HTTPSRedirects = append(slices.Clone(cfg.HTTPSRedirects), model.HTTPSRedirect{Host: "d.example.com", Code: 302, Port: 443})
		cur.Normalize()
		p := haproxy.NewPlan(&applied, cur)
		if want := []string{"https_redirects_changed: a new HTTPS redirect code or port"}; !slices.Equal(planReasons(p), want) {
			t.Errorf("reasons %q, want %q", planReasons(p), want)
		}
	})
}

// tcpConfig is validConfig with a TCP listener on port 5432 whose route goes to ns_db_5432.
func tcpConfig(policy model.BackendPolicy) model.Config {
	c := validConfig()
	c.Listeners = append(c.Listeners, model.Listener{Name: "db", Bind: model.Bind{Address: anyAddr, Port: 5432}, Protocol: model.TCP})
	c.Backends = append(c.Backends, model.Backend{Name: "ns_db_5432", SlotStep: 1, Servers: servers("10.0.3.1"), Policy: policy})
	c.TCPRoutes = []model.TCPRoute{{Listener: "db", Backend: "ns_db_5432", Source: service("db")}}
	c.Normalize()
	return c
}

func TestRenderTCPListener(t *testing.T) {
	tests := []struct {
		name         string
		policy       model.BackendPolicy
		global       model.Global
		wantFrontend []string
		wantBackend  []string
	}{
		{
			name:         "a TCP listener sends its connections to the section of its route's backend",
			wantFrontend: []string{"mode tcp", "bind 0.0.0.0:5432 name db", "default_backend ns_db_5432"},
			wantBackend:  []string{"mode tcp", "balance roundrobin", "server s1 10.0.3.1:8080", "server s2 127.0.0.1:1 disabled"},
		},
		{
			name: "the backend policy applies, without its HTTP parts",
			policy: model.BackendPolicy{
				Balance: model.Balance{Algorithm: "source"}, TimeoutTunnel: time.Hour, Check: true, CheckPath: "/healthz",
				Cookie: "SRV", ForwardedFor: true, SendProxy: "send-proxy-v2",
			},
			wantFrontend: []string{"mode tcp", "bind 0.0.0.0:5432 name db", "default_backend ns_db_5432"},
			wantBackend: []string{"mode tcp", "hash-type consistent", "balance source", "timeout tunnel 3600s",
				"server s1 10.0.3.1:8080 check cookie s1 send-proxy-v2", "server s2 127.0.0.1:1 disabled check cookie s2 send-proxy-v2"},
		},
		{
			name:         "an unavailable backend refuses connections",
			policy:       model.BackendPolicy{Unavailable: true},
			wantFrontend: []string{"mode tcp", "bind 0.0.0.0:5432 name db", "default_backend ns_db_5432"},
			wantBackend:  []string{"mode tcp", "balance roundrobin", "tcp-request content reject", "server s1 10.0.3.1:8080", "server s2 127.0.0.1:1 disabled"},
		},
		{
			name:         "a TCP listener logs in TCP's format, HAProxy's HTTP format being for HTTP only",
			global:       model.Global{LogTarget: "stdout"},
			wantFrontend: []string{"mode tcp", "bind 0.0.0.0:5432 name db", "option tcplog", "default_backend ns_db_5432"},
			wantBackend:  []string{"mode tcp", "balance roundrobin", "server s1 10.0.3.1:8080", "server s2 127.0.0.1:1 disabled"},
		},
		{
			name:         "a TCP listener logs in JSON without the HTTP fields",
			global:       model.Global{LogTarget: "stdout", LogFormat: "json"},
			wantFrontend: []string{"mode tcp", "bind 0.0.0.0:5432 name db", "log-format " + haproxy.JSONTCPLogFormat, "default_backend ns_db_5432"},
			wantBackend:  []string{"mode tcp", "balance roundrobin", "server s1 10.0.3.1:8080", "server s2 127.0.0.1:1 disabled"},
		},
	}
	for _, tt := range tests {
		cfg := tcpConfig(tt.policy)
		cfg.Global = tt.global
		files, err := haproxy.Render(cfg, testEnv)
		t.Run(tt.name, func(t *testing.T) {
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			t.Parallel()
			sections, _, tcp := haproxy.Sections(cfg)
			if want := []string{"ns_db_5432"}; !slices.Equal(tcp, want) {
				t.Errorf("TCP route sections %q, want %q", tcp, want)
			}
			if i := slices.IndexFunc(sections, func(s haproxy.Section) bool { return s.Name == "ns_db_5432" }); i < 0 || !sections[i].TCP {
				t.Errorf("no TCP section ns_db_5432 in %q", sectionNames(sections))
			}
			compareLines(t, "frontend tcp_db", section(files[haproxy.ConfigFile], "frontend tcp_db"), tt.wantFrontend)
			compareLines(t, "backend ns_db_5432", section(files[haproxy.ConfigFile], "backend ns_db_5432"), tt.wantBackend)
			// The HTTP frontend does not bind the TCP listener.
			for _, l := range section(files[haproxy.ConfigFile], "frontend http") {
				if strings.Contains(l, "5432") {
					t.Errorf("frontend http: %q", l)
				}
			}
			haproxyCheck(t, files)
		})
	}

	t.Run("a TCP route's backend change reloads, its endpoints move at runtime", func(t *testing.T) {
		cfg := tcpConfig(model.BackendPolicy{})
		applied := haproxy.NewPlan(nil, cfg).Next
		moved := tcpConfig(model.BackendPolicy{})
		moved.Backends[0].Servers = servers("10.0.3.2")
		p := haproxy.NewPlan(&applied, moved)
		if want := []string{
			"set server ns_db_5432/s2 addr 10.0.3.2 port 8080", "set weight ns_db_5432/s2 1", "set server ns_db_5432/s2 state ready",
			"set server ns_db_5432/s1 state maint",
		}; p.Reload() || !slices.Equal(p.Commands, want) {
			t.Errorf("reasons %q, commands %q; want %q", planReasons(p), p.Commands, want)
		}
		other := tcpConfig(model.BackendPolicy{})
		other.TCPRoutes[0].Backend = "ns_web_80"
		other.HTTPRoutes = nil
		if p := haproxy.NewPlan(&applied, other); !p.Reload() {
			t.Error("a TCP route to another backend: no reload")
		}
	})
}

func TestRenderAcceptProxy(t *testing.T) {
	many := make([]netip.Prefix, 40)
	var manyStrings []string
	for i := range many {
		many[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i), 0, 0}), 16)
		manyStrings = append(manyStrings, many[i].String())
	}
	cfg := tcpConfig(model.BackendPolicy{})
	cfg = withHTTPS(cfg)
	for i := range cfg.Listeners {
		switch cfg.Listeners[i].Name {
		case "http":
			cfg.Listeners[i].AcceptProxy = []netip.Prefix{netip.MustParsePrefix("fd00::/8"), netip.MustParsePrefix("10.0.0.0/8")}
		case "https":
			cfg.Listeners[i].AcceptProxy = many
		case "db":
			cfg.Listeners[i].AcceptProxy = []netip.Prefix{netip.MustParsePrefix("192.168.0.0/16")}
		}
	}
	cfg.Normalize()
	files, err := haproxy.Render(cfg, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	// trusted maps each port of a frontend's expect-proxy rules to its networks, one list per
	// rule: the order of the networks is the renderer's.
	trusted := func(fe string) map[string][][]string {
		out := map[string][][]string{}
		for _, l := range section(files[haproxy.ConfigFile], fe) {
			if !strings.HasPrefix(l, "tcp-request connection") {
				continue
			}
			var port, nets string
			if _, err := fmt.Sscanf(l, "tcp-request connection expect-proxy layer4 if { dst_port %s } { src", &port); err != nil {
				t.Fatalf("%s: unexpected rule %q", fe, l)
			}
			_, nets, _ = strings.Cut(l, "{ src ")
			out[port] = append(out[port], strings.Fields(strings.TrimSuffix(nets, " }")))
		}
		return out
	}
	// Each listener trusts its own networks: the rules test the port the connection came to,
	// with at most 32 networks a line, below HAProxy's 64 words.
	check := func(fe string, want map[string][]string) {
		t.Helper()
		got := trusted(fe)
		if len(got) != len(want) {
			t.Errorf("%s: rules for ports %v, want %d ports", fe, got, len(want))
		}
		for port, nets := range want {
			var all []string
			for _, line := range got[port] {
				if len(line) > 32 {
					t.Errorf("%s: port %s: a rule of %d networks", fe, port, len(line))
				}
				all = append(all, line...)
			}
			if len(got[port]) != (len(nets)+31)/32 {
				t.Errorf("%s: port %s: %d rules for %d networks", fe, port, len(got[port]), len(nets))
			}
			slices.Sort(all)
			nets = slices.Sorted(slices.Values(nets))
			if !slices.Equal(all, nets) {
				t.Errorf("%s: port %s trusts %q, want %q", fe, port, all, nets)
			}
		}
	}
	check("frontend http", map[string][]string{"8080": {"10.0.0.0/8", "fd00::/8"}, "8443": manyStrings})
	check("frontend tcp_db", map[string][]string{"5432": {"192.168.0.0/16"}})
	haproxyCheck(t, files)

	t.Run("a change of the trusted networks reloads", func(t *testing.T) {
		applied := haproxy.NewPlan(nil, cfg).Next
		cur := cfg
		cur.Listeners = slices.Clone(cfg.Listeners)
		cur.Listeners[0].AcceptProxy = nil
		if want := []string{"listeners_changed"}; !slices.Equal(planReasons(haproxy.NewPlan(&applied, cur)), want) {
			t.Errorf("reasons %q, want %q", planReasons(haproxy.NewPlan(&applied, cur)), want)
		}
	})
}
