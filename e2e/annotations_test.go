package e2e

// Annotations and ConfigMap settings (issue 6), end to end: one request-level proof per key
// family, the canary's share and its reload-free weight change, the ConfigMap's process-wide
// settings, and the bad-input probe catalogue of ../shared/notes/security-probes.md against a
// representative set of annotation keys, ConfigMap keys, Ingress paths and Secret data. Each test
// has its own namespace and controller.

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// Annotation prefixes: ours, and haproxytech's, whose names are accepted as aliases.
const (
	pc   = "portcullis.io/"
	peer = "haproxy.org/"
)

// SHA-512 crypt(3) hashes of basic-auth passwords, as made by
// `openssl passwd -6 -salt abcdefgh secret` and `openssl passwd -6 -salt saltsalt hunter2`.
// HAProxy on Debian checks them with glibc's crypt.
const (
	hashSecret  = "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG."
	hashHunter2 = "$6$saltsalt$8iYtNHxjWRl.NF6oNZ5tF.iKFlQREaXBLlSmZKP6dy9l5z3vsooWNW0/GZ6Nej73/TFug6pIPSqbJoCT6dfnj."
	// hashApache is `openssl passwd -apr1 -salt abcdefgh secret`, the default of Apache's htpasswd.
	hashApache = "$apr1$abcdefgh$h9FWgUz3n9YxylKLlR5SQ/"
)

// startAnnotated is startRouting, and waits for the controller to be idle before it is stopped:
// most of these tests change backend policies, which reloads haproxy.
func startAnnotated(t *testing.T) (ns string, c *framework.Controller) {
	t.Helper()
	ns, c = startRouting(t)
	t.Cleanup(func() { c.WaitIdle(t) }) // runs before the controller is stopped
	return ns, c
}

// startWithConfigMap creates a namespace, an IngressClass named after it, a ConfigMap "portcullis"
// with data in that namespace, and a controller reading that ConfigMap.
func startWithConfigMap(t *testing.T, data map[string]string) (ns string, c *framework.Controller) {
	t.Helper()
	ns = framework.NewNamespace(t)
	framework.CreateIngressClass(t, ns, framework.ControllerName)
	framework.CreateConfigMap(t, framework.ConfigMap(ns, "portcullis", data))
	c = framework.StartController(t, framework.ControllerOptions{
		Namespace: ns,
		ExtraArgs: []string{"--ingress.class=" + ns, "--configmap=" + ns + "/portcullis"},
	})
	t.Cleanup(func() { c.WaitIdle(t) })
	return ns, c
}

// annotated returns an Ingress of the namespace's class routing every path of host to Service
// svc, with the annotations kv (key, value pairs).
func annotated(ns, name, host, svc string, kv ...string) *networkingv1.Ingress {
	ing := framework.Ingress(ns, name, ns, framework.Rule(host, framework.Prefix("/", svc)))
	if len(kv) > 0 {
		ing.Annotations = pairs(kv...)
	}
	return ing
}

// pairs makes a map of key, value pairs.
func pairs(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// req is a GET of path on host.
func req(host, path string) framework.Request { return framework.Request{Host: host, Path: path} }

// withHeader returns r with a header added.
func withHeader(r framework.Request, name, value string) framework.Request {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Add(name, value)
	r.Header = h
	return r
}

// basicAuth returns the Authorization header value for user and password.
func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// awaitStatus waits up to RouteTimeout until r is answered with status want, and returns that
// answer.
func awaitStatus(t *testing.T, c *framework.Controller, r framework.Request, want int) *framework.Response {
	t.Helper()
	var got *framework.Response
	framework.Eventually(t, framework.RouteTimeout, func() error {
		resp, err := framework.Send(c, r)
		if err != nil {
			return err
		}
		if resp.Status != want {
			return fmt.Errorf("%s %s%s: status %d from echo %q, want %d", methodOf(r), r.Host, r.Path, resp.Status, resp.Echo, want)
		}
		got = resp
		return nil
	})
	return got
}

// methodOf is the method r is sent with.
func methodOf(r framework.Request) string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// countEchoes sends r n times and counts the answers by echo. Any answer other than a 200 from an
// echo fails the test.
func countEchoes(t *testing.T, c *framework.Controller, r framework.Request, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		resp := framework.MustSend(t, c, r)
		if resp.Status != http.StatusOK || resp.Echo == "" {
			t.Fatalf("%s %s%s: status %d from echo %q, want 200 from an echo", methodOf(r), r.Host, r.Path, resp.Status, resp.Echo)
		}
		seen[resp.Echo]++
	}
	return seen
}

// cookie returns the value of the cookie name that a response sets, "" if none.
func cookie(resp *framework.Response, name string) string {
	for _, ck := range (&http.Response{Header: resp.Header}).Cookies() {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// echoed decodes what the echo that answered resp received.
func echoed(t *testing.T, resp *framework.Response) framework.EchoRequest {
	t.Helper()
	seen, err := resp.EchoRequest()
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// TestAnnotationLoadBalance: roundrobin, the default, spreads one client's requests over the
// three endpoints; `source` sends all of them to one endpoint; haproxytech's
// `haproxy.org/load-balance: uri` pins each URI to one endpoint while different URIs spread, and
// so do hdr(<name>) and url_param for their values; every other accepted form loads and serves.
func TestAnnotationLoadBalance(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "e1"), framework.StartEcho(t, "e2"), framework.StartEcho(t, "e3"))
	framework.CreateIngress(t, annotated(ns, "source", "source.lb.example", "web", pc+"load-balance", "source"))
	framework.CreateIngress(t, annotated(ns, "uri", "uri.lb.example", "web", peer+"load-balance", "uri"))
	for name, algorithm := range map[string]string{
		"hdr": "hdr(X-User)", "param": "url_param session", "leastconn": "leastconn", "random": "random(2)",
		"uri-opts": "uri whole path-only depth 2 len 64", "static": "static-rr", "first": "first",
	} {
		framework.CreateIngress(t, annotated(ns, name, name+".lb.example", "web", pc+"load-balance", algorithm))
	}
	framework.CreateIngress(t, annotated(ns, "default", "rr.lb.example", "web"))

	framework.AwaitEchoes(t, c, "rr.lb.example", "/", "e1", "e2", "e3")
	for _, name := range []string{"source", "uri", "hdr", "param", "leastconn", "random", "uri-opts", "static", "first"} {
		awaitStatus(t, c, req(name+".lb.example", "/"), http.StatusOK)
	}
	c.WaitIdle(t)

	t.Run("roundrobin spreads evenly", func(t *testing.T) {
		seen := countEchoes(t, c, req("rr.lb.example", "/"), 60)
		for _, e := range []string{"e1", "e2", "e3"} {
			if seen[e] != 20 {
				t.Errorf("60 requests reached %v, want 20 each", seen)
				break
			}
		}
	})
	t.Run("source pins the client to one endpoint", func(t *testing.T) {
		if seen := countEchoes(t, c, req("source.lb.example", "/"), 60); len(seen) != 1 {
			t.Errorf("60 requests of one client reached %v, want a single endpoint", seen)
		}
	})
	t.Run("hdr(X-User) pins each header value", func(t *testing.T) {
		all := map[string]int{}
		for i := range 24 {
			user := fmt.Sprintf("user-%d", i)
			seen := countEchoes(t, c, withHeader(req("hdr.lb.example", "/"), "X-User", user), 4)
			if len(seen) != 1 {
				t.Errorf("4 requests with X-User %s reached %v, want a single endpoint", user, seen)
			}
			for e, n := range seen {
				all[e] += n
			}
		}
		if len(all) < 2 {
			t.Errorf("24 X-User values all reached %v, want them spread over endpoints", all)
		}
	})
	t.Run("url_param pins each parameter value", func(t *testing.T) {
		for i := range 8 {
			path := fmt.Sprintf("/?session=%d&other=%d", i, i*7)
			if seen := countEchoes(t, c, req("param.lb.example", path), 4); len(seen) != 1 {
				t.Errorf("4 requests for %s reached %v, want a single endpoint", path, seen)
			}
		}
	})
	t.Run("the other algorithms serve", func(t *testing.T) {
		for _, host := range []string{"leastconn.lb.example", "random.lb.example", "uri-opts.lb.example", "static.lb.example", "first.lb.example"} {
			if seen := countEchoes(t, c, req(host, "/a/b/c"), 6); len(seen) == 0 {
				t.Errorf("GET %s: no answer", host)
			}
		}
	})
	t.Run("uri through the haproxy.org alias pins each URI and spreads URIs", func(t *testing.T) {
		all := map[string]int{}
		for i := range 24 {
			path := fmt.Sprintf("/item/%d", i)
			seen := countEchoes(t, c, req("uri.lb.example", path), 4)
			if len(seen) != 1 {
				t.Errorf("4 requests for %s reached %v, want a single endpoint", path, seen)
			}
			for e, n := range seen {
				all[e] += n
			}
		}
		if len(all) < 2 {
			t.Errorf("24 URIs all reached %v, want them spread over endpoints", all)
		}
	})
}

// TestAnnotationCookiePersistence: with cookie-persistence, each answer sets the cookie naming the
// endpoint that gave it; a client that sends the cookie back always reaches that endpoint.
func TestAnnotationCookiePersistence(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "e1"), framework.StartEcho(t, "e2"), framework.StartEcho(t, "e3"))
	framework.CreateIngress(t, annotated(ns, "sticky", "sticky.example", "web", pc+"cookie-persistence", "PCSRV"))
	framework.AwaitEchoes(t, c, "sticky.example", "/", "e1", "e2", "e3")
	c.WaitIdle(t)

	// Without the cookie, roundrobin spreads; each answer sets the cookie of its endpoint.
	byEcho := map[string]string{}
	for i := 0; i < 30 && len(byEcho) < 3; i++ {
		resp := framework.MustSend(t, c, req("sticky.example", "/"))
		value := cookie(resp, "PCSRV")
		if resp.Status != http.StatusOK || value == "" {
			t.Fatalf("GET without cookie: status %d from %q with Set-Cookie %q, want 200 setting PCSRV",
				resp.Status, resp.Echo, resp.Header.Values("Set-Cookie"))
		}
		if prev, ok := byEcho[resp.Echo]; ok && prev != value {
			t.Fatalf("echo %s answered with cookies PCSRV=%s and PCSRV=%s", resp.Echo, prev, value)
		}
		byEcho[resp.Echo] = value
	}
	if len(byEcho) != 3 {
		t.Fatalf("30 requests without cookie reached only %v", byEcho)
	}
	for echo, value := range byEcho {
		r := withHeader(req("sticky.example", "/"), "Cookie", "PCSRV="+value)
		if seen := countEchoes(t, c, r, 20); seen[echo] != 20 {
			t.Errorf("20 requests with PCSRV=%s (set by %s) reached %v, want %s only", value, echo, seen, echo)
		}
	}
}

