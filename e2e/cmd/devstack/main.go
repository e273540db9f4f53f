// Command devstack is what `make run` runs. With $KUBECONFIG set it runs the controller against
// that cluster. Otherwise it starts a private etcd and kube-apiserver on loopback, an echo backend
// inside a network namespace of its own (the API server refuses loopback endpoint addresses), a
// demo Service, IngressClass and Ingress, and the controller with haproxy on 127.0.0.1:8080, then
// prints how to reach it. Ctrl-C stops everything.
//
// It needs root (for the network namespace) and the binaries of e2e/tools/install-deps.sh.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

const (
	netns       = "portcullis-demo"
	hostVeth    = "pcdemo0"
	nsVeth      = "pcdemo1"
	hostAddr    = "198.18.255.1/30"
	echoIP      = "198.18.255.2"
	echoPort    = 8080
	demoHost    = "demo.portcullis.local"
	demoNS      = "demo"
	httpPort    = "8080"
	controlPort = "6060"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--echo" {
		serveEcho(os.Args[2])
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop() // before os.Exit, which skips deferred calls
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, extra []string) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	state := filepath.Join(root, ".run")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return err
	}
	bin := filepath.Join(state, "controller")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/controller")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the controller: %w", err)
	}
	args := []string{
		"--config-dir=" + filepath.Join(state, "config"),
		"--runtime-dir=" + filepath.Join(state, "run"),
		"--http-bind-port=" + httpPort, "--https-bind-port=8443", "--controller-port=" + controlPort,
		// No load balancer in front of a development run: stop at once on Ctrl-C.
		"--shutdown-delay=0s",
	}

	if kc := os.Getenv("KUBECONFIG"); kc != "" {
		fmt.Printf("devstack: running the controller against $KUBECONFIG (%s)\n", kc)
		return controller(ctx, bin, append(append(args, "--kubeconfig="+kc), extra...))
	}

	fmt.Println("devstack: starting a local etcd and kube-apiserver")
	cluster, err := framework.StartLocalCluster()
	if err != nil {
		return err
	}
	defer cluster.Stop()

	cleanup, err := echoNamespace(ctx)
	defer cleanup()
	if err != nil {
		return err
	}
	if err := demoObjects(ctx, cluster.Kube()); err != nil {
		return err
	}
	if err := demoGateway(ctx, cluster.Gateway()); err != nil {
		return err
	}
	fmt.Printf(`
devstack: ready. In another terminal:

  curl -H 'Host: %[1]s' http://127.0.0.1:%[2]s/hello
  curl -i -H 'Host: %[1]s' http://127.0.0.1:%[2]s/gateway/hi   # the same host, routed by an HTTPRoute (X-Routed-By)
  curl http://127.0.0.1:%[2]s/                      # no route: 404 from the default backend
  export KUBECONFIG=%[3]s
  kubectl get ingress -A                             # edit, add Ingresses in namespace %[4]q, watch it follow
  kubectl get gateway,httproute -A                   # Gateway "demo" on port 80 (the HTTP listener), HTTPRoute "demo"
  cat %[5]s/haproxy.cfg
  curl http://127.0.0.1:%[6]s/metrics

Ctrl-C stops everything.

`, demoHost, httpPort, cluster.KubeconfigPath(), demoNS, filepath.Join(state, "config"), controlPort)
	return controller(ctx, bin, append(append(args,
		"--kubeconfig="+cluster.KubeconfigPath(), "--ipv4-bind-address=127.0.0.1",
		"--program="+cluster.HAProxyBin()), extra...))
}

// controller runs the controller until ctx ends, then stops it with SIGTERM.
func controller(ctx context.Context, bin string, args []string) error {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the controller: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return fmt.Errorf("the controller exited: %w", err)
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("the controller did not exit cleanly on SIGTERM: %w", err)
			}
		case <-time.After(25 * time.Second):
			_ = cmd.Process.Kill()
			return errors.New("the controller did not exit within 25s of SIGTERM; killed it")
		}
		return nil
	}
}

