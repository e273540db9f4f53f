package haproxy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// onLine is the certificate site listed for sni with the client-certificate settings ca and
// optional (none when ca is nil).
func onLine(site model.Certificate, sni []string, ca *model.Certificate, optional bool) model.Certificate {
	site.SNI, site.ClientCA, site.ClientOptional = sni, ca, optional
	return site
}

// clientAuthConfig is httpsConfig(certs...) whose first route checks client certificates of ca
// (required), so that the client-certificate map is rendered.
func clientAuthConfig(ca model.Certificate, certs ...model.Certificate) model.Config {
	c := httpsConfig(certs...)
	c.HTTPRoutes[0].Policy.ClientAuth = &model.ClientAuth{CA: ca.Name}
	return c
}

func lines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// One certificate used with different client-certificate settings (by Ingresses of different
// namespaces, say) is listed once for each, with its own names only; the client-certificate map
// says which settings each SNI name's connections get.
func TestRenderCertificateLinesByClientAuth(t *testing.T) {
	site := certFor("site.example.com")
	ca1, ca2 := certFor("ca1.example"), certFor("ca2.example")
	open := onLine(site, []string{"open.example.com"}, nil, false)
	secure := onLine(site, []string{"*.secure.example.com", "secure.example.com"}, &ca1, false)
	partners := onLine(site, []string{"partners.example.com"}, &ca2, true)
	cfg := clientAuthConfig(ca1, partners, secure, open)
	files, err := haproxy.Render(cfg, testEnv)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	path := "certs/" + site.Name
	authLines := []string{
		path + " [alpn h2,http/1.1 ca-file certs/" + ca1.Name + " verify required] *.secure.example.com secure.example.com",
		path + " [alpn h2,http/1.1 ca-file certs/" + ca2.Name + " verify optional] partners.example.com",
	}
	if ca2.Name < ca1.Name {
		slices.Reverse(authLines)
	}
	compareLines(t, "crt-list, the line without client-certificate check first, then by CA",
		lines(files[haproxy.CrtList("https")]), append([]string{path + " [alpn h2,http/1.1] open.example.com"}, authLines...))
	compareLines(t, haproxy.ClientAuthMap, lines(files[haproxy.ClientAuthMap]), []string{
		"https/*.secure.example.com " + ca1.Name + ":required",
		"https/open.example.com none",
		"https/partners.example.com " + ca2.Name + ":optional",
		"https/secure.example.com " + ca1.Name + ":required",
	})
	for _, f := range []string{path, "certs/" + ca1.Name, "certs/" + ca2.Name} {
		if _, ok := files[f]; !ok {
			t.Errorf("no file %s", f)
		}
	}
	conf := string(files[haproxy.ConfigFile])
	if !containsLine(conf, "tune.ssl.cachesize 0") || !strings.Contains(conf, " crt-list certs/https.crt-list alpn h2,http/1.1 no-tls-tickets\n") {
		t.Errorf("with two client CAs on one listener, TLS sessions are resumed:\n%s", conf)
	}
	haproxyCheck(t, files)

	t.Run("with one client CA, sessions are resumed", func(t *testing.T) {
		files, err := haproxy.Render(clientAuthConfig(ca1, onLine(site, partners.SNI, &ca1, true), secure, open), testEnv)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if conf := string(files[haproxy.ConfigFile]); strings.Contains(conf, "tune.ssl.cachesize") || strings.Contains(conf, "no-tls-tickets") {
			t.Errorf("resumption turned off with one CA:\n%s", conf)
		}
	})
	t.Run("without a route that checks client certificates, there is no map", func(t *testing.T) {
		files, err := haproxy.Render(httpsConfig(partners, secure, open), testEnv)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if _, ok := files[haproxy.ClientAuthMap]; ok {
			t.Errorf("%s rendered", haproxy.ClientAuthMap)
		}
	})
	t.Run("a name on two lines is left out with the later line's objects", func(t *testing.T) {
		dup := onLine(site, []string{"open.example.com", "other.example.com"}, &ca2, true)
		dup.Sources = []diag.Object{ingress("b"), secretB}
		pruned, rej := haproxy.Prune(httpsConfig(open, dup))
		if got := pruned.Listeners[1].TLS.Certificates; len(got) != 1 || got[0].ClientCA != nil {
			t.Errorf("kept %d lines, want the first one alone", len(got))
		}
		if len(rej) != 1 || !slices.Equal(rej[0].Objects, dup.Sources) || !strings.Contains(rej[0].Err.Error(), `SNI "open.example.com" is served by another certificate line`) {
			t.Errorf("rejections %v", rej)
		}
		if _, err := haproxy.Render(httpsConfig(open, dup), testEnv); err == nil {
			t.Error("Render accepts a name on two lines")
		}
	})
}

