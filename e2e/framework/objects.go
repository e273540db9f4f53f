package framework

import (
	"context"
	"crypto/rand"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ControllerName is the spec.controller of IngressClasses that Portcullis serves.
const ControllerName = "portcullis.io/ingress-controller"

// HTTPPortName is the name of the Service port EchoService creates, and the port Prefix and Exact
// route to.
const HTTPPortName = "http"

// cleanupTimeout bounds each API call made from a test cleanup.
const cleanupTimeout = 10 * time.Second

// cleanupContext returns a context for API calls in t.Cleanup, where t.Context is already done.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), cleanupTimeout)
}

// nonDNS matches runs of characters that may not appear in a DNS-1123 label.
var nonDNS = regexp.MustCompile(`[^a-z0-9]+`)

// NewNamespace creates a namespace named e2e-<test name>-<random> and deletes it (without waiting)
// when the test ends. Nothing deletes its contents: no controller-manager runs.
func NewNamespace(t testing.TB) string {
	t.Helper()
	name := nonDNS.ReplaceAllString(strings.ToLower(t.Name()), "-")
	name = strings.Trim(name[:min(len(name), 40)], "-")
	return CreateNamespace(t, "e2e-"+name+"-"+randomSuffix(5))
}

// LongName returns a name of exactly n bytes: prefix, "x" padding, then "-" and five random
// letters and digits, so that names of the greatest length Kubernetes allows (63 for a namespace
// or a Service) stay unique across runs. prefix must start with a letter and leave room for the
// suffix.
func LongName(prefix string, n int) string {
	const suffixLen = 6
	if len(prefix)+suffixLen > n {
		panic("framework.LongName: prefix " + prefix + " too long")
	}
	return prefix + strings.Repeat("x", n-len(prefix)-suffixLen) + "-" + randomSuffix(suffixLen-1)
}

// CreateNamespace creates the namespace name, as given, and deletes it (without waiting) when the
// test ends. Prefer NewNamespace; this is for tests that need a particular name, such as one of
// the greatest length Kubernetes allows (LongName).
func CreateNamespace(t testing.TB, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := Kube().CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if err := Kube().CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
	})
	return name
}

// randomSuffix returns n random lowercase letters and digits.
func randomSuffix(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Service returns a selector-less ClusterIP Service with the given ports.
func Service(ns, name string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: ports},
	}
}

// ServicePort returns a named TCP Service port forwarding to a numbered target port.
func ServicePort(name string, port, targetPort int32) corev1.ServicePort {
	return corev1.ServicePort{
		Name:       name,
		Protocol:   corev1.ProtocolTCP,
		Port:       port,
		TargetPort: intstr.FromInt32(targetPort),
	}
}

// CreateService creates svc and returns the stored object.
func CreateService(t testing.TB, svc *corev1.Service) *corev1.Service {
	t.Helper()
	got, err := Kube().CoreV1().Services(svc.Namespace).Create(t.Context(), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating service %s/%s: %v", svc.Namespace, svc.Name, err)
	}
	return got
}

// UpdateService updates svc (which must carry a resourceVersion) and returns the stored object.
func UpdateService(t testing.TB, svc *corev1.Service) *corev1.Service {
	t.Helper()
	got, err := Kube().CoreV1().Services(svc.Namespace).Update(t.Context(), svc, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating service %s/%s: %v", svc.Namespace, svc.Name, err)
	}
	return got
}

// DeleteService deletes a Service.
func DeleteService(t testing.TB, ns, name string) {
	t.Helper()
	if err := Kube().CoreV1().Services(ns).Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting service %s/%s: %v", ns, name, err)
	}
}

// EndpointState is the condition set of one endpoint in an EndpointSlice.
type EndpointState int

const (
	// StateReady is ready and serving: the normal state.
	StateReady EndpointState = iota
	// StateTerminating is serving and terminating but not ready: a pod draining during shutdown.
	StateTerminating
	// StateNotReady is neither ready nor serving.
	StateNotReady
)

// conditions returns the EndpointSlice conditions of the state.
func (s EndpointState) conditions() discoveryv1.EndpointConditions {
	ready, serving, terminating := false, false, false
	switch s {
	case StateReady:
		ready, serving = true, true
	case StateTerminating:
		serving, terminating = true, true
	}
	return discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating}
}

// Endpoint returns an EndpointSlice endpoint for ip in the given state.
func Endpoint(ip string, state EndpointState) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: state.conditions()}
}

// Endpoint returns the EndpointSlice endpoint of the echo in the given state.
func (e *Echo) Endpoint(state EndpointState) discoveryv1.Endpoint { return Endpoint(e.IP, state) }

// EndpointPort returns a named TCP EndpointSlice port; the name must match the Service port's name.
func EndpointPort(name string, port int32) discoveryv1.EndpointPort {
	protocol := corev1.ProtocolTCP
	return discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &protocol}
}

// EndpointSlice returns an IPv4 EndpointSlice named name that belongs to Service service.
func EndpointSlice(ns, name, service string, ports []discoveryv1.EndpointPort, endpoints ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      name,
			Labels:    map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       ports,
		Endpoints:   endpoints,
	}
}

// CreateEndpointSlice creates slice and returns the stored object.
func CreateEndpointSlice(t testing.TB, slice *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	t.Helper()
	got, err := Kube().DiscoveryV1().EndpointSlices(slice.Namespace).Create(t.Context(), slice, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating endpointslice %s/%s: %v", slice.Namespace, slice.Name, err)
	}
	return got
}

