package e2e

// ingress-nginx annotations (issue 15): Ingresses annotated only with nginx.ingress.kubernetes.io/
// keys behave as ingress-nginx documents, one request-level proof per key family, and a snippet
// is refused with a Warning Event while the rest of the Ingress is served.

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

const nx = "nginx.ingress.kubernetes.io/"

func TestNginxAnnotations(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateSecret(t, framework.OpaqueSecret(ns, "users", map[string][]byte{"auth": []byte("alice:" + hashSecret + "\n")}))

	rewrite := framework.Ingress(ns, "rewrite", ns, framework.Rule("rewrite.nginx", framework.Prefix("/something(/|$)(.*)", "web")))
	rewrite.Annotations = pairs(nx+"rewrite-target", "/$2", nx+"use-regex", "true")
	framework.CreateIngress(t, rewrite)
	framework.CreateIngress(t, annotated(ns, "lb", "lb.nginx", "web", nx+"force-ssl-redirect", "true"))
	framework.CreateIngress(t, annotated(ns, "upload", "upload.nginx", "web", nx+"proxy-body-size", "1k"))
	framework.CreateIngress(t, annotated(ns, "cors", "cors.nginx", "web", nx+"enable-cors", "true"))
	framework.CreateIngress(t, annotated(ns, "auth", "auth.nginx", "web",
		nx+"auth-type", "basic", nx+"auth-secret", "users", nx+"auth-realm", "Staff only"))
	framework.CreateIngress(t, annotated(ns, "snippet", "snippet.nginx", "web",
		nx+"configuration-snippet", "more_set_headers \"X: y\";"))

	framework.EchoService(t, ns, "canary", framework.StartEcho(t, "canary"))
	canary := func(name, host string, kv ...string) {
		framework.CreateIngress(t, annotated(ns, name, host, "web"))
		framework.CreateIngress(t, annotated(ns, name+"-canary", host, "canary", append(kv, nx+"canary", "true")...))
	}
	canary("by-header", "canary.nginx", nx+"canary-by-header", "X-Canary", nx+"canary-by-cookie", "canary_opt")
	canary("by-value", "value.canary.nginx", nx+"canary-by-header", "X-Version", nx+"canary-by-header-value", "v2")
	canary("by-pattern", "pattern.canary.nginx", nx+"canary-by-header", "X-Version", nx+"canary-by-header-pattern", "^v[2-9]$")
	canary("by-weight", "weight.canary.nginx", nx+"canary-weight", "100")
	framework.CreateIngress(t, annotated(ns, "moved", "moved.nginx", "web", nx+"permanent-redirect", "https://new.example/landing"))
	framework.CreateIngress(t, annotated(ns, "moving", "moving.nginx", "web",
		nx+"temporal-redirect", "http://soon.example", nx+"temporal-redirect-code", "307"))
	framework.CreateIngress(t, annotated(ns, "www", "www.site.nginx", "web", nx+"from-to-www-redirect", "true"))
	gated := framework.StartGatedEcho(t, "gated")
	framework.EchoService(t, ns, "gated", gated.Echo)
	framework.CreateIngress(t, annotated(ns, "conn", "conn.nginx", "gated", nx+"limit-connections", "1"))
	framework.CreateIngress(t, annotated(ns, "sticky", "sticky.nginx", "web", nx+"affinity", "cookie", nx+"session-cookie-name", "route",
		nx+"session-cookie-max-age", "172800", nx+"session-cookie-samesite", "Strict", nx+"session-cookie-path", "/app"))

	t.Run("rewrite-target with capture groups, paths case-insensitive from the start", func(t *testing.T) {
		awaitStatus(t, c, req("rewrite.nginx", "/something/new"), http.StatusOK)
		for path, want := range map[string]string{
			"/something/new?x=1": "/new", "/something": "/", "/SomeThing/a/b": "/a/b", "/something/": "/",
		} {
			resp := framework.MustSend(t, c, req("rewrite.nginx", path))
			if resp.Status != http.StatusOK {
				t.Fatalf("GET %s: status %d", path, resp.Status)
			}
			if got := echoed(t, resp).Path; got != want {
				t.Errorf("GET %s reached the backend as %q, want %q", path, got, want)
			}
		}
		if resp := framework.MustSend(t, c, req("rewrite.nginx", "/other")); resp.Status != http.StatusNotFound {
			t.Errorf("GET /other: status %d, want 404 (no path matches)", resp.Status)
		}
	})

	t.Run("force-ssl-redirect behind a load balancer that ends TLS", func(t *testing.T) {
		resp := awaitStatus(t, c, req("lb.nginx", "/a?b=1"), http.StatusFound)
		if got, want := resp.Header.Get("Location"), "https://lb.nginx/a?b=1"; got != want {
			t.Errorf("Location %q, want %q", got, want)
		}
		behind := withHeader(req("lb.nginx", "/a"), "X-Forwarded-Proto", "https")
		if resp := framework.MustSend(t, c, behind); resp.Status != http.StatusOK {
			t.Errorf("with X-Forwarded-Proto https: status %d, want 200 (the load balancer ended TLS)", resp.Status)
		}
	})

	t.Run("proxy-body-size answers 413 to a larger body", func(t *testing.T) {
		awaitStatus(t, c, req("upload.nginx", "/"), http.StatusOK)
		post := func(n int) int {
			r, err := http.NewRequest(http.MethodPost, c.HTTPURL+"/upload", bytes.NewReader(bytes.Repeat([]byte("x"), n)))
			if err != nil {
				t.Fatal(err)
			}
			r.Host = "upload.nginx"
			resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}).Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if got := post(1025); got != http.StatusRequestEntityTooLarge {
			t.Errorf("POST of 1025 bytes: status %d, want 413", got)
		}
		if got := post(1024); got != http.StatusOK {
			t.Errorf("POST of 1024 bytes: status %d, want 200", got)
		}
	})

	t.Run("enable-cors with ingress-nginx's defaults", func(t *testing.T) {
		awaitStatus(t, c, req("cors.nginx", "/"), http.StatusOK)
		pre := req("cors.nginx", "/")
		pre.Method = http.MethodOptions
		pre = withHeader(withHeader(pre, "Origin", "https://app.example"), "Access-Control-Request-Method", "PUT")
		resp := framework.MustSend(t, c, pre)
		if resp.Status != http.StatusNoContent {
			t.Fatalf("preflight: status %d, want 204", resp.Status)
		}
		for name, want := range map[string]string{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, PUT, POST, DELETE, PATCH, OPTIONS",
			"Access-Control-Allow-Credentials": "true", "Access-Control-Max-Age": "86400",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("preflight %s: %q, want %q", name, got, want)
			}
		}
		if got := resp.Header.Get("Access-Control-Allow-Headers"); !strings.HasPrefix(got, "DNT, Keep-Alive") {
			t.Errorf("preflight Access-Control-Allow-Headers %q, want ingress-nginx's list", got)
		}
	})

	t.Run("auth-type basic: 401 without credentials, 200 with them", func(t *testing.T) {
		resp := awaitStatus(t, c, req("auth.nginx", "/"), http.StatusUnauthorized)
		if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="Staff only"`; got != want {
			t.Errorf("WWW-Authenticate %q, want %q", got, want)
		}
		if resp := framework.MustSend(t, c, withHeader(req("auth.nginx", "/"), "Authorization", basicAuth("alice", "secret"))); resp.Status != http.StatusOK {
			t.Errorf("with alice's password: status %d, want 200", resp.Status)
		}
	})

	t.Run("canary by header, then by cookie, then by weight", func(t *testing.T) {
		cookie := func(v string) framework.Request {
			return withHeader(req("canary.nginx", "/"), "Cookie", "a=b; canary_opt="+v)
		}
		always := withHeader(req("canary.nginx", "/"), "X-Canary", "always")
		// Each host's canary is in place once one of its requests reaches it.
		for _, r := range []framework.Request{always, withHeader(req("value.canary.nginx", "/"), "X-Version", "v2"),
			withHeader(req("pattern.canary.nginx", "/"), "X-Version", "v7"), req("weight.canary.nginx", "/")} {
			awaitEcho(t, c, r, "canary")
		}
		for what, tc := range map[string]struct {
			r    framework.Request
			want string
		}{
			"no header, no cookie":             {req("canary.nginx", "/"), "web"},
			"X-Canary: always":                 {always, "canary"},
			"X-Canary: never, cookie always":   {withHeader(cookie("always"), "X-Canary", "never"), "web"},
			"X-Canary: always, cookie never":   {withHeader(cookie("never"), "X-Canary", "always"), "canary"},
			"X-Canary: maybe, cookie always":   {withHeader(cookie("always"), "X-Canary", "maybe"), "canary"},
			"cookie always":                    {cookie("always"), "canary"},
			"cookie never":                     {cookie("never"), "web"},
			"cookie alwaysx":                   {cookie("alwaysx"), "web"},
			"X-Version: v2 (exact value)":      {withHeader(req("value.canary.nginx", "/"), "X-Version", "v2"), "canary"},
			"X-Version: v22 (exact value)":     {withHeader(req("value.canary.nginx", "/"), "X-Version", "v22"), "web"},
			"X-Version: always (exact value)":  {withHeader(req("value.canary.nginx", "/"), "X-Version", "always"), "web"},
			"X-Version: v7 (pattern)":          {withHeader(req("pattern.canary.nginx", "/"), "X-Version", "v7"), "canary"},
			"X-Version: v1 (pattern)":          {withHeader(req("pattern.canary.nginx", "/"), "X-Version", "v1"), "web"},
			"canary-weight 100, nothing asked": {req("weight.canary.nginx", "/"), "canary"},
		} {
			if resp := framework.MustSend(t, c, tc.r); resp.Status != http.StatusOK || resp.Echo != tc.want {
				t.Errorf("%s: status %d from %q, want 200 from %q", what, resp.Status, resp.Echo, tc.want)
			}
		}
	})

	t.Run("permanent-redirect and temporal-redirect go to exactly their URL", func(t *testing.T) {
		for _, tc := range []struct {
			r        framework.Request
			code     int
			location string
		}{
			{req("moved.nginx", "/a/b?c=d"), http.StatusMovedPermanently, "https://new.example/landing"},
			{req("moving.nginx", "/a"), http.StatusTemporaryRedirect, "http://soon.example"},
		} {
			resp := awaitStatus(t, c, tc.r, tc.code)
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("%s%s: Location %q, want %q", tc.r.Host, tc.r.Path, got, tc.location)
			}
		}
	})

	t.Run("from-to-www-redirect sends the bare host to www.", func(t *testing.T) {
		awaitStatus(t, c, req("www.site.nginx", "/"), http.StatusOK)
		resp := awaitStatus(t, c, req("site.nginx", "/a?b=1"), http.StatusFound)
		if got, want := resp.Header.Get("Location"), "http://www.site.nginx/a?b=1"; got != want {
			t.Errorf("Location %q, want %q", got, want)
		}
	})

	t.Run("affinity cookie with max-age, samesite and path", func(t *testing.T) {
		var cookie string
		framework.Eventually(t, framework.RouteTimeout, func() error {
			resp, err := framework.Send(c, req("sticky.nginx", "/app"))
			if err != nil {
				return err
			}
			if cookie = resp.Header.Get("Set-Cookie"); !strings.HasPrefix(cookie, "route=") {
				return fmt.Errorf("status %d, Set-Cookie %q, want the route cookie", resp.Status, cookie)
			}
			return nil
		})
		// Browsers use the last Path attribute (RFC 6265, 5.3): HAProxy writes its own path=/ first.
		attrs := strings.Split(cookie, "; ")
		var path string
		for _, a := range attrs {
			if p, ok := strings.CutPrefix(strings.ToLower(a), "path="); ok {
				path = p
			}
		}
		if !slices.Contains(attrs, "Max-Age=172800") || !slices.Contains(attrs, "SameSite=Strict") || path != "/app" {
			t.Errorf("Set-Cookie %q, want Max-Age=172800, SameSite=Strict and the path /app last", cookie)
		}
		resp := framework.MustSend(t, c, withHeader(req("sticky.nginx", "/app"), "Cookie", strings.SplitN(cookie, ";", 2)[0]))
		if resp.Status != http.StatusOK || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("with the cookie: status %d, Set-Cookie %q, want 200 and none (the client stays on its server)", resp.Status, resp.Header.Get("Set-Cookie"))
		}
	})

	t.Run("limit-connections answers 503 beyond the requests in progress of a client", func(t *testing.T) {
		awaitStatus(t, c, req("conn.nginx", "/"), http.StatusOK)
		held := make(chan *framework.Response, 1)
		go func() {
			resp, err := framework.Send(c, req("conn.nginx", framework.HoldPath))
			if err != nil {
				t.Error(err)
			}
			held <- resp
		}()
		<-gated.Arrived // one request in progress
		if resp := framework.MustSend(t, c, req("conn.nginx", "/")); resp.Status != http.StatusServiceUnavailable {
			t.Errorf("a second request while one is in progress: status %d, want 503", resp.Status)
		}
		gated.Release()
		if resp := <-held; resp == nil || resp.Status != http.StatusOK {
			t.Fatalf("the held request: %v, want 200", resp)
		}
		if resp := framework.MustSend(t, c, req("conn.nginx", "/")); resp.Status != http.StatusOK {
			t.Errorf("once the first request is done: status %d, want 200", resp.Status)
		}
	})

	t.Run("a snippet is refused with a Warning Event; the Ingress is served", func(t *testing.T) {
		awaitStatus(t, c, req("snippet.nginx", "/"), http.StatusOK)
		ev := framework.WaitForEventMessage(t, ns, "Ingress", "snippet", "InvalidAnnotation", nx+"configuration-snippet: refused")
		if ev.Type != "Warning" || !strings.Contains(ev.Message, "inject") {
			t.Errorf("Event %s %q, want a Warning that says why", ev.Type, ev.Message)
		}
	})
}

// awaitEcho waits until r is answered by the echo server named want.
func awaitEcho(t *testing.T, c *framework.Controller, r framework.Request, want string) {
	t.Helper()
	framework.Eventually(t, framework.RouteTimeout, func() error {
		resp, err := framework.Send(c, r)
		if err != nil {
			return err
		}
		if resp.Echo != want {
			return fmt.Errorf("%s%s: status %d from echo %q, want %q", r.Host, r.Path, resp.Status, resp.Echo, want)
		}
		return nil
	})
}

// TestNginxErrorPages: with `error-pages: portcullis` in the ConfigMap, the errors HAProxy makes
// (no route, no server) are Portcullis's HTML pages; custom-http-errors replaces a backend's own
// error responses by them.
func TestNginxErrorPages(t *testing.T) {
	t.Parallel()
	ns, c := startWithConfigMap(t, map[string]string{"error-pages": "portcullis"})
	framework.EchoService(t, ns, "failing", framework.StartFailingEcho(t, "failing", http.StatusServiceUnavailable))
	framework.EchoService(t, ns, "empty")
	framework.CreateIngress(t, annotated(ns, "own", "own.errors", "failing"))
	framework.CreateIngress(t, annotated(ns, "custom", "custom.errors", "failing", nx+"custom-http-errors", "503,404"))
	framework.CreateIngress(t, annotated(ns, "empty", "empty.errors", "empty"))

	page := func(status int, text string) func(*testing.T, *framework.Response) {
		return func(t *testing.T, resp *framework.Response) {
			t.Helper()
			if resp.Status != status || !strings.Contains(string(resp.Body), "<h1>"+text+"</h1>") ||
				resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("status %d, Content-Type %q, body %q: want %d and Portcullis's page", resp.Status, resp.Header.Get("Content-Type"), resp.Body, status)
			}
		}
	}
	// The backend's own answer is seen first, once the route is in place.
	own := awaitStatus(t, c, req("own.errors", "/"), http.StatusServiceUnavailable)
	if own.Echo != "failing" || strings.Contains(string(own.Body), "<h1>") {
		t.Errorf("without custom-http-errors: echo %q, body %q, want the backend's own answer", own.Echo, own.Body)
	}
	page(http.StatusServiceUnavailable, "503 Service Unavailable")(t, awaitStatus(t, c, req("empty.errors", "/"), http.StatusServiceUnavailable))
	page(http.StatusNotFound, "404 Not Found")(t, framework.MustSend(t, c, req("no-route.errors", "/")))
	framework.Eventually(t, framework.RouteTimeout, func() error {
		resp, err := framework.Send(c, req("custom.errors", "/"))
		if err != nil {
			return err
		}
		if !strings.Contains(string(resp.Body), "<h1>503 Service Unavailable</h1>") {
			return fmt.Errorf("custom-http-errors: status %d, body %q, want Portcullis's 503 page", resp.Status, resp.Body)
		}
		return nil
	})
	page(http.StatusServiceUnavailable, "503 Service Unavailable")(t, framework.MustSend(t, c, req("custom.errors", "/")))
}

// TestErrorPagesDefault: without the ConfigMap key HAProxy's own errors are Portcullis's pages;
// `error-pages: haproxy` gives HAProxy's built-in answers back.
func TestErrorPagesDefault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		data        map[string]string
		contentType string
		body        string
	}{
		{"default", map[string]string{}, "text/html; charset=utf-8", "<h1>404 Not Found</h1>"},
		{"haproxy", map[string]string{"error-pages": "haproxy"}, "text/plain", "404 page not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, c := startWithConfigMap(t, tc.data)
			framework.Eventually(t, framework.RouteTimeout, func() error {
				resp, err := framework.Send(c, req("no-route.errors", "/"))
				if err != nil {
					return err
				}
				if resp.Status != http.StatusNotFound || resp.Header.Get("Content-Type") != tc.contentType || !strings.Contains(string(resp.Body), tc.body) {
					return fmt.Errorf("status %d, Content-Type %q, body %q: want 404, %q, %q", resp.Status, resp.Header.Get("Content-Type"), resp.Body, tc.contentType, tc.body)
				}
				return nil
			})
		})
	}
}