// TestAnnotationRateLimit: after rate-limit-requests requests within rate-limit-period, a client
// gets 429, or the configured rate-limit-status-code.
func TestAnnotationRateLimit(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, annotated(ns, "limited", "limited.example", "web",
		pc+"rate-limit-requests", "5", pc+"rate-limit-period", "1m"))
	framework.CreateIngress(t, annotated(ns, "limited-403", "forbidden.example", "web",
		pc+"rate-limit-requests", "3", pc+"rate-limit-period", "1m", pc+"rate-limit-status-code", "403"))
	// Created last: once it routes, the controller has the limited Ingresses too, which no request
	// has reached yet. Then no reload may come, as a new haproxy process starts with empty counters.
	framework.CreateIngress(t, annotated(ns, "sentinel", "sentinel.example", "web"))
	framework.ExpectRoute(t, c, "sentinel.example", "/", http.StatusOK, "web")
	c.WaitIdle(t)
	reloads := c.ReloadCount(t)

	for _, tc := range []struct {
		name, host    string
		limit, status int
	}{
		{"over 5 requests a minute the default 429", "limited.example", 5, http.StatusTooManyRequests},
		{"over 3 requests a minute the configured 403", "forbidden.example", 3, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got, want []int
			for i := range tc.limit + 5 {
				got = append(got, framework.MustSend(t, c, req(tc.host, "/")).Status)
				want = append(want, map[bool]int{true: http.StatusOK, false: tc.status}[i < tc.limit])
			}
			if !slices.Equal(got, want) {
				t.Errorf("statuses of %d requests: %v, want %v", len(got), got, want)
			}
		})
	}
	framework.ExpectRoute(t, c, "sentinel.example", "/", http.StatusOK, "web")
	if got := c.ReloadCount(t); got != reloads {
		t.Errorf("haproxy reloaded (%d to %d) while requests were counted", reloads, got)
	}
}