// echoNamespace makes a network namespace with a veth pair to this one, and runs the demo echo
// backend inside it at echoIP.
func echoNamespace(ctx context.Context) (func(), error) {
	ip := func(args ...string) error {
		out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	_ = exec.Command("ip", "netns", "del", netns).Run() // left over from an interrupted run
	var echo *exec.Cmd
	cleanup := func() {
		if echo != nil && echo.Process != nil {
			_ = echo.Process.Kill()
			_ = echo.Wait()
		}
		_ = exec.Command("ip", "netns", "del", netns).Run()
	}
	for _, step := range [][]string{
		{"netns", "add", netns},
		{"link", "add", hostVeth, "type", "veth", "peer", "name", nsVeth},
		{"link", "set", nsVeth, "netns", netns},
		{"addr", "add", hostAddr, "dev", hostVeth},
		{"link", "set", hostVeth, "up"},
		{"-n", netns, "addr", "add", echoIP + "/30", "dev", nsVeth},
		{"-n", netns, "link", "set", nsVeth, "up"},
		{"-n", netns, "link", "set", "lo", "up"},
	} {
		if err := ip(step...); err != nil {
			return cleanup, fmt.Errorf("setting up the demo network namespace (needs root): %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return cleanup, err
	}
	echo = exec.Command("ip", "netns", "exec", netns, self, "--echo", net.JoinHostPort(echoIP, fmt.Sprint(echoPort)))
	echo.Stdout, echo.Stderr = os.Stdout, os.Stderr
	echo.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := echo.Start(); err != nil {
		return cleanup, fmt.Errorf("starting the echo backend: %w", err)
	}
	return cleanup, nil
}

func serveEcho(addr string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		//nolint:gosec // G705: a text/plain echo of the request, on a local demo backend.
		fmt.Fprintf(w, "Hello from the Portcullis demo backend.\nhost=%s path=%s\n", r.Host, r.URL.Path)
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

// demoObjects creates the demo namespace, IngressClass, Service, EndpointSlice and Ingress.
func demoObjects(ctx context.Context, kube kubernetes.Interface) error {
	prefix := networkingv1.PathTypePrefix
	ready := true
	portName := "http"
	port := int32(echoPort)
	steps := []func() error{
		func() error {
			_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demoNS}}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := kube.NetworkingV1().IngressClasses().Create(ctx, &networkingv1.IngressClass{
				ObjectMeta: metav1.ObjectMeta{Name: "haproxy", Annotations: map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"}},
				Spec:       networkingv1.IngressClassSpec{Controller: "portcullis.io/ingress-controller"},
			}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := kube.CoreV1().Services(demoNS).Create(ctx, &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: "echo"},
				Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{
					Name: portName, Port: 80, TargetPort: intstr.FromInt32(port),
				}}},
			}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := kube.DiscoveryV1().EndpointSlices(demoNS).Create(ctx, &discoveryv1.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Name: "echo", Labels: map[string]string{discoveryv1.LabelServiceName: "echo"}},
				AddressType: discoveryv1.AddressTypeIPv4,
				Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
				Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{echoIP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
			}, metav1.CreateOptions{})
			return err
		},
		func() error {
			class := "haproxy"
			_, err := kube.NetworkingV1().Ingresses(demoNS).Create(ctx, &networkingv1.Ingress{
				ObjectMeta: metav1.ObjectMeta{Name: "demo"},
				Spec: networkingv1.IngressSpec{
					IngressClassName: &class,
					Rules: []networkingv1.IngressRule{{
						Host: demoHost,
						IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
							Paths: []networkingv1.HTTPIngressPath{{
								Path: "/", PathType: &prefix,
								Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
									Name: "echo", Port: networkingv1.ServiceBackendPort{Name: portName},
								}},
							}},
						}},
					}},
				},
			}, metav1.CreateOptions{})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("creating the demo objects: %w", err)
		}
	}
	return nil
}

// demoGateway creates a GatewayClass of the controller, a Gateway on port 80 (the controller's
// HTTP listener, shared with the Ingresses) and an HTTPRoute sending /gateway of the demo host to
// the echo Service: an Ingress and an HTTPRoute side by side on one host.
func demoGateway(ctx context.Context, gw gatewayclient.Interface) error {
	class := framework.GatewayClass("portcullis")
	if _, err := gw.GatewayV1().GatewayClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the demo GatewayClass: %w", err)
	}
	g := framework.GatewayObject(demoNS, "demo", class.Name, framework.HTTPListener("http", 80, ""))
	if _, err := gw.GatewayV1().Gateways(demoNS).Create(ctx, g, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the demo Gateway: %w", err)
	}
	rule := framework.PathPrefixRule("/gateway", framework.BackendRef("", "echo", 80, 1))
	rule.Filters = []gatewayv1.HTTPRouteFilter{{
		Type: gatewayv1.HTTPRouteFilterResponseHeaderModifier,
		ResponseHeaderModifier: &gatewayv1.HTTPHeaderFilter{
			Set: []gatewayv1.HTTPHeader{{Name: "X-Routed-By", Value: "httproute-demo"}},
		},
	}}
	r := framework.HTTPRoute(demoNS, "demo", "demo", []string{demoHost}, rule)
	if _, err := gw.GatewayV1().HTTPRoutes(demoNS).Create(ctx, r, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the demo HTTPRoute: %w", err)
	}
	return nil
}
