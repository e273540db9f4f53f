package gateway

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/annotations"
	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// Kinds and groups, as objects and problems name them.
const (
	groupGateway = gatewayv1.GroupName
	kindGateway  = "Gateway"
	kindRoute    = "HTTPRoute"
	kindClass    = "GatewayClass"
	kindService  = "Service"
	kindSecret   = "Secret"
)

// Translate computes the Gateway API fragment of the configuration, the problems found, and the
// statuses of the GatewayClasses, Gateways and HTTPRoutes of our classes.
func Translate(s State, o Options) Result {
	t := &translator{
		s: s, o: o, cl: s.Cluster,
		backends: map[string]*model.Backend{},
		services: map[types.NamespacedName]annotations.Layer{},
		claimed:  map[model.RouteKey]diag.Object{},
		binds:    map[bindKey]*bind{},
	}
	if t.cl == nil {
		t.cl = resolve.New(nil, nil, nil, resolve.AddressPolicy{})
	}
	t.res.Status = Status{
		GatewayClasses: map[string]gatewayv1.GatewayClassStatus{},
		Gateways:       map[types.NamespacedName]gatewayv1.GatewayStatus{},
		HTTPRoutes:     map[types.NamespacedName][]gatewayv1.RouteParentStatus{},
		TLSRoutes:      map[types.NamespacedName][]gatewayv1.RouteParentStatus{},
		GRPCRoutes:     map[types.NamespacedName][]gatewayv1.RouteParentStatus{},
	}
	if o.ControllerName == "" {
		return t.res
	}
	if s.ConfigMap != nil {
		t.cm, _ = annotations.Parse(annotations.SourceConfigMap, s.ConfigMap.Data) // the Ingress source reports its problems
	}
	t.nsLabels = map[string]labels.Set{}
	for _, ns := range s.Namespaces {
		t.nsLabels[ns.Name] = labels.Set(ns.Labels)
	}
	t.grants = newGrants(s.ReferenceGrants)
	classes := t.classes()
	t.gateways(classes)
	t.routes()
	t.tlsRoutes()
	t.finish()
	return t.res
}

type translator struct {
	s        State
	o        Options
	cl       *resolve.Cluster
	cm       annotations.Layer
	nsLabels map[string]labels.Set
	grants   grants
	// gws are our Gateways, oldest first; byName finds them.
	gws    []*gw
	byName map[types.NamespacedName]*gw
	// binds are the address:port binds of the Gateways' listeners; bindOrder lists them in the
	// order they were made.
	binds     map[bindKey]*bind
	bindOrder []*bind
	backends  map[string]*model.Backend
	services  map[types.NamespacedName]annotations.Layer
	// claimed holds the route that took each route key first.
	claimed map[model.RouteKey]diag.Object
	res     Result
}

func (t *translator) problem(obj diag.Object, sev diag.Severity, reason, format string, a ...any) {
	t.res.Problems = append(t.res.Problems, diag.Problem{Object: obj, Severity: sev, Reason: reason, Message: fmt.Sprintf(format, a...)})
}

// olderFirst orders objects by creation time, then namespace and name.
func olderFirst(a, b *metav1.ObjectMeta) int {
	if c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

// condition is a condition without its LastTransitionTime, which the status writer sets.
func condition[T, R ~string](typ T, ok bool, reason R, gen int64, format string, a ...any) metav1.Condition {
	st := metav1.ConditionFalse
	if ok {
		st = metav1.ConditionTrue
	}
	return metav1.Condition{Type: string(typ), Status: st, Reason: string(reason), ObservedGeneration: gen, Message: fmt.Sprintf(format, a...)}
}

// classes computes the status of our GatewayClasses and returns the names of those accepted.
func (t *translator) classes() map[string]bool {
	ok := map[string]bool{}
	for i := range t.s.GatewayClasses {
		c := &t.s.GatewayClasses[i]
		if string(c.Spec.ControllerName) != t.o.ControllerName {
			continue
		}
		st := gatewayv1.GatewayClassStatus{SupportedFeatures: statusFeatures()}
		if p := c.Spec.ParametersRef; p != nil {
			st.Conditions = []metav1.Condition{condition(gatewayv1.GatewayClassConditionStatusAccepted, false, gatewayv1.GatewayClassReasonInvalidParameters, c.Generation,
				"parametersRef: this controller takes no parameters (%s %s/%s); its Gateways are not served", p.Kind, p.Group, p.Name)}
			t.problem(diag.Object{Kind: kindClass, Name: c.Name}, diag.Warning, string(gatewayv1.GatewayClassReasonInvalidParameters),
				"parametersRef: this controller takes no parameters; the class's Gateways are not served")
		} else {
			ok[c.Name] = true
			st.Conditions = []metav1.Condition{condition(gatewayv1.GatewayClassConditionStatusAccepted, true, gatewayv1.GatewayClassReasonAccepted, c.Generation,
				"handled by %s", t.o.ControllerName)}
		}
		t.res.Status.GatewayClasses[c.Name] = st
	}
	return ok
}

// namespaceLabels are the labels of a namespace, for allowedRoutes selectors.
func (t *translator) namespaceLabels(ns string) labels.Set { return t.nsLabels[ns] }

// finish sorts the fragment and collects what the parts left.
func (t *translator) finish() {
	for _, b := range t.bindOrder {
		if l, ok := b.modelListener(); ok {
			t.res.Config.Listeners = append(t.res.Config.Listeners, l)
		}
	}
	for _, b := range t.backends {
		slices.SortFunc(b.Sources, diag.Compare)
		b.Sources = slices.Compact(b.Sources)
		t.res.Config.Backends = append(t.res.Config.Backends, *b)
	}
	t.res.Config.Normalize()
	for _, g := range t.gws {
		t.res.Status.Gateways[g.key] = g.status()
	}
}

// servers lists the ready endpoints of a Service port, remembering the backend they feed.
func (t *translator) servers(svc types.NamespacedName, sp corev1.ServicePort, backend string) []model.Server {
	if t.res.Endpoints == nil {
		t.res.Endpoints = map[types.NamespacedName][]resolve.Feed{}
	}
	t.res.Endpoints[svc] = append(t.res.Endpoints[svc], resolve.Feed{Backend: backend, Port: sp})
	return t.cl.Servers(svc, sp)
}