// TestAnnotationBasicAuth: auth-secret names an Opaque Secret whose key "auth" holds
// "user:crypt-hash" lines (or whose keys are user names and values hashes). Without credentials or with wrong ones the answer is 401 with the
// realm; with the right ones 200. A missing Secret fails closed (401 for everyone, SecretNotFound)
// until it is created; a changed Secret changes the passwords; unusable lines of a Secret are
// reported (one InvalidSecret Event on the Secret, by reason), left out, and reach no
// configuration file.
func TestAnnotationBasicAuth(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateSecret(t, framework.OpaqueSecret(ns, "users", map[string][]byte{
		"auth": []byte("alice:" + hashSecret + "\nbob:" + hashHunter2 + "\n"),
	}))
	mixedSecret := framework.CreateSecret(t, framework.OpaqueSecret(ns, "mixed", map[string][]byte{
		"auth": []byte(strings.Join([]string{
			"# a comment line is skipped",
			"carol:" + hashSecret,
			"mallory:$6$x$y\nlua-load /tmp/x",
			`eve:"$HOME"`,
			"trudy:" + hashSecret + " # trailing",
			"user name:" + hashSecret,
			"oscar:%[env(HOME)]xxxxxxxxxxxx",
			// Apache's MD5, htpasswd's default: crypt(3) on Linux cannot check it.
			"apache:" + hashApache,
		}, "\n")),
	}))
	framework.CreateIngress(t, annotated(ns, "private", "auth.example", "web",
		pc+"auth-secret", "users", pc+"auth-realm", "Staff only"))
	missing := framework.CreateIngress(t, annotated(ns, "missing", "missing.auth.example", "web", pc+"auth-secret", "later"))
	mixed := framework.CreateIngress(t, annotated(ns, "mixed", "mixed.auth.example", "web", pc+"auth-secret", "mixed"))
	framework.CreateSecret(t, framework.OpaqueSecret(ns, "per-user", map[string][]byte{"dave": []byte(hashHunter2 + "\n")}))
	framework.CreateIngress(t, annotated(ns, "per-user", "per-user.auth.example", "web", peer+"auth-secret", "per-user"))

	const unauthorized = http.StatusUnauthorized
	r := req("auth.example", "/")
	resp := awaitStatus(t, c, r, unauthorized)
	if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="Staff only"`; got != want {
		t.Errorf("401 without credentials: WWW-Authenticate %q, want %q", got, want)
	}
	for _, tc := range []struct {
		name, user, password string
		status               int
	}{
		{"a wrong password", "alice", "wrong", unauthorized},
		{"another user's password", "alice", "hunter2", unauthorized},
		{"an unknown user", "mallory", "secret", unauthorized},
		{"alice's password", "alice", "secret", http.StatusOK},
		{"bob's password", "bob", "hunter2", http.StatusOK},
	} {
		resp := framework.MustSend(t, c, withHeader(r, "Authorization", basicAuth(tc.user, tc.password)))
		if resp.Status != tc.status || (tc.status == http.StatusOK) != (resp.Echo == "web") {
			t.Errorf("%s: status %d from echo %q, want %d", tc.name, resp.Status, resp.Echo, tc.status)
		}
	}

	t.Run("a Secret with one key per user, through the haproxy.org alias", func(t *testing.T) {
		pr := req("per-user.auth.example", "/")
		awaitStatus(t, c, withHeader(pr, "Authorization", basicAuth("dave", "hunter2")), http.StatusOK)
		if resp := framework.MustSend(t, c, withHeader(pr, "Authorization", basicAuth("dave", "secret"))); resp.Status != unauthorized {
			t.Errorf("a wrong password: status %d, want 401", resp.Status)
		}
	})

	t.Run("a missing Secret refuses everyone until it exists", func(t *testing.T) {
		m := req("missing.auth.example", "/")
		awaitStatus(t, c, m, unauthorized)
		if resp := framework.MustSend(t, c, withHeader(m, "Authorization", basicAuth("alice", "secret"))); resp.Status != unauthorized {
			t.Errorf("valid credentials of another Secret: status %d, want 401", resp.Status)
		}
		expectIngressEvent(t, missing, "SecretNotFound", "later")
		framework.CreateSecret(t, framework.OpaqueSecret(ns, "later", map[string][]byte{"auth": []byte("alice:" + hashSecret)}))
		awaitStatus(t, c, withHeader(m, "Authorization", basicAuth("alice", "secret")), http.StatusOK)
		if resp := framework.MustSend(t, c, m); resp.Status != unauthorized {
			t.Errorf("no credentials once the Secret exists: status %d, want 401", resp.Status)
		}
	})

	t.Run("a changed Secret changes the passwords", func(t *testing.T) {
		framework.UpdateSecret(t, framework.OpaqueSecret(ns, "users", map[string][]byte{"auth": []byte("alice:" + hashHunter2)}))
		awaitStatus(t, c, withHeader(r, "Authorization", basicAuth("alice", "hunter2")), http.StatusOK)
		for _, cred := range [][2]string{{"alice", "secret"}, {"bob", "hunter2"}} {
			if resp := framework.MustSend(t, c, withHeader(r, "Authorization", basicAuth(cred[0], cred[1]))); resp.Status != unauthorized {
				t.Errorf("%s's old credentials: status %d, want 401", cred[0], resp.Status)
			}
		}
	})

	t.Run("unusable Secret lines are reported and left out", func(t *testing.T) {
		mr := req("mixed.auth.example", "/")
		awaitStatus(t, c, withHeader(mr, "Authorization", basicAuth("carol", "secret")), http.StatusOK)
		// The Apache MD5 line (line 9) must be reported: it can never authenticate anyone.
		ev := framework.WaitForEventMessage(t, ns, "Secret", "mixed", "InvalidSecret", "7 not a user name with a crypt(3) hash",
			"line 9 of key auth (an Apache MD5 hash ($apr1$) is not a crypt(3) hash)")
		if ev.InvolvedObject.UID != mixedSecret.UID {
			t.Errorf("InvalidSecret Event names UID %q, want the Secret's %q", ev.InvolvedObject.UID, mixedSecret.UID)
		}
		// The Ingress still has a usable user: nothing to report on it.
		if got := framework.EventsFor(t, ns, "Ingress", mixed.Name, "InvalidSecret"); len(got) != 0 {
			t.Errorf("the Ingress got %s", framework.DescribeEvents(got))
		}
		for _, user := range []string{"mallory", "eve", "trudy", "oscar", "apache"} {
			if resp := framework.MustSend(t, c, withHeader(mr, "Authorization", basicAuth(user, "secret"))); resp.Status != unauthorized {
				t.Errorf("user %s of an unusable line: status %d, want 401", user, resp.Status)
			}
		}
		files := c.StableConfigFiles(t)
		for _, s := range []string{"lua-load", "$HOME", "%[env(", "mallory", "user eve", "trudy", "oscar", "# trailing", "user name"} {
			if hits := files.Find(s); len(hits) > 0 {
				t.Errorf("the rendered configuration contains %q from the Secret: %s", s, strings.Join(hits, "; "))
			}
		}
	})
}

// TestAnnotationCORS: with cors-enable, a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) from an allowed origin is answered 204 by the proxy with the
// Access-Control-Allow-* headers, and ordinary answers carry Access-Control-Allow-Origin; an origin
// outside the list gets neither.
func TestAnnotationCORS(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, annotated(ns, "listed", "cors.example", "web",
		pc+"cors-enable", "true",
		pc+"cors-allow-origin", "https://app.example, https://admin.example:8443",
		pc+"cors-allow-methods", "GET, POST",
		pc+"cors-allow-headers", "X-Token, Content-Type",
		pc+"cors-allow-credentials", "true",
		pc+"cors-max-age", "1h"))
	framework.CreateIngress(t, annotated(ns, "any", "any.cors.example", "web", pc+"cors-enable", "true"))
	framework.CreateIngress(t, annotated(ns, "off", "off.cors.example", "web"))

	preflight := func(host, origin string) framework.Request {
		r := framework.Request{Method: http.MethodOptions, Host: host, Path: "/api"}
		return withHeader(withHeader(r, "Origin", origin), "Access-Control-Request-Method", "POST")
	}
	// The last Ingress's route proves that the controller has all three.
	framework.ExpectRoute(t, c, "off.cors.example", "/", http.StatusOK, "web")
	awaitStatus(t, c, preflight("cors.example", "https://app.example"), http.StatusNoContent)
	awaitStatus(t, c, preflight("any.cors.example", "https://app.example"), http.StatusNoContent)

	type headers map[string]string // name: value; "" for absent
	for _, tc := range []struct {
		name   string
		req    framework.Request
		status int
		echo   string
		want   headers
	}{
		{"a preflight from a listed origin is answered by the proxy", preflight("cors.example", "https://app.example"), http.StatusNoContent, "", headers{
			"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Methods": "GET, POST",
			"Access-Control-Allow-Headers": "X-Token, Content-Type", "Access-Control-Max-Age": "3600",
			"Access-Control-Allow-Credentials": "true",
		}},
		{"a preflight from the other listed origin names that origin", preflight("cors.example", "https://admin.example:8443"), http.StatusNoContent, "", headers{
			"Access-Control-Allow-Origin": "https://admin.example:8443",
		}},
		{"a preflight from an unlisted origin reaches the backend without CORS headers", preflight("cors.example", "https://evil.example"), http.StatusOK, "web", headers{
			"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": "",
		}},
		{"a GET from a listed origin gets the origin back", withHeader(req("cors.example", "/"), "Origin", "https://app.example"), http.StatusOK, "web", headers{
			"Access-Control-Allow-Origin": "https://app.example", "Access-Control-Allow-Credentials": "true", "Vary": "Origin",
		}},
		{"a GET from an unlisted origin gets no CORS header", withHeader(req("cors.example", "/"), "Origin", "https://evil.example"), http.StatusOK, "web", headers{
			"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": "",
		}},
		{"a preflight with the defaults allows everything for 5s", preflight("any.cors.example", "https://whatever.example"), http.StatusNoContent, "", headers{
			"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "*", "Access-Control-Allow-Headers": "*",
			"Access-Control-Max-Age": "5", "Access-Control-Allow-Credentials": "",
		}},
		{"a GET with the defaults gets the wildcard", withHeader(req("any.cors.example", "/"), "Origin", "https://whatever.example"), http.StatusOK, "web", headers{
			"Access-Control-Allow-Origin": "*",
		}},
		{"without cors-enable a preflight reaches the backend", preflight("off.cors.example", "https://app.example"), http.StatusOK, "web", headers{
			"Access-Control-Allow-Origin": "",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := framework.MustSend(t, c, tc.req)
			if resp.Status != tc.status || resp.Echo != tc.echo {
				t.Errorf("status %d from echo %q, want %d from %q", resp.Status, resp.Echo, tc.status, tc.echo)
			}
			for name, want := range tc.want {
				if got := strings.Join(resp.Header.Values(name), ", "); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}

// TestAnnotationPathRewrite: path-rewrite replaces a path prefix element-wise before the request
// reaches the backend, as the path the echo saw shows.
func TestAnnotationPathRewrite(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, annotated(ns, "rewrite", "rewrite.example", "web", pc+"path-rewrite", "/old /new"))
	framework.CreateIngress(t, annotated(ns, "strip", "strip.example", "web", pc+"path-rewrite", "/api /"))
	framework.ExpectRoute(t, c, "rewrite.example", "/", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "strip.example", "/", http.StatusOK, "web")

	for _, tc := range []struct{ name, host, path, want string }{
		{"a path under the prefix", "rewrite.example", "/old/x/y?q=1", "/new/x/y"},
		{"the prefix itself", "rewrite.example", "/old", "/new"},
		{"the prefix with a trailing slash", "rewrite.example", "/old/", "/new/"},
		{"a longer path element is not the prefix", "rewrite.example", "/older/x", "/older/x"},
		{"another path", "rewrite.example", "/other", "/other"},
		{"stripping a prefix", "strip.example", "/api/v1/items", "/v1/items"},
		{"stripping the whole path", "strip.example", "/api", "/"},
		{"stripping leaves other paths", "strip.example", "/apis", "/apis"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := framework.MustSend(t, c, req(tc.host, tc.path))
			if resp.Status != http.StatusOK {
				t.Fatalf("GET %s%s: status %d", tc.host, tc.path, resp.Status)
			}
			if got := echoed(t, resp).Path; got != tc.want {
				t.Errorf("GET %s%s reached the backend as %q, want %q", tc.host, tc.path, got, tc.want)
			}
		})
	}
}

// TestAnnotationSetHeaders: request-set-header headers reach the backend, replacing what the
// client sent; response-set-header headers reach the client.
func TestAnnotationSetHeaders(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, annotated(ns, "headers", "headers.example", "web",
		pc+"request-set-header", "X-Env production\nX-Team \"blue team\"",
		pc+"response-set-header", "Cache-Control no-store\nX-Frame-Options DENY"))
	awaitStatus(t, c, req("headers.example", "/"), http.StatusOK)
	// A policy change reloads; wait until the new backend answers.
	framework.Eventually(t, framework.RouteTimeout, func() error {
		resp, err := framework.Send(c, req("headers.example", "/"))
		if err != nil {
			return err
		}
		if resp.Header.Get("X-Frame-Options") == "" {
			return fmt.Errorf("no X-Frame-Options yet")
		}
		return nil
	})

	resp := framework.MustSend(t, c, withHeader(req("headers.example", "/"), "X-Env", "client-supplied"))
	seen := echoed(t, resp)
	for name, want := range map[string]string{"X-Env": "production", "X-Team": "blue team"} {
		if got := seen.Headers[name]; got != want {
			t.Errorf("the backend saw %s %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := strings.Join(resp.Header.Values(name), ", "); got != want {
			t.Errorf("the client saw %s %q, want %q", name, got, want)
		}
	}
}

// TestAnnotationForwardedFor: the backend sees the client address in X-Forwarded-For, unless
// forwarded-for is false.
func TestAnnotationForwardedFor(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, annotated(ns, "default", "xff.example", "web"))
	framework.CreateIngress(t, annotated(ns, "off", "no-xff.example", "web", pc+"forwarded-for", "false"))
	for host, want := range map[string]string{"xff.example": "127.0.0.1", "no-xff.example": ""} {
		resp := awaitStatus(t, c, req(host, "/"), http.StatusOK)
		if got := echoed(t, resp).Headers["X-Forwarded-For"]; got != want {
			t.Errorf("GET %s: the backend saw X-Forwarded-For %q, want %q", host, got, want)
		}
	}
}

// consecutive sends r until n answers in a row are 200s from echo, failing the test after
// RouteTimeout.
func consecutive(t *testing.T, c *framework.Controller, r framework.Request, echo string, n int) {
	t.Helper()
	framework.Eventually(t, framework.RouteTimeout, func() error {
		for i := range n {
			resp, err := framework.Send(c, r)
			if err != nil {
				return err
			}
			if resp.Status != http.StatusOK || resp.Echo != echo {
				return fmt.Errorf("answer %d: status %d from %q, want 200 from %s", i+1, resp.Status, resp.Echo, echo)
			}
		}
		return nil
	})
}

// TestAnnotationHealthChecks: without check, an endpoint that refuses connections costs failed
// requests; with check, it is taken out. A TCP check keeps an endpoint that accepts connections but
// answers 500; check-http takes it out too.
func TestAnnotationHealthChecks(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	up := framework.StartEcho(t, "up")
	framework.EchoService(t, ns, "refusing", up, framework.DeadEcho("dead"))
	framework.EchoService(t, ns, "failing", up, framework.StartFailingEcho(t, "broken", http.StatusInternalServerError))
	framework.CreateIngress(t, annotated(ns, "unchecked", "unchecked.example", "refusing"))
	framework.CreateIngress(t, annotated(ns, "tcp", "tcp.example", "refusing", pc+"check", "true", pc+"check-interval", "100ms"))
	framework.CreateIngress(t, annotated(ns, "tcp-failing", "tcp-failing.example", "failing",
		peer+"check", "true", peer+"check-interval", "100ms"))
	framework.CreateIngress(t, annotated(ns, "http-failing", "http-failing.example", "failing",
		pc+"check", "true", pc+"check-interval", "100ms", pc+"check-http", "/healthz"))
	framework.ExpectRoute(t, c, "http-failing.example", "/", http.StatusOK, "up")

	t.Run("a TCP check takes out an endpoint that refuses connections", func(t *testing.T) {
		consecutive(t, c, req("tcp.example", "/"), "up", 20)
	})
	t.Run("an HTTP check takes out an endpoint that answers 500", func(t *testing.T) {
		consecutive(t, c, req("http-failing.example", "/"), "up", 20)
	})
	c.WaitIdle(t)
	t.Run("without a check the refusing endpoint fails requests", func(t *testing.T) {
		// Roundrobin sends every other request to the refusing endpoint; each of those takes
		// haproxy's three retries, a second apart, before it fails with 503.
		if seen := countStatuses(t, c, req("unchecked.example", "/"), 4); seen[http.StatusServiceUnavailable] == 0 {
			t.Errorf("4 requests got %v, want 503s from the refusing endpoint", seen)
		}
	})
	t.Run("a TCP check keeps the endpoint that answers 500", func(t *testing.T) {
		if seen := countStatuses(t, c, req("tcp-failing.example", "/"), 20); seen[http.StatusInternalServerError] == 0 {
			t.Errorf("20 requests got %v, want some 500s from the endpoint a TCP check keeps", seen)
		}
	})
}

// countStatuses sends r n times and counts the answers by status.
func countStatuses(t *testing.T, c *framework.Controller, r framework.Request, n int) map[int]int {
	t.Helper()
	seen := map[int]int{}
	for range n {
		seen[framework.MustSend(t, c, r).Status]++
	}
	return seen
}

// TestAnnotationAccessLists: allow-list admits only its networks and deny-list refuses its own,
// with 403; the client is 127.0.0.1. haproxytech's whitelist alias works, and the portcullis.io key
// wins over an alias.
func TestAnnotationAccessLists(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	cases := []struct {
		name   string
		kv     []string
		status int
	}{
		{"allow-outside", []string{pc + "allow-list", "198.51.100.0/24"}, http.StatusForbidden},
		{"allow-inside", []string{pc + "allow-list", "198.51.100.0/24, 127.0.0.0/8"}, http.StatusOK},
		{"deny-client", []string{pc + "deny-list", "127.0.0.1/32"}, http.StatusForbidden},
		{"deny-other", []string{pc + "deny-list", "203.0.113.0/24,::1"}, http.StatusOK},
		{"allowed-but-denied", []string{pc + "allow-list", "127.0.0.0/8", pc + "deny-list", "127.0.0.1"}, http.StatusForbidden},
		{"alias-whitelist", []string{peer + "whitelist", "198.51.100.7"}, http.StatusForbidden},
		{"alias-blacklist", []string{peer + "blacklist", "127.0.0.0/8"}, http.StatusForbidden},
		{"ours-beats-alias", []string{pc + "allow-list", "127.0.0.1", peer + "allow-list", "198.51.100.0/24"}, http.StatusOK},
	}
	for _, tc := range cases {
		framework.CreateIngress(t, annotated(ns, tc.name, tc.name+".acl.example", "web", tc.kv...))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			echo := map[bool]string{true: "web"}[tc.status == http.StatusOK]
			framework.ExpectRoute(t, c, tc.name+".acl.example", "/", tc.status, echo)
		})
	}
}

// TestAnnotationRedirects: request-redirect sends every request to another origin, path and query
// kept, with 302 or request-redirect-code; app-root redirects "/" only.
func TestAnnotationRedirects(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, annotated(ns, "moved", "moved.example", "web", pc+"request-redirect", "https://new.example/v2"))
	framework.CreateIngress(t, annotated(ns, "moved-301", "moved301.example", "web",
		pc+"request-redirect", "http://other.example:8080", pc+"request-redirect-code", "301"))
	framework.CreateIngress(t, annotated(ns, "app", "app.example", "web", pc+"app-root", "/app"))
	framework.ExpectRoute(t, c, "app.example", "/x", http.StatusOK, "web")

	for _, tc := range []struct {
		name, host, path string
		status           int
		location, echo   string
	}{
		{"a path and query move under the new prefix", "moved.example", "/a/b?c=d", http.StatusFound, "https://new.example/v2/a/b?c=d", ""},
		{"the root moves to the prefix", "moved.example", "/", http.StatusFound, "https://new.example/v2/", ""},
		{"the configured code", "moved301.example", "/x?y", http.StatusMovedPermanently, "http://other.example:8080/x?y", ""},
		{"app-root redirects the root", "app.example", "/", http.StatusFound, "/app", ""},
		{"app-root leaves the application's path", "app.example", "/app", http.StatusOK, "", "web"},
		{"app-root leaves other paths", "app.example", "/x", http.StatusOK, "", "web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := awaitStatus(t, c, req(tc.host, tc.path), tc.status)
			if got := resp.Header.Get("Location"); got != tc.location || resp.Echo != tc.echo {
				t.Errorf("GET %s%s: Location %q from echo %q, want %q from %q", tc.host, tc.path, got, resp.Echo, tc.location, tc.echo)
			}
		})
	}
}

// TestAnnotationTimeoutServer: timeout-server turns a backend that answers after 2 s into a 504
// after 1 s, while the default (50 s) waits for it. A Service annotation beats the Ingress's.
func TestAnnotationTimeoutServer(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	const delay = 2 * time.Second
	slow := framework.StartSlowEcho(t, "slow", delay)
	framework.EchoService(t, ns, "slow", slow)
	svc := framework.EchoService(t, ns, "slow-svc", slow)
	svc.Annotations = pairs(pc+"timeout-server", "1s")
	framework.UpdateService(t, svc)
	framework.CreateIngress(t, annotated(ns, "patient", "patient.example", "slow"))
	framework.CreateIngress(t, annotated(ns, "impatient", "impatient.example", "slow", pc+"timeout-server", "1s"))
	framework.CreateIngress(t, annotated(ns, "service-wins", "service.example", "slow-svc", pc+"timeout-server", "30s"))

	framework.CreateIngress(t, annotated(ns, "others", "others.example", "slow",
		pc+"timeout-connect", "1500ms", pc+"timeout-queue", "3s", peer+"timeout-tunnel", "2h"))

	awaitStatus(t, c, req("patient.example", "/"), http.StatusOK)
	t.Run("the other backend timeouts reach the configuration", func(t *testing.T) {
		awaitStatus(t, c, req("others.example", "/"), http.StatusOK)
		files := c.StableConfigFiles(t)
		for _, line := range []string{"timeout connect 1500ms", "timeout queue 3s", "timeout tunnel 7200s"} {
			if !configLine(files, line) {
				t.Errorf("haproxy.cfg has no line %q", line)
			}
		}
	})
	for _, tc := range []struct {
		name, host string
		status     int
		min, max   time.Duration
	}{
		{"the default timeout waits for the backend", "patient.example", http.StatusOK, delay, 5 * time.Second},
		{"timeout-server 1s answers 504 after 1s", "impatient.example", http.StatusGatewayTimeout, time.Second, delay - 200*time.Millisecond},
		{"the Service's 1s beats the Ingress's 30s", "service.example", http.StatusGatewayTimeout, time.Second, delay - 200*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awaitStatus(t, c, req(tc.host, "/"), tc.status)
			start := time.Now()
			resp := framework.MustSend(t, c, req(tc.host, "/"))
			took := time.Since(start)
			// HAProxy's timers tick in milliseconds from when it sent the request: allow it
			// to fire a few of them before the client's clock says 1 s.
			if resp.Status != tc.status || took < tc.min-50*time.Millisecond || took > tc.max {
				t.Errorf("GET %s: status %d after %s, want %d after %s to %s", tc.host, resp.Status, took.Round(time.Millisecond), tc.status, tc.min, tc.max)
			}
		})
	}
}

// echoShare sends n requests to host and returns the fraction answered by echo.
func echoShare(t *testing.T, c *framework.Controller, host, echo string, n int) float64 {
	t.Helper()
	seen := countEchoes(t, c, req(host, "/"), n)
	return float64(seen[echo]) / float64(n)
}

// TestAnnotationCanary: canary-service receives canary-weight percent of an Ingress's requests,
// within 5 percentage points over 1,000 requests; a new weight applies without a reload.
func TestAnnotationCanary(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "stable"))
	framework.EchoService(t, ns, "web-v2", framework.StartEcho(t, "canary"))
	framework.CreateIngress(t, annotated(ns, "web", "canary.example", "web",
		pc+"canary-service", "web-v2", pc+"canary-weight", "20"))
	framework.AwaitEchoes(t, c, "canary.example", "/", "stable", "canary")
	c.WaitIdle(t)
	reloads, pid := c.ReloadCount(t), c.MasterPID(t)

	got := echoShare(t, c, "canary.example", "canary", 1000)
	t.Logf("canary-weight 20: the canary answered %.1f%% of 1000 requests", 100*got)
	if math.Abs(got-0.20) > 0.05 {
		t.Errorf("canary-weight 20: the canary answered %.1f%% of 1000 requests, want 15%% to 25%%", 100*got)
	}

	framework.SetIngressAnnotations(t, ns, "web", pairs(pc+"canary-service", "web-v2", pc+"canary-weight", "50"))
	framework.Eventually(t, framework.RouteTimeout, func() error {
		if s := echoShare(t, c, "canary.example", "canary", 100); s < 0.4 || s > 0.6 {
			return fmt.Errorf("the canary answered %.0f%% of 100 requests, want about 50%%", 100*s)
		}
		return nil
	})
	got = echoShare(t, c, "canary.example", "canary", 1000)
	t.Logf("canary-weight 50: the canary answered %.1f%% of 1000 requests", 100*got)
	if math.Abs(got-0.50) > 0.05 {
		t.Errorf("canary-weight 50: the canary answered %.1f%% of 1000 requests, want 45%% to 55%%", 100*got)
	}
	c.WaitIdle(t)
	if r, p := c.ReloadCount(t), c.MasterPID(t); r != reloads || p != pid {
		t.Errorf("changing the weight reloaded haproxy: reloads %d to %d, master %d to %d", reloads, r, pid, p)
	}
}

// TestAnnotationCanaryManyEndpoints: the canary's share holds within 5 percentage points when
// the two Services have very different numbers of endpoints: 95 percent to a canary of 2
// endpoints, 5 to a main Service of 30.
func TestAnnotationCanaryManyEndpoints(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	var main, canary []*framework.Echo
	for i := range 30 {
		main = append(main, framework.StartEcho(t, fmt.Sprintf("stable-%d", i)))
	}
	for i := range 2 {
		canary = append(canary, framework.StartEcho(t, fmt.Sprintf("canary-%d", i)))
	}
	framework.EchoService(t, ns, "web", main...)
	framework.EchoService(t, ns, "web-v2", canary...)
	framework.CreateIngress(t, annotated(ns, "web", "canary.example", "web",
		pc+"canary-service", "web-v2", pc+"canary-weight", "95"))
	framework.Eventually(t, framework.RouteTimeout, func() error {
		resp, err := framework.Send(c, req("canary.example", "/"))
		if err != nil {
			return fmt.Errorf("not served yet: %w", err)
		}
		if resp.Status != http.StatusOK {
			return fmt.Errorf("not served yet: %v", resp)
		}
		return nil
	})
	c.WaitIdle(t)

	seen := countEchoes(t, c, req("canary.example", "/"), 1000)
	got := float64(seen["canary-0"]+seen["canary-1"]) / 1000
	t.Logf("canary-weight 95, 30 main and 2 canary endpoints: the canary answered %.1f%% of 1000 requests", 100*got)
	if math.Abs(got-0.95) > 0.05 {
		t.Errorf("canary-weight 95: the canary answered %.1f%% of 1000 requests, want 90%% to 100%%", 100*got)
	}
}

// configLine reports whether haproxy.cfg has a line that is exactly want once indented.
func configLine(files framework.ConfigFiles, want string) bool {
	for line := range strings.Lines(files.Config()) {
		if strings.TrimSpace(line) == want {
			return true
		}
	}
	return false
}

// tlsHandshake connects to the controller's HTTPS port with TLS versions lo to hi and reports
// the handshake's error.
func tlsHandshake(c *framework.Controller, lo, hi uint16) error {
	dialer := &net.Dialer{Timeout: 3 * time.Second}
	conn, err := tls.DialWithDialer(dialer, "tcp", fmt.Sprintf("127.0.0.1:%d", c.HTTPSPort), &tls.Config{
		ServerName: "tls.example", MinVersion: lo, MaxVersion: hi,
		InsecureSkipVerify: true, //nolint:gosec // G402: the default certificate; only the TLS version matters here
	})
	if err != nil {
		return err
	}
	return conn.Close()
}

// TestAnnotationConfigMapGlobals: the ConfigMap's process-wide settings reach haproxy.cfg and
// take effect (TLS 1.2 refused with ssl-min-ver TLSv1.3, HSTS, JSON traffic logs on stdout); its
// backend and route defaults apply to Ingresses that do not set their own. A bad ConfigMap value
// gets an InvalidAnnotation Event on the ConfigMap and never reaches the configuration; the
// default applies, the other values stay, and haproxy keeps serving.
func TestAnnotationConfigMapGlobals(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"maxconn":             "4321",
		"timeout-client":      "17s",
		"hard-stop-after":     "2h",
		"timeout-server":      "23s",
		"response-set-header": "X-Global from-configmap",
		"ssl-min-ver":         "TLSv1.3",
		"syslog-server":       "stdout",
		"log-format":          "json",
		"nbthread":            "2",
		"hsts":                "true",
		"hsts-max-age":        "1d",
	}
	ns, c := startWithConfigMap(t, good)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, annotated(ns, "defaults", "global.example", "web"))
	framework.CreateIngress(t, annotated(ns, "override", "override.example", "web",
		pc+"response-set-header", "X-Global from-ingress"))
	framework.ExpectRoute(t, c, "global.example", "/", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "override.example", "/", http.StatusOK, "web")

	files := c.StableConfigFiles(t)
	for _, line := range []string{"maxconn 4321", "nbthread 2", "timeout client 17s", "hard-stop-after 7200s", "timeout server 23s"} {
		if !configLine(files, line) {
			t.Errorf("haproxy.cfg has no line %q:\n%s", line, files.Config())
		}
	}
	t.Run("route defaults apply unless the Ingress sets its own", func(t *testing.T) {
		for host, want := range map[string]string{"global.example": "from-configmap", "override.example": "from-ingress"} {
			resp := framework.MustSend(t, c, req(host, "/"))
			if got := resp.Header.Get("X-Global"); resp.Status != http.StatusOK || got != want {
				t.Errorf("GET %s: status %d, X-Global %q, want 200 and %q", host, resp.Status, got, want)
			}
		}
	})
	t.Run("ssl-min-ver TLSv1.3 refuses TLS 1.2", func(t *testing.T) {
		if err := tlsHandshake(c, tls.VersionTLS12, tls.VersionTLS12); err == nil {
			t.Errorf("a TLS 1.2 handshake succeeded")
		}
		if err := tlsHandshake(c, tls.VersionTLS13, tls.VersionTLS13); err != nil {
			t.Errorf("a TLS 1.3 handshake failed: %v", err)
		}
	})
	t.Run("hsts adds Strict-Transport-Security to HTTPS answers only", func(t *testing.T) {
		r, err := framework.TryGetTLS(c, "global.example", "global.example", "/")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Header.Get("Strict-Transport-Security"); r.Status != http.StatusOK || got != "max-age=86400" {
			t.Errorf("HTTPS: status %d, Strict-Transport-Security %q, want 200 and max-age=86400", r.Status, got)
		}
		if got := framework.MustSend(t, c, req("global.example", "/")).Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("HTTP: Strict-Transport-Security %q, want none", got)
		}
	})
	t.Run("traffic logs go to stdout as JSON", func(t *testing.T) {
		framework.MustSend(t, c, req("global.example", "/json-log-probe"))
		framework.Eventually(t, framework.RouteTimeout, func() error {
			log, err := os.ReadFile(c.LogPath)
			if err != nil {
				return err
			}
			for line := range strings.Lines(string(log)) {
				if strings.Contains(line, "json-log-probe") && strings.Contains(line, `\"status\":200`) {
					return nil
				}
			}
			return fmt.Errorf("no JSON traffic log line for /json-log-probe in the controller's output")
		})
	})

	bad := maps.Clone(good)
	bad["maxconn"] = "lots"
	bad["hard-stop-after"] = "%[env(HOME)]"
	bad["timeout-client"] = "19s" // a good change in the same update, to know when it applied
	framework.UpdateConfigMapData(t, ns, "portcullis", bad)
	for _, key := range []string{"maxconn", "hard-stop-after"} {
		ev := framework.WaitForEventMessage(t, ns, "ConfigMap", "portcullis", "InvalidAnnotation", key+": invalid value")
		if ev.Type != corev1.EventTypeWarning {
			t.Errorf("InvalidAnnotation Event about %s has type %q, want Warning", key, ev.Type)
		}
	}
	framework.Eventually(t, framework.RouteTimeout, func() error {
		if files = c.ConfigFiles(t); !configLine(files, "timeout client 19s") {
			return fmt.Errorf("haproxy.cfg does not have the new timeout client 19s yet")
		}
		return nil
	})
	for _, s := range []string{"lots", "%[env(", "HOME", "hard-stop-after 7200s"} {
		if hits := files.Find(s); len(hits) > 0 {
			t.Errorf("the rendered configuration contains %q: %s", s, strings.Join(hits, "; "))
		}
	}
	if !configLine(files, "hard-stop-after 1800s") || len(files.Find("maxconn")) > 0 {
		t.Errorf("the defaults (hard-stop-after 30m, no maxconn) do not apply in place of the bad values: %s; %s",
			strings.Join(files.Find("hard-stop-after"), "; "), strings.Join(files.Find("maxconn"), "; "))
	}
	for _, line := range []string{"timeout server 23s", "ssl-default-bind-options ssl-min-ver TLSv1.3"} {
		if !configLine(files, line) {
			t.Errorf("the good ConfigMap value %q no longer applies", line)
		}
	}
	framework.ExpectRoute(t, c, "global.example", "/", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "override.example", "/", http.StatusOK, "web")
}

