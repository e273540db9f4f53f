package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// GatewayControllerName is the spec.controllerName of the GatewayClasses Portcullis serves (the
// default of --gateway-controller-name).
const GatewayControllerName = "portcullis.io/gateway-controller"

// gatewayCRDDir holds the standard-channel Gateway API CRDs, relative to the repository root: the
// chart's copies of the module's files (a test keeps them equal).
var gatewayCRDDir = filepath.Join("deploy", "helm", "portcullis", "files", "gateway-api-crds")

// installGatewayAPI creates the standard-channel Gateway API CRDs (and upstream's admission policy
// that comes with them) in a fresh control plane and waits until the API server serves the
// resources the controller watches. Objects that exist already are left as they are.
func (cp *controlPlane) installGatewayAPI() error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(root, gatewayCRDDir, "*.yaml"))
	if err != nil {
		return fmt.Errorf("installing the Gateway API CRDs: %w", err)
	}
	if len(files) == 0 {
		return fmt.Errorf("installing the Gateway API CRDs: none in %s", gatewayCRDDir)
	}
	dyn, err := dynamic.NewForConfig(cp.restConfig)
	if err != nil {
		return fmt.Errorf("installing the Gateway API CRDs: %w", err)
	}
	resources := map[string]schema.GroupVersionResource{
		"CustomResourceDefinition":         {Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
		"ValidatingAdmissionPolicy":        {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"},
		"ValidatingAdmissionPolicyBinding": {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("installing the Gateway API CRDs: %w", err)
		}
		objs, err := DecodeObjects(string(data))
		if err != nil {
			return fmt.Errorf("installing the Gateway API CRDs: decoding %s: %w", f, err)
		}
		for _, o := range objs {
			gvr, ok := resources[o.GetKind()]
			if !ok {
				return fmt.Errorf("installing the Gateway API CRDs: unexpected kind %s in %s", o.GetKind(), f)
			}
			if _, err := dyn.Resource(gvr).Create(ctx, o, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("installing the Gateway API CRDs: creating %s %s: %w", o.GetKind(), o.GetName(), err)
			}
		}
	}
	want := map[string][]string{
		gatewayv1.GroupVersion.String():      {"gatewayclasses", "gateways", "httproutes", "grpcroutes"},
		gatewayv1beta1.GroupVersion.String(): {"referencegrants"},
	}
	var missing []string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		missing = nil
		for gv, names := range want {
			list, err := cp.kube.Discovery().ServerResourcesForGroupVersion(gv)
			for _, n := range names {
				if err != nil || !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == n }) {
					missing = append(missing, n+"."+gv)
				}
			}
		}
		if len(missing) == 0 {
			cp.gateway, err = gatewayclient.NewForConfig(cp.restConfig)
			return err
		}
	}
	return fmt.Errorf("installing the Gateway API CRDs: not served after 30s: %s", strings.Join(missing, ", "))
}

// Gateway returns an admin client of the Gateway API objects of the test cluster.
func Gateway() gatewayclient.Interface { return cluster().gateway }

// GatewayClass returns a GatewayClass of Portcullis's controller name.
func GatewayClass(name string) *gatewayv1.GatewayClass {
	return &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: GatewayControllerName},
	}
}

// CreateGatewayClass creates a GatewayClass of controllerName named after the test (GatewayClasses
// are cluster-wide: give each test's controller a name of its own) and deletes it when the test
// ends. It returns its name.
func CreateGatewayClass(t testing.TB, controllerName string) string {
	t.Helper()
	name := nonDNS.ReplaceAllString(strings.ToLower(t.Name()), "-")
	name = strings.Trim(name[:min(len(name), 40)], "-") + "-" + randomSuffix(5)
	gc := GatewayClass(name)
	gc.Spec.ControllerName = gatewayv1.GatewayController(controllerName)
	if _, err := Gateway().GatewayV1().GatewayClasses().Create(t.Context(), gc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating GatewayClass %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		if err := Gateway().GatewayV1().GatewayClasses().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting GatewayClass %s: %v", name, err)
		}
	})
	return name
}

// HTTPListener returns a listener of protocol HTTP on port, for hostname (empty: any), that
// admits routes of its Gateway's namespace.
func HTTPListener(name string, port int32, hostname string) gatewayv1.Listener {
	l := gatewayv1.Listener{Name: gatewayv1.SectionName(name), Port: port, Protocol: gatewayv1.HTTPProtocolType}
	if hostname != "" {
		h := gatewayv1.Hostname(hostname)
		l.Hostname = &h
	}
	return l
}

// GatewayObject returns a Gateway of class with listeners.
func GatewayObject(ns, name, class string, listeners ...gatewayv1.Listener) *gatewayv1.Gateway {
	return &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       gatewayv1.GatewaySpec{GatewayClassName: gatewayv1.ObjectName(class), Listeners: listeners},
	}
}

// CreateGateway creates g and returns the stored object.
func CreateGateway(t testing.TB, g *gatewayv1.Gateway) *gatewayv1.Gateway {
	t.Helper()
	got, err := Gateway().GatewayV1().Gateways(g.Namespace).Create(t.Context(), g, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating Gateway %s/%s: %v", g.Namespace, g.Name, err)
	}
	return got
}