// UpdateEndpointSlice updates slice (which must carry a resourceVersion) and returns the stored object.
func UpdateEndpointSlice(t testing.TB, slice *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	t.Helper()
	got, err := Kube().DiscoveryV1().EndpointSlices(slice.Namespace).Update(t.Context(), slice, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating endpointslice %s/%s: %v", slice.Namespace, slice.Name, err)
	}
	return got
}

// DeleteEndpointSlice deletes an EndpointSlice.
func DeleteEndpointSlice(t testing.TB, ns, name string) {
	t.Helper()
	if err := Kube().DiscoveryV1().EndpointSlices(ns).Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting endpointslice %s/%s: %v", ns, name, err)
	}
}

// EchoService creates Service name with one port named "http" (port 80, target EchoPort) and an
// EndpointSlice, also named name, holding the echoes as ready endpoints.
func EchoService(t testing.TB, ns, name string, echoes ...*Echo) *corev1.Service {
	t.Helper()
	svc := CreateService(t, Service(ns, name, ServicePort(HTTPPortName, 80, EchoPort)))
	CreateEndpointSlice(t, EndpointSlice(ns, name, name,
		[]discoveryv1.EndpointPort{EndpointPort(HTTPPortName, EchoPort)}, readyEndpoints(t, echoes)...))
	return svc
}

// SetEndpoints replaces the endpoints of the EndpointSlice that EchoService created for service
// svc with the echoes, all ready.
func SetEndpoints(t testing.TB, ns, svc string, echoes ...*Echo) {
	t.Helper()
	SetEndpointStates(t, ns, svc, readyEndpoints(t, echoes)...)
}

// SetEndpointStates replaces the endpoints of the EndpointSlice that EchoService created for
// service svc, for instance with echo.Endpoint(StateTerminating).
func SetEndpointStates(t testing.TB, ns, svc string, endpoints ...discoveryv1.Endpoint) {
	t.Helper()
	slices := Kube().DiscoveryV1().EndpointSlices(ns)
	slice, err := slices.Get(t.Context(), svc, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("getting endpointslice %s/%s: %v", ns, svc, err)
	}
	slice.Endpoints = endpoints
	UpdateEndpointSlice(t, slice)
}

// readyEndpoints returns the echoes as ready endpoints. They must share the slice's port.
func readyEndpoints(t testing.TB, echoes []*Echo) []discoveryv1.Endpoint {
	t.Helper()
	endpoints := make([]discoveryv1.Endpoint, 0, len(echoes))
	for _, e := range echoes {
		if e.Port != EchoPort {
			t.Fatalf("echo %s listens on %d, not %d: an EndpointSlice holds one port", e.Name, e.Port, EchoPort)
		}
		endpoints = append(endpoints, e.Endpoint(StateReady))
	}
	return endpoints
}

// Ingress returns an Ingress of IngressClass class ("" for none) with the given rules.
func Ingress(ns, name, class string, rules ...networkingv1.IngressRule) *networkingv1.Ingress {
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       networkingv1.IngressSpec{Rules: rules},
	}
	if class != "" {
		ing.Spec.IngressClassName = &class
	}
	return ing
}

// Rule returns an Ingress rule for host ("" matches any host) with the given paths.
func Rule(host string, paths ...networkingv1.HTTPIngressPath) networkingv1.IngressRule {
	return networkingv1.IngressRule{
		Host: host,
		IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths},
		},
	}
}

// Path returns an Ingress path routing to the named port of a Service.
func Path(pathType networkingv1.PathType, path, service, portName string) networkingv1.HTTPIngressPath {
	return networkingv1.HTTPIngressPath{
		Path:     path,
		PathType: &pathType,
		Backend: networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{
				Name: service,
				Port: networkingv1.ServiceBackendPort{Name: portName},
			},
		},
	}
}

// Prefix returns a Prefix path to the "http" port of a Service.
func Prefix(path, service string) networkingv1.HTTPIngressPath {
	return Path(networkingv1.PathTypePrefix, path, service, HTTPPortName)
}

// Exact returns an Exact path to the "http" port of a Service.
func Exact(path, service string) networkingv1.HTTPIngressPath {
	return Path(networkingv1.PathTypeExact, path, service, HTTPPortName)
}

// CreateIngress creates ing and returns the stored object.
func CreateIngress(t testing.TB, ing *networkingv1.Ingress) *networkingv1.Ingress {
	t.Helper()
	got, err := Kube().NetworkingV1().Ingresses(ing.Namespace).Create(t.Context(), ing, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating ingress %s/%s: %v", ing.Namespace, ing.Name, err)
	}
	return got
}

// UpdateIngress updates ing (which must carry a resourceVersion) and returns the stored object.
func UpdateIngress(t testing.TB, ing *networkingv1.Ingress) *networkingv1.Ingress {
	t.Helper()
	got, err := Kube().NetworkingV1().Ingresses(ing.Namespace).Update(t.Context(), ing, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating ingress %s/%s: %v", ing.Namespace, ing.Name, err)
	}
	return got
}

// DeleteIngress deletes an Ingress.
func DeleteIngress(t testing.TB, ns, name string) {
	t.Helper()
	if err := Kube().NetworkingV1().Ingresses(ns).Delete(t.Context(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting ingress %s/%s: %v", ns, name, err)
	}
}

// CreateIngressClass creates a cluster-scoped IngressClass served by controller (ControllerName for
// Portcullis) and deletes it when the test ends. Use a name unique to the test, such as its
// namespace: IngressClasses are shared by all tests of the run.
func CreateIngressClass(t testing.TB, name, controller string) *networkingv1.IngressClass {
	t.Helper()
	classes := Kube().NetworkingV1().IngressClasses()
	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: controller},
	}
	got, err := classes.Create(t.Context(), ic, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating ingressclass %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if err := classes.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("deleting ingressclass %s: %v", name, err)
		}
	})
	return got
}