// TestAnnotationEveryBadValueNamed: an Ingress with a dozen bad annotations gets an
// InvalidAnnotation Event naming each key, and is served with the defaults.
func TestAnnotationEveryBadValueNamed(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	keys := []string{"timeout-server", "timeout-connect", "timeout-queue", "timeout-tunnel", "check-interval", "check",
		"rate-limit-requests", "rate-limit-period", "cors-max-age", "server-slots", "canary-weight", "ssl-redirect-port"}
	var kv []string
	for _, k := range keys {
		kv = append(kv, pc+k, "bogus")
	}
	framework.CreateIngress(t, annotated(ns, "many", "many.example", "web", kv...))
	framework.ExpectRoute(t, c, "many.example", "/", http.StatusOK, "web")
	for _, k := range keys {
		framework.WaitForEventMessage(t, ns, "Ingress", "many", "InvalidAnnotation", pc+k+": invalid value")
	}
}

// TestAnnotationProbesSnippets: configuration snippets and made-up keys are refused with an
// InvalidAnnotation Event and change nothing.
func TestAnnotationProbesSnippets(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	cases := []struct{ key, value, message string }{
		{peer + "backend-config-snippet", "http-request deny\nlua-load /tmp/x", "raw configuration snippets are never accepted"},
		{peer + "frontend-config-snippet", "lua-load /tmp/x", "raw configuration snippets are never accepted"},
		{peer + "global-config-snippet", "lua-load /tmp/x", "raw configuration snippets are never accepted"},
		{pc + "configuration-snippet", "lua-load /tmp/x", "unknown annotation"},
		{pc + "lua-load", "/tmp/x", "unknown annotation"},
	}
	for i := range cases {
		name := fmt.Sprintf("snippet-%d", i)
		framework.CreateIngress(t, annotated(ns, name, name+".example", "web"))
	}
	for i := range cases {
		framework.ExpectRoute(t, c, fmt.Sprintf("snippet-%d.example", i), "/", http.StatusOK, "web")
	}
	before, reloads := c.StableConfigFiles(t), c.ReloadCount(t)
	for i, tc := range cases {
		framework.SetIngressAnnotations(t, ns, fmt.Sprintf("snippet-%d", i), pairs(tc.key, tc.value))
	}
	for i, tc := range cases {
		framework.WaitForEventMessage(t, ns, "Ingress", fmt.Sprintf("snippet-%d", i), "InvalidAnnotation", tc.key, tc.message)
	}
	expectUnchanged(t, c, before, reloads)
	for i := range cases {
		framework.ExpectRoute(t, c, fmt.Sprintf("snippet-%d.example", i), "/", http.StatusOK, "web")
	}
	expectNoMarkers(t, c.ConfigFiles(t))
}