// BackendRef is a backendRef to port of a Service, with a weight; a non-empty namespace makes it
// cross-namespace.
func BackendRef(namespace, service string, port int32, weight int32) gatewayv1.HTTPBackendRef {
	p := gatewayv1.PortNumber(port)
	ref := gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(service), Port: &p},
		Weight:                 &weight,
	}}
	if namespace != "" {
		n := gatewayv1.Namespace(namespace)
		ref.Namespace = &n
	}
	return ref
}

// PathPrefixRule is an HTTPRoute rule matching a path prefix, sending to backends.
func PathPrefixRule(prefix string, backends ...gatewayv1.HTTPBackendRef) gatewayv1.HTTPRouteRule {
	typ := gatewayv1.PathMatchPathPrefix
	return gatewayv1.HTTPRouteRule{
		Matches:     []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &typ, Value: &prefix}}},
		BackendRefs: backends,
	}
}

// HTTPRoute returns an HTTPRoute attached to the Gateway gateway of its namespace, for hostnames.
func HTTPRoute(ns, name, gateway string, hostnames []string, rules ...gatewayv1.HTTPRouteRule) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: gatewayv1.ObjectName(gateway)}}},
			Rules:           rules,
		},
	}
	for _, h := range hostnames {
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(h))
	}
	return r
}

// CreateHTTPRoute creates r and returns the stored object.
func CreateHTTPRoute(t testing.TB, r *gatewayv1.HTTPRoute) *gatewayv1.HTTPRoute {
	t.Helper()
	got, err := Gateway().GatewayV1().HTTPRoutes(r.Namespace).Create(t.Context(), r, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating HTTPRoute %s/%s: %v", r.Namespace, r.Name, err)
	}
	return got
}

// UpdateHTTPRoute re-reads an HTTPRoute, applies change to it and updates it, retrying on
// conflicts (the controller writes its status meanwhile).
func UpdateHTTPRoute(t testing.TB, ns, name string, change func(*gatewayv1.HTTPRoute)) *gatewayv1.HTTPRoute {
	t.Helper()
	for range 10 {
		r, err := Gateway().GatewayV1().HTTPRoutes(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("reading HTTPRoute %s/%s: %v", ns, name, err)
		}
		change(r)
		got, err := Gateway().GatewayV1().HTTPRoutes(ns).Update(t.Context(), r, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatalf("updating HTTPRoute %s/%s: %v", ns, name, err)
		}
		return got
	}
	t.Fatalf("updating HTTPRoute %s/%s: conflicts ten times in a row", ns, name)
	return nil
}

// ReferenceGrant returns a ReferenceGrant in ns that lets the HTTPRoutes of fromNamespace refer
// to the Services of ns.
func ReferenceGrant(ns, name, fromNamespace string) *gatewayv1beta1.ReferenceGrant {
	return &gatewayv1beta1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gatewayv1.ReferenceGrantSpec{
			From: []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(fromNamespace)}},
			To:   []gatewayv1.ReferenceGrantTo{{Group: corev1.GroupName, Kind: "Service"}},
		},
	}
}

// CreateReferenceGrant creates g and returns the stored object.
func CreateReferenceGrant(t testing.TB, g *gatewayv1beta1.ReferenceGrant) *gatewayv1beta1.ReferenceGrant {
	t.Helper()
	got, err := Gateway().GatewayV1beta1().ReferenceGrants(g.Namespace).Create(t.Context(), g, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating ReferenceGrant %s/%s: %v", g.Namespace, g.Name, err)
	}
	return got
}

// FindCondition returns the condition of type typ, or nil.
func FindCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// ExpectCondition reports an error unless conds holds typ with status and, when reason is not
// empty, reason.
func ExpectCondition(what string, conds []metav1.Condition, typ string, status metav1.ConditionStatus, reason string) error {
	c := FindCondition(conds, typ)
	switch {
	case c == nil:
		return fmt.Errorf("%s has no %s condition (conditions: %+v)", what, typ, conds)
	case c.Status != status || (reason != "" && c.Reason != reason):
		return fmt.Errorf("%s: %s is %s (%s: %s), want %s %s", what, typ, c.Status, c.Reason, c.Message, status, reason)
	}
	return nil
}

// RouteParentStatus returns the entry of an HTTPRoute's status.parents that the controller named
// controllerName wrote for the Gateway gateway, or an error.
func RouteParentStatus(ctx context.Context, controllerName, ns, name, gateway string) (gatewayv1.RouteParentStatus, error) {
	r, err := Gateway().GatewayV1().HTTPRoutes(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return gatewayv1.RouteParentStatus{}, err
	}
	for _, p := range r.Status.Parents {
		if string(p.ControllerName) == controllerName && string(p.ParentRef.Name) == gateway {
			return p, nil
		}
	}
	return gatewayv1.RouteParentStatus{}, fmt.Errorf("HTTPRoute %s/%s has no status for Gateway %s yet (parents: %+v)", ns, name, gateway, r.Status.Parents)
}
