package e2e

// "A failure stays where it starts" (../shared/GUIDE.md §1): a value a new user gets wrong, an
// object haproxy refuses, or a conflict between two Ingresses created in the same second affects
// that object alone. The bad object is reported (an Event on it, a metric), and everything else
// keeps applying: an Ingress created afterwards in another namespace routes, and an endpoint
// change of an unrelated Service is applied, each within a second.

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// outcomeTimeout bounds the wait for a bad object's outcome (an Event, or its routes served).
// The 2,100-host Ingress takes a while to translate and apply under -race.
const outcomeTimeout = 60 * time.Second

// isolationRig is a controller watching two namespaces: A, where a test puts its bad objects, and
// B, where an Ingress routes base.b.example to Service web-b (echo b-web) and another routes
// third.b.example to Service third, whose one endpoint is echo third-1. Echo third-2 is started
// but not an endpoint yet.
type isolationRig struct {
	a, b, class    string
	c              *framework.Controller
	third1, third2 *framework.Echo
}

// startIsolation sets up the rig with namespace a, which the caller creates. The IngressClass is
// named after namespace B.
func startIsolation(t *testing.T, a string) *isolationRig {
	t.Helper()
	r := &isolationRig{a: a, b: framework.NewNamespace(t)}
	r.class = r.b
	framework.CreateIngressClass(t, r.class, framework.ControllerName)
	r.c = framework.StartController(t, framework.ControllerOptions{
		Namespace: a,
		// No spare backend sections: a new Service's backend is added by a reload, which
		// haproxy validates, as the tests here need.
		ExtraArgs: []string{"--namespace-whitelist=" + r.b, "--ingress.class=" + r.class, "--spare-backends=0"},
	})
	t.Cleanup(func() { r.c.WaitIdle(t) }) // runs before the controller is stopped

	framework.EchoService(t, r.b, "web-b", framework.StartEcho(t, "b-web"))
	r.third1, r.third2 = framework.StartEcho(t, "third-1"), framework.StartEcho(t, "third-2")
	framework.EchoService(t, r.b, "third", r.third1)
	framework.CreateIngress(t, framework.Ingress(r.b, "b-base", r.class,
		framework.Rule("base.b.example", framework.Prefix("/", "web-b"))))
	framework.CreateIngress(t, framework.Ingress(r.b, "b-third", r.class,
		framework.Rule("third.b.example", framework.Prefix("/", "third"))))
	framework.ExpectRoute(t, r.c, "base.b.example", "/", http.StatusOK, "b-web")
	framework.ExpectRoute(t, r.c, "third.b.example", "/", http.StatusOK, "third-1")
	return r
}

// ingressTo returns an Ingress of the rig's class in namespace ns routing every path of host to
// the "http" port of Service svc, with the annotations kv (key, value pairs).
func (r *isolationRig) ingressTo(ns, name, host, svc string, kv ...string) *networkingv1.Ingress {
	ing := framework.Ingress(ns, name, r.class, framework.Rule(host, framework.Prefix("/", svc)))
	if len(kv) > 0 {
		ing.Annotations = pairs(kv...)
	}
	return ing
}

// expectOthersApply creates Ingress name in namespace B (name.b.example to the existing Service
// web-b) and asserts that it routes; then scales Service third from one endpoint to two and
// asserts that the new endpoint answers. It logs how long each took (speed is measured by
// `make bench`, not asserted here). Neither needs a reload: a new host on an existing backend is
// a map update, a new endpoint fills a free server slot.
func (r *isolationRig) expectOthersApply(t *testing.T, name string) {
	t.Helper()
	host := name + ".b.example"
	framework.CreateIngress(t, r.ingressTo(r.b, name, host, "web-b"))
	took, err := timeUntil(framework.RouteTimeout, func() error { return answeredBy(r.c, host, "b-web") })
	switch {
	case err != nil:
		t.Errorf("Ingress %s/%s, created after the bad objects: not routable %s after its creation: %v", r.b, name, framework.RouteTimeout, err)
	default:
		t.Logf("Ingress %s/%s, created after the bad objects, routed %s after its creation", r.b, name, took.Round(time.Millisecond))
	}

	framework.SetEndpoints(t, r.b, "third", r.third1, r.third2)
	took, err = timeUntil(framework.RouteTimeout, func() error { return answeredBy(r.c, "third.b.example", "third-2") })
	switch {
	case err != nil:
		t.Errorf("Service %s/third scaled from 1 to 2 endpoints after the bad objects: the new endpoint does not answer %s later: %v", r.b, framework.RouteTimeout, err)
	default:
		t.Logf("Service %s/third scaled from 1 to 2 endpoints after the bad objects: the new endpoint answered %s later", r.b, took.Round(time.Millisecond))
	}
	if err := answeredBy(r.c, "base.b.example", "b-web"); err != nil {
		t.Errorf("the route that existed before the bad objects: %v", err)
	}
}