// probe is an entry of the bad-input catalogue (security-probes.md, section 4).
type probe struct{ name, s string }

// probes are set inside valid values: line breaks, NUL, quote breakout, comments, sample fetches,
// environment expansion, escapes, a directive on a new line, size, and non-ASCII text.
var probes = []probe{
	{"newline", "\n"},
	{"carriage return", "\r"},
	{"CRLF", "\r\n"},
	{"NUL", "\x00"},
	{"double quote", `"`},
	{"hash", "#"},
	{"sample fetch", "%[env(HOME)]"},
	{"environment variable", "$HOME"},
	{"braced environment variable", "${HOME}"},
	{"backslash", `\`},
	{"lua-load directive", "\nlua-load /tmp/x"},
	{"huge value", strings.Repeat("a", 100<<10)},
	{"unicode", "caf\u00e9"},
	{"line separator", "\u2028"},
}

// probeMarkers are parts of the probes that no rendered file may contain, whatever else changes.
// The single characters (quote, hash, backslash, newline) occur in any configuration; that they
// add nothing is shown by comparing the files with those rendered before the probes.
var probeMarkers = []string{"lua-load", "%[env(", "$HOME", "${HOME}", "\u00e9", "\u2028", "\x00", "\r", strings.Repeat("a", 64)}

// expectNoMarkers fails the test for every probe marker found in the files.
func expectNoMarkers(t *testing.T, files framework.ConfigFiles) {
	t.Helper()
	for _, m := range probeMarkers {
		if hits := files.Find(m); len(hits) > 0 {
			t.Errorf("the rendered configuration contains the probe %q: %s", m, strings.Join(hits, "; "))
		}
	}
}

// expectUnchanged checks for two seconds (longer than the controller holds a reload off) that the
// rendered files stay as they were and haproxy does not reload.
func expectUnchanged(t *testing.T, c *framework.Controller, before framework.ConfigFiles, reloads int) {
	t.Helper()
	framework.Consistently(t, 2*time.Second, func() error {
		now, err := framework.ReadConfigFiles(c)
		if err != nil {
			return err
		}
		if d := before.Diff(now); d != "" {
			return fmt.Errorf("the rendered configuration changed: %s", d)
		}
		return nil
	})
	if got := c.ReloadCount(t); got != reloads {
		t.Errorf("haproxy reloaded (%d to %d)", reloads, got)
	}
}

// probeTarget is an annotation key under probe.
type probeTarget struct {
	key string
	// embed returns a valid value with the probe inside.
	embed func(probe string) string
	// base are valid annotations (key, value pairs) every probe Ingress carries, so that the key
	// under probe takes part in the configuration.
	base []string
	// accepted names probes that make a valid, inert value; TestAnnotationInertValues covers them.
	accepted []string
}

// inside returns an embed function putting the probe between before and after.
func inside(before, after string) func(string) string {
	return func(p string) string { return before + p + after }
}

// TestAnnotationProbes sets each probe of the catalogue inside the value of a representative set
// of keys, one Ingress per probe. Each gets a Warning Event InvalidAnnotation naming the key; each
// route keeps being served; the rendered files stay byte for byte what they were before (the
// default applies, as it did), and haproxy does not reload.
func TestAnnotationProbes(t *testing.T) {
	t.Parallel()
	for _, target := range []probeTarget{
		{key: pc + "request-set-header", embed: inside("X-Probe o", "k"), accepted: []string{"lua-load directive"}},
		{key: pc + "path-rewrite", embed: inside("/o", "ld /new")},
		{key: pc + "cors-allow-origin", embed: inside("https://app.exa", "mple"), base: []string{pc + "cors-enable", "true"}},
		{key: pc + "auth-realm", embed: inside("Staff ", "only"), base: []string{pc + "auth-secret", "users"}},
		{key: pc + "load-balance", embed: inside("least", "conn")},
		{key: pc + "timeout-server", embed: inside("5", "s")},
		{key: pc + "allow-list", embed: inside("127.0.", "0.0/8")},
		{key: pc + "cookie-persistence", embed: inside("SERVER", "ID")},
		{key: pc + "check-http", embed: inside("/heal", "thz"), base: []string{pc + "check", "true"}},
		{key: pc + "request-redirect", embed: inside("https://new.exa", "mple/v2")},
		{key: pc + "canary-service", embed: inside("web", "-v2"), base: []string{pc + "canary-weight", "20"}},
		{key: peer + "whitelist", embed: inside("127.0.", "0.0/8")},
		{key: peer + "request-set-header", embed: inside("X-Pro", "be ok")},
	} {
		t.Run(strings.ReplaceAll(target.key, "/", " "), func(t *testing.T) {
			t.Parallel()
			runProbes(t, target)
		})
	}
}

func runProbes(t *testing.T, target probeTarget) {
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateSecret(t, framework.OpaqueSecret(ns, "users", map[string][]byte{"auth": []byte("alice:" + hashSecret)}))
	credentials := basicAuth("alice", "secret") // harmless where no authentication is asked

	type probed struct {
		probe
		name, host string
	}
	var all []probed
	for i, p := range probes {
		if slices.Contains(target.accepted, p.name) {
			continue
		}
		pr := probed{probe: p, name: fmt.Sprintf("probe-%d", i)}
		pr.host = pr.name + ".probe.example"
		all = append(all, pr)
		framework.CreateIngress(t, annotated(ns, pr.name, pr.host, "web", target.base...))
	}
	for _, pr := range all {
		awaitStatus(t, c, withHeader(req(pr.host, "/"), "Authorization", credentials), http.StatusOK)
	}
	before, reloads := c.StableConfigFiles(t), c.ReloadCount(t)

	var applied []probed
	for _, pr := range all {
		kv := append(slices.Clone(target.base), target.key, target.embed(pr.s))
		if err := framework.TrySetIngressAnnotations(t.Context(), ns, pr.name, pairs(kv...)); err != nil {
			t.Logf("probe %s: the API server refuses the value: %v", pr.probe.name, err)
			continue
		}
		applied = append(applied, pr)
	}
	for _, pr := range applied {
		ev := framework.WaitForEventMessage(t, ns, "Ingress", pr.name, "InvalidAnnotation", target.key+": invalid value")
		if ev.Type != corev1.EventTypeWarning {
			t.Errorf("probe %s: the InvalidAnnotation Event has type %q, want Warning", pr.probe.name, ev.Type)
		}
	}
	expectUnchanged(t, c, before, reloads)
	for _, pr := range applied {
		resp := framework.MustSend(t, c, withHeader(req(pr.host, "/"), "Authorization", credentials))
		if resp.Status != http.StatusOK || resp.Echo != "web" {
			t.Errorf("probe %s: GET %s: status %d from echo %q, want 200 from web", pr.probe.name, pr.host, resp.Status, resp.Echo)
		}
	}
	expectNoMarkers(t, c.ConfigFiles(t))
}

// TestAnnotationProbesConfigMap sets probes in ConfigMap values of process-wide and default
// settings: each key gets an InvalidAnnotation Event on the ConfigMap, the rendered files do not
// change, and haproxy keeps serving without a reload.
func TestAnnotationProbesConfigMap(t *testing.T) {
	t.Parallel()
	ns, c := startWithConfigMap(t, map[string]string{})
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateIngress(t, annotated(ns, "web", "web.example", "web"))
	framework.ExpectRoute(t, c, "web.example", "/", http.StatusOK, "web")
	before, reloads := c.StableConfigFiles(t), c.ReloadCount(t)

	bad := map[string]string{
		"maxconn":             "100\nlua-load /tmp/x",
		"timeout-client":      "5s\r",
		"syslog-server":       `stdout"`,
		"ssl-ciphers":         "ECDHE-RSA-AES128-GCM-SHA256#",
		"request-set-header":  "X-Probe %[env(HOME)]",
		"response-set-header": "X-Probe $HOME",
		"allow-list":          "127.0.0.0/8 ${HOME}",
		"log-format":          `json\`,
		"hard-stop-after":     "30m\u2028",
	}
	framework.UpdateConfigMapData(t, ns, "portcullis", bad)
	for key := range bad {
		framework.WaitForEventMessage(t, ns, "ConfigMap", "portcullis", "InvalidAnnotation", key+": invalid value")
	}
	expectUnchanged(t, c, before, reloads)
	framework.ExpectRoute(t, c, "web.example", "/", http.StatusOK, "web")
	expectNoMarkers(t, c.ConfigFiles(t))
}

// TestAnnotationProbesPaths adds a path carrying each probe to an Ingress, as Prefix and as
// ImplementationSpecific (the API server checks the latter least). Each gets an InvalidPath Event,
// the Ingress's other path keeps working, and the rendered files do not change. Hosts, Service and
// port names cannot carry probes: the API server validates them as DNS names.
func TestAnnotationProbesPaths(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	type probed struct {
		probe
		name, host string
		pathType   networkingv1.PathType
	}
	var all []probed
	for i, p := range probes {
		if p.name == "environment variable" {
			continue // "/x$HOME" is a valid path: TestAnnotationInertValues
		}
		for _, pt := range []networkingv1.PathType{networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific} {
			pr := probed{probe: p, name: fmt.Sprintf("path-%d-%s", i, strings.ToLower(string(pt))), pathType: pt}
			pr.host = pr.name + ".paths.example"
			all = append(all, pr)
			framework.CreateIngress(t, annotated(ns, pr.name, pr.host, "web"))
		}
	}
	for _, pr := range all {
		framework.ExpectRoute(t, c, pr.host, "/ok", http.StatusOK, "web")
	}
	before, reloads := c.StableConfigFiles(t), c.ReloadCount(t)

	var applied []probed
	for _, pr := range all {
		ing, err := framework.Kube().NetworkingV1().Ingresses(ns).Get(t.Context(), pr.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		paths := &ing.Spec.Rules[0].HTTP.Paths
		*paths = append(*paths, framework.Path(pr.pathType, "/x"+pr.s, "web", framework.HTTPPortName))
		if _, err := framework.Kube().NetworkingV1().Ingresses(ns).Update(t.Context(), ing, metav1.UpdateOptions{}); err != nil {
			t.Logf("probe %s as a %s path: the API server refuses it: %v", pr.probe.name, pr.pathType, err)
			continue
		}
		applied = append(applied, pr)
	}
	if len(applied) == 0 {
		t.Fatal("the API server refused every probe path")
	}
	for _, pr := range applied {
		framework.WaitForEventMessage(t, ns, "Ingress", pr.name, "InvalidPath", "path")
	}
	expectUnchanged(t, c, before, reloads)
	for _, pr := range applied {
		framework.ExpectRoute(t, c, pr.host, "/ok", http.StatusOK, "web")
	}
	expectNoMarkers(t, c.ConfigFiles(t))
}

// directives returns the first word of every line of haproxy.cfg.
func directives(files framework.ConfigFiles) map[string]bool {
	out := map[string]bool{}
	for line := range strings.Lines(files.Config()) {
		if f := strings.Fields(line); len(f) > 0 {
			out[f[0]] = true
		}
	}
	return out
}

// TestAnnotationInertValues: some probes make valid values, which must then stay inert text. A
// "directive" on its own line of request-set-header is a second header; a realm naming a directive
// is only a realm; "$HOME" in a path is matched literally. None becomes a directive or expands.
func TestAnnotationInertValues(t *testing.T) {
	t.Parallel()
	ns, c := startAnnotated(t)
	framework.EchoService(t, ns, "web", framework.StartEcho(t, "web"))
	framework.CreateSecret(t, framework.OpaqueSecret(ns, "users", map[string][]byte{"auth": []byte("alice:" + hashSecret)}))
	framework.CreateIngress(t, annotated(ns, "header", "header.inert.example", "web",
		pc+"request-set-header", "X-Probe ok\nlua-load /tmp/x"))
	framework.CreateIngress(t, annotated(ns, "realm", "realm.inert.example", "web",
		pc+"auth-secret", "users", pc+"auth-realm", "Staff lua-load /tmp/x"))
	framework.CreateIngress(t, framework.Ingress(ns, "path", ns, framework.Rule("path.inert.example",
		framework.Path(networkingv1.PathTypeImplementationSpecific, "/x$HOME", "web", framework.HTTPPortName))))

	t.Run("a directive as a second header line is a header", func(t *testing.T) {
		var seen framework.EchoRequest
		framework.Eventually(t, framework.RouteTimeout, func() error {
			resp, err := framework.Send(c, req("header.inert.example", "/"))
			if err != nil {
				return err
			}
			if resp.Status != http.StatusOK {
				return fmt.Errorf("status %d", resp.Status)
			}
			if seen, err = resp.EchoRequest(); err != nil {
				return err
			}
			if seen.Headers["X-Probe"] == "" {
				return fmt.Errorf("the backend saw no X-Probe header yet")
			}
			return nil
		})
		if seen.Headers["X-Probe"] != "ok" || seen.Headers["Lua-Load"] != "/tmp/x" {
			t.Errorf("the backend saw X-Probe %q and Lua-Load %q, want \"ok\" and \"/tmp/x\"", seen.Headers["X-Probe"], seen.Headers["Lua-Load"])
		}
	})
	t.Run("a directive in a realm is text", func(t *testing.T) {
		resp := awaitStatus(t, c, req("realm.inert.example", "/"), http.StatusUnauthorized)
		if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="Staff lua-load /tmp/x"`; got != want {
			t.Errorf("WWW-Authenticate %q, want %q", got, want)
		}
	})
	t.Run("a dollar in a path is matched literally", func(t *testing.T) {
		resp := awaitStatus(t, c, req("path.inert.example", "/x$HOME"), http.StatusOK)
		if got := echoed(t, resp).Path; got != "/x$HOME" {
			t.Errorf("the backend saw the path %q, want /x$HOME", got)
		}
		if resp := framework.MustSend(t, c, req("path.inert.example", "/x")); resp.Status != http.StatusNotFound {
			t.Errorf("GET /x: status %d, want 404", resp.Status)
		}
	})
	files := c.StableConfigFiles(t)
	for _, d := range []string{"lua-load", "lua-prepend-path", "setenv", "program"} {
		if directives(files)[d] {
			t.Errorf("haproxy.cfg has a %s directive: %s", d, strings.Join(files.Find(d), "; "))
		}
	}
}
