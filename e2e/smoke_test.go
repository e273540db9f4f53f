// Package e2e holds the end-to-end tests: a real kube-apiserver and etcd, the controller binary, a
// real haproxy and echo backends, all inside a private network namespace (see package framework).
package e2e

import (
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

// TestSmoke checks the test environment itself, without the controller: the API accepts and
// returns the objects the routing tests use, and an echo backend answers on its 198.18 address.
func TestSmoke(t *testing.T) {
	t.Parallel()
	ns := framework.NewNamespace(t)
	echo := framework.StartEcho(t, "smoke")
	framework.EchoService(t, ns, "web", echo)
	framework.CreateIngress(t, framework.Ingress(ns, "web", "",
		framework.Rule("smoke.example", framework.Prefix("/", "web"))))

	kube := framework.Kube()
	svc, err := kube.CoreV1().Services(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the service back: %v", err)
	}
	if svc.Spec.ClusterIP == "" || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Name != "http" {
		t.Errorf("service: got cluster IP %q and ports %+v, want a cluster IP and one port named http",
			svc.Spec.ClusterIP, svc.Spec.Ports)
	}
	slice, err := kube.DiscoveryV1().EndpointSlices(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the endpointslice back: %v", err)
	}
	if len(slice.Endpoints) != 1 || slice.Endpoints[0].Addresses[0] != echo.IP {
		t.Errorf("endpointslice: got endpoints %+v, want one with address %s", slice.Endpoints, echo.IP)
	}
	ing, err := kube.NetworkingV1().Ingresses(ns).Get(t.Context(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the ingress back: %v", err)
	}
	if got := ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name; got != "web" {
		t.Errorf("ingress: got backend service %q, want web", got)
	}
	class := framework.CreateIngressClass(t, ns, framework.ControllerName)
	if class.Spec.Controller != framework.ControllerName {
		t.Errorf("ingressclass: got controller %q, want %q", class.Spec.Controller, framework.ControllerName)
	}

	resp, err := framework.TryGetURL(echo.URL()+"/some/path", "smoke.example")
	if err != nil {
		t.Fatalf("calling the echo directly: %v", err)
	}
	got, err := resp.EchoRequest()
	if err != nil {
		t.Fatal(err)
	}
	want := framework.EchoRequest{Name: "smoke", Host: "smoke.example", Path: "/some/path", Method: http.MethodGet}
	if resp.Status != http.StatusOK || resp.Echo != "smoke" ||
		got.Name != want.Name || got.Host != want.Host || got.Path != want.Path || got.Method != want.Method {
		t.Errorf("echo: got status %d, echo header %q, body %+v; want 200, %q, %+v", resp.Status, resp.Echo, got, want.Name, want)
	}
}