// expectProblemMetric asserts that portcullis_problems{kind,reason} is at least 1.
func (r *isolationRig) expectProblemMetric(t *testing.T, kind, reason string) {
	t.Helper()
	const name = "portcullis_problems"
	_, err := timeUntil(5*time.Second, func() error {
		m, err := framework.ReadMetrics(r.c)
		if err != nil {
			return err
		}
		if v := m.Value(name, "kind", kind, "reason", reason); v < 1 {
			return fmt.Errorf(`%s{kind=%q,reason=%q} = %v, want at least 1`, name, kind, reason, v)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// timeUntil calls condition every 10 ms until it returns nil, and returns how long that took;
// after timeout it returns condition's last error.
func timeUntil(timeout time.Duration, condition func() error) (time.Duration, error) {
	start := time.Now()
	for {
		err := condition()
		if err == nil {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return time.Since(start), err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answeredBy sends GET host/ through the controller and wants a 200 from echo.
func answeredBy(c *framework.Controller, host, echo string) error {
	return answeredAt(c, host, "/", echo)
}

// answeredAt sends GET host+path through the controller and wants a 200 from echo.
func answeredAt(c *framework.Controller, host, path, echo string) error {
	resp, err := framework.TryGet(c, host, path)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK || resp.Echo != echo {
		return fmt.Errorf("GET %s%s: status %d from echo %q, want 200 from %q", host, path, resp.Status, resp.Echo, echo)
	}
	return nil
}

// warningAbout returns the first Warning Event about the object of the given kind whose reason
// is reason ("" for any) and whose message contains every fragment, or nil. It also returns all
// the object's Events, for messages.
func warningAbout(t *testing.T, ns, kind, name, uid, reason string, fragments ...string) (*corev1.Event, []corev1.Event) {
	t.Helper()
	events := framework.EventsFor(t, ns, kind, name, "")
	for i, e := range events {
		if e.Type != corev1.EventTypeWarning || (reason != "" && e.Reason != reason) || (uid != "" && string(e.InvolvedObject.UID) != uid) {
			continue
		}
		all := true
		for _, f := range fragments {
			all = all && strings.Contains(e.Message, f)
		}
		if all {
			return &events[i], events
		}
	}
	return nil, events
}

// awaitIngressWarning waits up to EventTimeout for a Warning Event with reason about the Ingress
// (its very UID) that mentions every fragment; it reports an error, not a failure.
func awaitIngressWarning(t *testing.T, ing *networkingv1.Ingress, reason string, fragments ...string) (*corev1.Event, error) {
	t.Helper()
	var ev *corev1.Event
	var events []corev1.Event
	_, err := timeUntil(framework.EventTimeout, func() error {
		ev, events = warningAbout(t, ing.Namespace, "Ingress", ing.Name, string(ing.UID), reason, fragments...)
		if ev == nil {
			return fmt.Errorf("no Warning %s Event mentioning %q on Ingress %s/%s after %s; its Events: %s",
				reason, fragments, ing.Namespace, ing.Name, framework.EventTimeout, describeEvents(events))
		}
		return nil
	})
	return ev, err
}

// TestIsolationBadValuesStayLocal: four inputs a new user tried, each on its own Ingress in
// namespace A of its own controller. Each is either refused and reported (a Warning Event naming
// the key or the object, and the portcullis_problems metric) or served as asked; never does it
// hold up the rest: afterwards an Ingress created in namespace B routes, and an endpoint change
// of another Service applies, each within a second.
//
// Not parallel: it asserts sub-second latencies, which other tests' load on a small machine
// would blur. Its subtests run one after the other for the same reason.
func TestIsolationBadValuesStayLocal(t *testing.T) {
	t.Run("timeout-server in microseconds is refused and the default applies", func(t *testing.T) {
		r := startIsolation(t, framework.NewNamespace(t))
		// The backend answers after 300 ms: 200 with the default timeout (50 s), 504 with 1.5 ms.
		framework.EchoService(t, r.a, "slow", framework.StartSlowEcho(t, "a-slow", 300*time.Millisecond))
		ing := framework.CreateIngress(t, r.ingressTo(r.a, "micro", "micro.a.example", "slow", pc+"timeout-server", "1500us"))

		if ev, err := awaitIngressWarning(t, ing, "InvalidAnnotation", "timeout-server"); err != nil {
			t.Error(err)
		} else {
			t.Logf("InvalidAnnotation Event: %s", ev.Message)
		}
		_, err := timeUntil(framework.RouteTimeout, func() error { return answeredBy(r.c, "micro.a.example", "a-slow") })
		if err != nil {
			t.Errorf("the Ingress with the refused value is not served with the default timeout: %v", err)
		}
		r.expectOthersApply(t, "after-timeout")
		r.expectProblemMetric(t, "Ingress", "InvalidAnnotation")
	})

	t.Run("cors-allow-headers at the parser's limit is served or refused, never stuck", func(t *testing.T) {
		r := startIsolation(t, framework.NewNamespace(t))
		framework.EchoService(t, r.a, "web", framework.StartEcho(t, "a-web"))
		// The parser takes at most 64 header names of at most 64 bytes: 4,222 bytes once joined,
		// above the renderer's 1,024 at the time of writing.
		names := make([]string, 64)
		for i := range names {
			names[i] = fmt.Sprintf("X-Isolation-Header-%02d-", i)
			names[i] += strings.Repeat("a", 64-len(names[i]))
		}
		value := strings.Join(names, ", ")
		t.Logf("cors-allow-headers: %d names of 64 bytes, %d bytes", len(names), len(value))
		ing := framework.CreateIngress(t, r.ingressTo(r.a, "cors", "cors.a.example", "web",
			pc+"cors-enable", "true", pc+"cors-allow-headers", value))

		preflight := withHeader(withHeader(framework.Request{Method: http.MethodOptions, Host: "cors.a.example", Path: "/"},
			"Origin", "https://app.example"), "Access-Control-Request-Method", "POST")
		var refusal *corev1.Event
		_, err := timeUntil(outcomeTimeout, func() error {
			var events []corev1.Event
			if refusal, events = warningAbout(t, r.a, "Ingress", ing.Name, string(ing.UID), "", "cors-allow-headers"); refusal != nil {
				return nil
			}
			resp, err := framework.Send(r.c, preflight)
			if err != nil {
				return err
			}
			allowed := resp.Header.Get("Access-Control-Allow-Headers")
			if resp.Status != http.StatusNoContent || !strings.Contains(allowed, names[0]) || !strings.Contains(allowed, names[63]) {
				return fmt.Errorf("neither a Warning Event naming cors-allow-headers (Events: %s) nor a preflight answered with the headers: "+
					"status %d from echo %q, Access-Control-Allow-Headers %q", describeEvents(events), resp.Status, resp.Echo, clip(allowed, 80))
			}
			get, err := framework.Send(r.c, withHeader(req("cors.a.example", "/"), "Origin", "https://app.example"))
			if err != nil {
				return err
			}
			if get.Status != http.StatusOK || get.Echo != "a-web" || get.Header.Get("Access-Control-Allow-Origin") == "" {
				return fmt.Errorf("the preflight works but GET cors.a.example/: status %d from echo %q, Access-Control-Allow-Origin %q",
					get.Status, get.Echo, get.Header.Get("Access-Control-Allow-Origin"))
			}
			return nil
		})
		switch {
		case err != nil:
			t.Errorf("after %s: %v", outcomeTimeout, err)
		case refusal != nil:
			t.Logf("refused: Warning %s Event: %s", refusal.Reason, clip(refusal.Message, 300))
		default:
			t.Logf("served: the preflight carries all %d header names and GET carries Access-Control-Allow-Origin", len(names))
		}
		r.expectOthersApply(t, "after-cors")
		if refusal != nil {
			r.expectProblemMetric(t, "Ingress", refusal.Reason)
		}
	})

	t.Run("a canary with names of the greatest length Kubernetes allows", func(t *testing.T) {
		ns := framework.CreateNamespace(t, framework.LongName("e2e-isolation-canary", 63))
		r := startIsolation(t, ns)
		const port = "http-alternate1" // a Service port name is at most 15 bytes
		stable, canary := framework.LongName("stable", 63), framework.LongName("canary", 63)
		for _, s := range []struct{ svc, echo string }{{stable, "a-stable"}, {canary, "a-canary"}} {
			framework.CreateService(t, framework.Service(ns, s.svc, framework.ServicePort(port, 80, framework.EchoPort)))
			framework.CreateEndpointSlice(t, framework.EndpointSlice(ns, s.svc, s.svc,
				[]discoveryv1.EndpointPort{framework.EndpointPort(port, framework.EchoPort)},
				framework.StartEcho(t, s.echo).Endpoint(framework.StateReady)))
		}
		const weight = 25
		ing := framework.Ingress(ns, "canary", r.class,
			framework.Rule("canary.a.example", framework.Path(networkingv1.PathTypePrefix, "/", stable, port)))
		ing.Annotations = pairs(pc+"canary-service", canary+":"+port, pc+"canary-weight", fmt.Sprint(weight))
		t.Logf("namespace %s (%d bytes), Services %s and %s (%d bytes), port %s (%d bytes)",
			ns, len(ns), stable, canary, len(canary), port, len(port))
		ing = framework.CreateIngress(t, ing)

		var refusal *corev1.Event
		seen := map[string]int{}
		_, err := timeUntil(outcomeTimeout, func() error {
			var events []corev1.Event
			if refusal, events = warningAbout(t, ns, "Ingress", ing.Name, string(ing.UID), "", "canary-service"); refusal != nil {
				return nil
			}
			resp, err := framework.TryGet(r.c, "canary.a.example", "/")
			if err != nil {
				return err
			}
			if resp.Status == http.StatusOK && resp.Echo != "" {
				seen[resp.Echo]++
			}
			if seen["a-stable"] == 0 || seen["a-canary"] == 0 {
				return fmt.Errorf("neither a Warning Event naming canary-service (Events: %s) nor answers from both Services: "+
					"answers so far %v, last status %d from echo %q", describeEvents(events), seen, resp.Status, resp.Echo)
			}
			return nil
		})
		switch {
		case err != nil:
			t.Errorf("after %s: %v", outcomeTimeout, err)
		case refusal != nil:
			t.Logf("refused: Warning %s Event: %s", refusal.Reason, clip(refusal.Message, 300))
		default:
			const n = 400
			got := echoShare(t, r.c, "canary.a.example", "a-canary", n)
			t.Logf("canary-weight %d: the canary answered %.1f%% of %d requests", weight, 100*got, n)
			if math.Abs(got-weight/100.0) > 0.07 {
				t.Errorf("canary-weight %d: the canary answered %.1f%% of %d requests, want %d%% ± 7", weight, 100*got, n, weight)
			}
		}
		r.expectOthersApply(t, "after-canary")
		if refusal != nil {
			r.expectProblemMetric(t, "Ingress", refusal.Reason)
		}
	})

	t.Run("one TLS Secret shared by 2,100 hosts", func(t *testing.T) {
		r := startIsolation(t, framework.NewNamespace(t))
		framework.EchoService(t, r.a, "web", framework.StartEcho(t, "a-web"))
		const hosts = 2100
		cert := framework.SelfSigned(t, "shared.a.example")
		secret := framework.CreateSecret(t, framework.TLSSecret(r.a, "shared-tls", cert.CertPEM, cert.KeyPEM))
		// One Ingress of about 360 kB, well under etcd's 1.5 MiB request limit.
		ing := framework.Ingress(r.a, "many-hosts", r.class)
		tls := networkingv1.IngressTLS{SecretName: secret.Name}
		for i := range hosts {
			h := fmt.Sprintf("h%04d.shared.a.example", i)
			tls.Hosts = append(tls.Hosts, h)
			ing.Spec.Rules = append(ing.Spec.Rules, framework.Rule(h, framework.Prefix("/", "web")))
		}
		ing.Spec.TLS = []networkingv1.IngressTLS{tls}
		if data, err := json.Marshal(ing); err == nil {
			t.Logf("Ingress %s: %d hosts in spec.tls and spec.rules, %d bytes of JSON", ing.Name, hosts, len(data))
		}
		ing = framework.CreateIngress(t, ing)
		first, last := tls.Hosts[0], tls.Hosts[hosts-1]

		var refusal *corev1.Event
		took, err := timeUntil(outcomeTimeout, func() error {
			for _, o := range []struct{ kind, name, uid string }{{"Ingress", ing.Name, string(ing.UID)}, {"Secret", secret.Name, string(secret.UID)}} {
				if refusal, _ = warningAbout(t, r.a, o.kind, o.name, o.uid, ""); refusal != nil {
					return nil
				}
			}
			for _, h := range []string{first, last} {
				resp, err := framework.TryGetTLS(r.c, h, h, "/")
				if err != nil {
					return err
				}
				if resp.Peer == nil || !bytes.Equal(resp.Peer.Raw, cert.Leaf.Raw) {
					return fmt.Errorf("neither a Warning Event on Ingress %s or Secret %s nor the Secret's certificate for SNI %s: got %s",
						ing.Name, secret.Name, h, describeCert(resp.Peer))
				}
				if resp.Status != http.StatusOK || resp.Echo != "a-web" {
					return fmt.Errorf("GET https://%s/ with the Secret's certificate: status %d from echo %q, want 200 from a-web", h, resp.Status, resp.Echo)
				}
			}
			return nil
		})
		switch {
		case err != nil:
			t.Errorf("after %s: %v", outcomeTimeout, err)
		case refusal != nil:
			t.Logf("refused after %s: Warning %s Event on %s %s: %s", took.Round(time.Millisecond),
				refusal.Reason, refusal.InvolvedObject.Kind, refusal.InvolvedObject.Name, clip(refusal.Message, 300))
		default:
			t.Logf("served %s after the Ingress's creation: SNI %s and %s get the Secret's certificate and reach the backend", took.Round(time.Millisecond), first, last)
		}
		r.expectOthersApply(t, "after-many-hosts")
		if refusal != nil {
			r.expectProblemMetric(t, refusal.InvolvedObject.Kind, refusal.Reason)
		}
	})
}

// describeCert names a certificate for a message.
func describeCert(c *x509.Certificate) string {
	if c == nil {
		return "no certificate"
	}
	return fmt.Sprintf("the certificate of CN %q (serial %s)", c.Subject.CommonName, c.SerialNumber)
}

// describeEvents is framework.DescribeEvents with each message clipped to 300 bytes.
func describeEvents(events []corev1.Event) string {
	clipped := make([]corev1.Event, len(events))
	for i, e := range events {
		clipped[i] = e
		clipped[i].Message = clip(e.Message, 300)
	}
	return framework.DescribeEvents(clipped)
}

// clip shortens s to n bytes for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:n], len(s))
}

// tlsIngressTo is ingressTo with the host served over TLS with the certificate of Secret secret.
func (r *isolationRig) tlsIngressTo(name, host, secret, svc string) *networkingv1.Ingress {
	ing := r.ingressTo(r.a, name, host, svc)
	ing.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{host}, SecretName: secret}}
	return ing
}

// servedWith sends GET https://host/ with SNI host and wants cert and a 200 from echo.
func servedWith(c *framework.Controller, host string, cert framework.Certificate, echo string) error {
	resp, err := framework.TryGetTLS(c, host, host, "/")
	if err != nil {
		return err
	}
	if resp.Peer == nil || !bytes.Equal(resp.Peer.Raw, cert.Leaf.Raw) {
		return fmt.Errorf("SNI %s: got %s, want %s", host, describeCert(resp.Peer), describeCert(cert.Leaf))
	}
	if resp.Status != http.StatusOK || resp.Echo != echo {
		return fmt.Errorf("GET https://%s/: status %d from echo %q, want 200 from %q", host, resp.Status, resp.Echo, echo)
	}
	return nil
}

// TestIsolationRejectedObjectIsReported: an object whose configuration passes every check of the
// controller but that haproxy itself refuses is left out, reported, and holds nothing else up.
// The input: a kubernetes.io/tls Secret whose certificate has a 1024-bit RSA key. Go loads it;
// haproxy, reading its configuration, refuses to ("unable to load SSL certificate into SSL
// Context": OpenSSL's default security level 2 wants 2048 bits). The Ingress using it gets a
// Warning ConfigRejected Event that names the cause, portcullis_rejected_objects{kind="Ingress"} is 1, /readyz stays 200 and says
// the configuration is stale, and the rest applies: another TLS host keeps its certificate, an
// Ingress created afterwards routes, a new endpoint answers.
func TestIsolationRejectedObjectIsReported(t *testing.T) {
	t.Parallel()
	r := startIsolation(t, framework.NewNamespace(t))
	framework.EchoService(t, r.a, "web", framework.StartEcho(t, "a-web"))
	good := framework.SelfSigned(t, "good.a.example")
	framework.CreateSecret(t, framework.TLSSecret(r.a, "good-tls", good.CertPEM, good.KeyPEM))
	goodIng := framework.CreateIngress(t, r.tlsIngressTo("good", "good.a.example", "good-tls", "web"))
	framework.Eventually(t, framework.RouteTimeout, func() error { return servedWith(r.c, "good.a.example", good, "a-web") })

	// haproxy's runtime API loads the weak certificate (HAProxy 2.6 checks the key size only when
	// it reads its configuration), so the Ingress routes to a Service of its own: a new backend,
	// which only a reload, validated first, can add.
	framework.EchoService(t, r.a, "weak-web", framework.StartEcho(t, "a-weak"))
	weak := framework.SelfSignedRSA(t, 1024, "weak.a.example")
	framework.CreateSecret(t, framework.TLSSecret(r.a, "weak-tls", weak.CertPEM, weak.KeyPEM))
	weakIng := framework.CreateIngress(t, r.tlsIngressTo("weak", "weak.a.example", "weak-tls", "weak-web"))

	if ev, err := awaitIngressWarning(t, weakIng, "ConfigRejected"); err != nil {
		t.Error(err)
	} else {
		t.Logf("ConfigRejected Event: %s", ev.Message)
		if !strings.Contains(strings.ToLower(ev.Message), "certificate") && !strings.Contains(ev.Message, "weak-tls") {
			t.Errorf("the ConfigRejected Event on Ingress %s/%s says %q: it does not name the cause (the certificate of Secret weak-tls)",
				weakIng.Namespace, weakIng.Name, ev.Message)
		}
	}
	const rejected = "portcullis_rejected_objects"
	if _, err := timeUntil(framework.RouteTimeout, func() error {
		m, err := framework.ReadMetrics(r.c)
		if err != nil {
			return err
		}
		if v := m.Value(rejected, "kind", "Ingress"); v != 1 {
			return fmt.Errorf(`%s{kind="Ingress"} = %v, want 1`, rejected, v)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	if resp, err := framework.TryGetURL(r.c.ControllerURL+"/readyz", ""); err != nil {
		t.Error(err)
	} else if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "stale since") {
		t.Errorf("GET /readyz with an object rejected: status %d, body %q; want 200 and a body saying the configuration is stale since when", resp.Status, resp.Body)
	} else {
		t.Logf("/readyz: %q", resp.Body)
	}

	if err := servedWith(r.c, "good.a.example", good, "a-web"); err != nil {
		t.Errorf("the other TLS host of the namespace, while Ingress %s is rejected: %v", weakIng.Name, err)
	}
	expectNoIngressEvent(t, goodIng, "ConfigRejected")
	r.expectOthersApply(t, "after-rejection")
}

// TestIncumbencySameSecond: two Ingresses claim the same host and path and are created within
// the same second, so that their creation timestamps (one-second resolution) are equal. The first
// one created keeps the route, although the second's name sorts before it; the second gets a
// RouteConflict Event; and the first still keeps the route after a change of the second.
//
// The second is created as soon as the controller serves the first, not at once: an
// implementation can only know which came first, when the API's timestamps are equal, by having
// seen one before the other (resourceVersions are not to be compared).
func TestIncumbencySameSecond(t *testing.T) {
	t.Parallel()
	ns, c := startRouting(t)
	t.Cleanup(func() { c.WaitIdle(t) }) // runs before the controller is stopped
	framework.EchoService(t, ns, "first", framework.StartEcho(t, "first"))
	framework.EchoService(t, ns, "second", framework.StartEcho(t, "second"))
	const host, attempts = "same-second.example", 5

	var first, second *networkingv1.Ingress
	for attempt := 1; ; attempt++ {
		// Start just after a second boundary: the second Ingress then has most of a second.
		now := time.Now()
		time.Sleep(now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond).Sub(now))
		first = framework.CreateIngress(t, framework.Ingress(ns, fmt.Sprintf("z-first-%d", attempt), ns,
			framework.Rule(host, framework.Prefix("/shared", "first"))))
		served, err := timeUntil(framework.RouteTimeout, func() error { return answeredAt(c, host, "/shared", "first") })
		if err != nil {
			t.Fatalf("Ingress %s alone: %v", first.Name, err)
		}
		second = framework.CreateIngress(t, framework.Ingress(ns, fmt.Sprintf("a-second-%d", attempt), ns,
			framework.Rule(host, framework.Prefix("/shared", "second"), framework.Prefix("/second-only", "second"))))
		if first.CreationTimestamp.Equal(&second.CreationTimestamp) {
			t.Logf("attempt %d: %s and %s both created at %s (the first served after %s)", attempt, first.Name, second.Name,
				first.CreationTimestamp.UTC().Format(time.RFC3339), served.Round(time.Millisecond))
			break
		}
		t.Logf("attempt %d: created at %s and %s, a second boundary fell between; again", attempt,
			first.CreationTimestamp.UTC().Format(time.RFC3339), second.CreationTimestamp.UTC().Format(time.RFC3339))
		if attempt == attempts {
			t.Fatalf("%d attempts to create two Ingresses within the same second failed", attempts)
		}
		framework.DeleteIngress(t, ns, first.Name)
		framework.DeleteIngress(t, ns, second.Name)
		framework.ExpectRoute(t, c, host, "/shared", http.StatusNotFound, "")
	}

	// The second's own path proves that the controller has applied the second Ingress.
	framework.ExpectRoute(t, c, host, "/second-only", http.StatusOK, "second")
	keeps := func(when string) {
		t.Helper()
		framework.Consistently(t, time.Second, func() error {
			if err := answeredAt(c, host, "/shared", "first"); err != nil {
				return fmt.Errorf("%s: the first Ingress created, %s, does not keep the route: %w", when, first.Name, err)
			}
			return nil
		})
	}
	keeps("with both Ingresses applied")
	expectIngressEvent(t, second, "RouteConflict", "/shared", first.Name)
	expectNoIngressEvent(t, first, "RouteConflict")

	// Another pass: a path added to the second Ingress.
	cur, err := framework.Kube().NetworkingV1().Ingresses(ns).Get(t.Context(), second.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Rules[0].HTTP.Paths = append(cur.Spec.Rules[0].HTTP.Paths, framework.Prefix("/second-extra", "second"))
	framework.UpdateIngress(t, cur)
	framework.ExpectRoute(t, c, host, "/second-extra", http.StatusOK, "second")
	keeps("after a path was added to the second Ingress")
}
