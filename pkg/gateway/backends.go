package gateway

import (
	"errors"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/portcullis-ingress/portcullis/pkg/annotations"
	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// maxWeight is the largest weight of the model; Gateway API weights go to 1,000,000 and are
// scaled down.
const maxWeight = 256

// backendRefs resolves a rule's backendRefs to weighted backends. A reference that cannot be
// resolved keeps its share as WeightedBackend{Name: ""}, answered 500, and makes ResolvedRefs
// False (the first failure's reason stands). A rule without backends, or whose weights are all
// zero, answers 500.
func (t *translator) backendRefs(src diag.Object, refs []gatewayv1.HTTPBackendRef, where string, tr *translatedRules) []model.WeightedBackend {
	var out []model.WeightedBackend
	total := 0
	for i, b := range refs {
		w := 1
		if b.Weight != nil {
			w = int(*b.Weight)
		}
		total += w
		name, reason, msg := t.backendRef(src, b.BackendObjectReference, fmt.Sprintf("%s.backendRefs[%d]", where, i))
		if reason != "" && tr.refsOK {
			tr.refsOK, tr.refsReason, tr.refsMsg = false, reason, msg
		}
		if reason != "" {
			t.problem(src, diag.Warning, string(reason), "%s; its share of requests gets 500", msg)
		}
		out = append(out, model.WeightedBackend{Name: name, Weight: w})
	}
	if total == 0 {
		return []model.WeightedBackend{{Name: "", Weight: 1}}
	}
	return scaleWeights(out)
}

// scaleWeights brings weights into 0..maxWeight, keeping their proportions as closely as
// integers allow; a non-zero weight stays non-zero.
func scaleWeights(bs []model.WeightedBackend) []model.WeightedBackend {
	top := 0
	for _, b := range bs {
		top = max(top, b.Weight)
	}
	if top <= maxWeight {
		return bs
	}
	for i := range bs {
		if w := bs[i].Weight; w > 0 {
			bs[i].Weight = max(1, (w*maxWeight+top/2)/top)
		}
	}
	return bs
}

// backendRef resolves one reference of the route src: a core Service port, in the route's
// namespace or, with a ReferenceGrant, another. Some kinds of route make a backend of their own
// of the Service port, so that it does not conflict with the HTTP/1 backend an Ingress or an
// HTTPRoute makes of it:
//   - A GRPCRoute's backends speak HTTP/2 to the servers: when the Service port does not say
//     so already (appProtocol kubernetes.io/h2c, or the server-proto annotation), its backend
//     is named with the suffix "_h2".
//   - A TLSRoute's backends relay TLS connections unterminated, whatever the port's appProtocol
//     says: they are named with the prefix "tls_" (as the Ingress source's ssl-passthrough
//     backends, which they share).
func (t *translator) backendRef(src diag.Object, b gatewayv1.BackendObjectReference, where string) (string, gatewayv1.RouteConditionReason, string) {
	group, kind := "", kindService
	if b.Group != nil {
		group = string(*b.Group)
	}
	if b.Kind != nil {
		kind = string(*b.Kind)
	}
	if group != "" || kind != kindService {
		return "", gatewayv1.RouteReasonInvalidKind, fmt.Sprintf("%s: %s %q is not a Service", where, groupKind(group, kind), clip(string(b.Name)))
	}
	ns := src.Namespace
	if b.Namespace != nil && *b.Namespace != "" {
		ns = string(*b.Namespace)
	}
	key := types.NamespacedName{Namespace: ns, Name: string(b.Name)}
	if !t.grants.allows(ref{groupGateway, src.Kind, src.Namespace, src.Name}, ref{"", kindService, ns, key.Name}) {
		return "", gatewayv1.RouteReasonRefNotPermitted, fmt.Sprintf("%s: Service %s is in another namespace, and no ReferenceGrant there allows it", where, key)
	}
	if b.Port == nil {
		return "", gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("%s: Service %s: a port is required", where, key)
	}
	name := ingress.BackendName(ns, key.Name, strconv.Itoa(int(*b.Port)))
	tls, h2 := src.Kind == kindTLSRoute, src.Kind == kindGRPCRoute
	longest := name + h2Suffix
	if tls {
		name = tlsBackendPrefix + name
		longest = name
	}
	if !model.ValidBackendName(longest) {
		return "", gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("%s: Service %s port %d is not a valid name", where, key, *b.Port)
	}
	svc, ok := t.cl.Service(key)
	if !ok {
		return "", gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("%s: Service %s not found", where, key)
	}
	sp, found := resolve.FindServicePort(svc, "", *b.Port)
	switch {
	case !found:
		return "", gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("%s: Service %s has no port %d", where, key, *b.Port)
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		return "", gatewayv1.RouteReasonBackendNotFound, fmt.Sprintf("%s: Service %s is of type ExternalName, which is not supported", where, key)
	}
	names := []string{name}
	if h2 {
		names = append(names, name+h2Suffix)
	}
	for _, n := range names {
		if be, done := t.backends[n]; done && (!h2 || be.Policy.ServerH2) {
			be.Sources = append(be.Sources, src)
			return n, "", ""
		}
	}
	if tls {
		sp.AppProtocol = nil
	}
	policy, step := t.backendPolicy(svc, sp)
	if h2 && !policy.ServerH2 {
		policy.ServerH2 = true
		name += h2Suffix
	}
	be := &model.Backend{Name: name, Sources: []diag.Object{src, {Kind: kindService, Namespace: ns, Name: key.Name}}}
	be.Policy, be.SlotStep = policy, step
	be.Servers = t.servers(key, sp, name)
	t.backends[name] = be
	return name, "", ""
}

// serviceLayer parses a Service's annotations once per translation.
func (t *translator) serviceLayer(svc *corev1.Service) annotations.Layer {
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	l, ok := t.services[key]
	if !ok {
		var probs []annotations.Problem
		l, probs = annotations.Parse(annotations.SourceService, svc.Annotations)
		for _, p := range probs {
			t.res.Problems = append(t.res.Problems, p.For(diag.Object{Kind: kindService, Namespace: svc.Namespace, Name: svc.Name}))
		}
		t.services[key] = l
	}
	return l
}

// backendPolicy resolves a Service port's backend settings as the Ingress source does for an
// Ingress without settings of its own: Service > the port's appProtocol (see
// annotations.WithAppProtocol) > ConfigMap > default. The Ingress source names the backend of
// the same Service port alike, so that the two merge into one backend. It returns the
// server-slot step too.
func (t *translator) backendPolicy(svc *corev1.Service, sp corev1.ServicePort) (model.BackendPolicy, int) {
	b := annotations.ResolveBackend(t.serviceLayer(svc), annotations.Layer{}, t.cm).WithAppProtocol(sp.AppProtocol)
	p := ingress.BasePolicy(b)
	if b.ServerSSL.Value {
		p.ServerTLS = t.serverTLS(svc, b, &p)
	}
	step := b.ServerSlots.Value
	if b.ServerSlots.Source == annotations.SourceService && step > limits.MaxServerSlotsAnnotation {
		// The same problem as the Ingress source's, so that a Service both use is reported once.
		step = limits.MaxServerSlotsAnnotation
		t.problem(diag.Object{Kind: kindService, Namespace: svc.Namespace, Name: svc.Name}, diag.Warning, "ServerSlotsClamped",
			"%s: %d is more than an Ingress or a Service may ask for (%d); its backends get %d slots per step",
			b.ServerSlots.Key, b.ServerSlots.Value, limits.MaxServerSlotsAnnotation, limits.MaxServerSlotsAnnotation)
	}
	return p, step
}

// serverTLS loads the CA and client certificate of a backend that speaks TLS to its servers; an
// unusable one makes the backend answer 503 rather than connect without them.
func (t *translator) serverTLS(svc *corev1.Service, b annotations.BackendSettings, p *model.BackendPolicy) *model.ServerTLS {
	st := &model.ServerTLS{}
	obj := diag.Object{Kind: kindService, Namespace: svc.Namespace, Name: svc.Name}
	if name := b.ServerCA.Value; name != "" {
		ca, err := t.cl.CABundle(types.NamespacedName{Namespace: svc.Namespace, Name: name})
		if err != nil {
			t.problem(obj, diag.Error, "InvalidSecret", "%s: secret %q: %v; requests get 503", b.ServerCA.Key, name, err)
			p.Unavailable = true
		} else {
			st.CA = &model.Certificate{Name: model.CertName(ca), PEM: ca}
		}
	}
	if name := b.ServerCrt.Value; name != "" {
		c, err := t.cl.Certificate(types.NamespacedName{Namespace: svc.Namespace, Name: name})
		switch {
		case errors.Is(err, resolve.ErrNotFound):
			t.problem(obj, diag.Error, "SecretNotFound", "%s: secret %q not found; requests get 503", b.ServerCrt.Key, name)
			p.Unavailable = true
		case err != nil:
			t.problem(obj, diag.Error, "InvalidCertificate", "%s: secret %q: %v; requests get 503", b.ServerCrt.Key, name, err)
			p.Unavailable = true
		default:
			st.Client = &model.Certificate{Name: model.CertName(c.PEM), PEM: c.PEM}
		}
	}
	return st
}