// The runtime API lists and deletes crt-list lines by certificate file name, which is ambiguous
// for a file on several lines: changes of those reload, the rest stays at runtime.
func TestPlanCertificateLines(t *testing.T) {
	site, one := certFor("site.example.com"), certFor("one.example.com")
	ca1, ca2 := certFor("ca1.example"), certFor("ca2.example")
	open := onLine(site, []string{"open.example.com"}, nil, false)
	secure := onLine(site, []string{"secure.example.com"}, &ca1, false)
	many := certFor("many.example.com")
	many.SNI = nil
	for i := range 300 {
		many.SNI = append(many.SNI, fmt.Sprintf("h%03d.example.com", i))
	}
	crtList := "add ssl crt-list certs/https.crt-list"
	plan := func(t *testing.T, from, to model.Config) haproxy.Plan {
		t.Helper()
		applied := haproxy.NewPlan(nil, from).Next
		return haproxy.NewPlan(&applied, to)
	}
	runtime := func(t *testing.T, p haproxy.Plan, want []haproxy.Command) {
		t.Helper()
		if p.Reload() {
			t.Fatalf("reload %q, want runtime commands", planReasons(p))
		}
		if !slices.Equal(p.CertCommands, want) {
			t.Errorf("certificate commands\n got %q\nwant %q", p.CertCommands, want)
		}
	}

	t.Run("a certificate listed for the first time on several lines is loaded at runtime", func(t *testing.T) {
		p := plan(t, httpsConfig(one), httpsConfig(one, many))
		path := "certs/" + many.Name
		runtime(t, p, []haproxy.Command{
			{Line: "new ssl cert " + path}, {Line: "set ssl cert " + path, Payload: string(many.PEM)}, {Line: "commit ssl cert " + path},
			{Line: crtList, Payload: path + " [alpn h2,http/1.1] " + strings.Join(many.SNI[:256], " ") + "\n"},
			{Line: crtList, Payload: path + " [alpn h2,http/1.1] " + strings.Join(many.SNI[256:], " ") + "\n"},
		})
	})
	t.Run("a certificate on one line going away is removed at runtime", func(t *testing.T) {
		path := "certs/" + one.Name
		runtime(t, plan(t, httpsConfig(one, open), httpsConfig(open)), []haproxy.Command{
			{Line: "del ssl crt-list certs/https.crt-list " + path}, {Line: "del ssl cert " + path},
		})
	})
	t.Run("a certificate on several lines going away reloads", func(t *testing.T) {
		p := plan(t, httpsConfig(one, many), httpsConfig(one))
		if want := []string{"certificate_lines_changed: https"}; !slices.Equal(planReasons(p), want) {
			t.Errorf("reasons %q, want %q", planReasons(p), want)
		}
	})
	t.Run("a new name of a certificate's line without client-certificate check reloads when it has another line", func(t *testing.T) {
		wider := onLine(site, []string{"more.example.com", "open.example.com"}, nil, false)
		p := plan(t, clientAuthConfig(ca1, open, secure), clientAuthConfig(ca1, wider, secure))
		if want := []string{"certificate_lines_changed: https"}; !slices.Equal(planReasons(p), want) {
			t.Errorf("reasons %q, want %q", planReasons(p), want)
		}
	})
	t.Run("a new name of a certificate on its own line is listed again, and the client-certificate map replaced, at runtime", func(t *testing.T) {
		wider := one
		wider.SNI = []string{"one.example.com", "two.example.com"}
		p := plan(t, clientAuthConfig(ca1, one, open, secure), clientAuthConfig(ca1, wider, open, secure))
		path := "certs/" + one.Name
		runtime(t, p, []haproxy.Command{
			{Line: "del ssl crt-list certs/https.crt-list " + path},
			{Line: crtList, Payload: path + " [alpn h2,http/1.1] one.example.com two.example.com\n"},
		})
		if !slices.Equal(p.MapFiles, []string{haproxy.ClientAuthMap}) {
			t.Fatalf("map files %q, want %s", p.MapFiles, haproxy.ClientAuthMap)
		}
		compareLines(t, haproxy.ClientAuthMap, lines(p.Maps[haproxy.ClientAuthMap]), []string{
			"https/one.example.com none",
			"https/open.example.com none",
			"https/secure.example.com " + ca1.Name + ":required",
			"https/two.example.com none",
		})
	})
	t.Run("another Ingress's line with its own CA for the same certificate reloads", func(t *testing.T) {
		partners := onLine(site, []string{"partners.example.com"}, &ca2, true)
		p := plan(t, clientAuthConfig(ca1, open, secure), clientAuthConfig(ca1, open, secure, partners))
		if want := []string{"client_auth_changed: https", "certificate_lines_changed: https"}; !slices.Equal(planReasons(p), want) {
			t.Errorf("reasons %q, want %q", planReasons(p), want)
		}
	})
}
