package gateway

import (
	"regexp"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// kindGRPCRoute is the kind of GRPCRoutes.
const kindGRPCRoute = "GRPCRoute"

// h2Suffix ends the name of the backend a GRPCRoute makes of a Service port that does not speak
// HTTP/2 by itself (see backendRef). Service and namespace names have no "_": the name cannot be
// another backend's.
const h2Suffix = "_h2"

// grpcRouteObjs are the GRPCRoutes as HTTPRoutes: gRPC is HTTP/2, a call being a POST of the path
// /<service>/<method>. Attachment, hostnames, filters, backends and status are an HTTPRoute's;
// what differs is in the translation of matches (grpcMatch) and in the backends, which speak
// HTTP/2 to the servers (backendRef).
func (t *translator) grpcRouteObjs() []routeObj {
	out := make([]routeObj, 0, len(t.s.GRPCRoutes))
	for i := range t.s.GRPCRoutes {
		out = append(out, httpRouteObj(kindGRPCRoute, grpcAsHTTP(&t.s.GRPCRoutes[i])))
	}
	return out
}

// grpcAsHTTP is the HTTPRoute a GRPCRoute amounts to. A value HTTPRoutes do not have (a filter
// type) is carried over as it is, for the HTTPRoute translation to refuse with its reason.
func grpcAsHTTP(g *gatewayv1.GRPCRoute) *gatewayv1.HTTPRoute {
	r := &gatewayv1.HTTPRoute{ObjectMeta: g.ObjectMeta}
	r.Spec.ParentRefs = g.Spec.ParentRefs
	r.Spec.Hostnames = g.Spec.Hostnames
	for _, gr := range g.Spec.Rules {
		hr := gatewayv1.HTTPRouteRule{Name: gr.Name, SessionPersistence: gr.SessionPersistence}
		for _, m := range gr.Matches {
			hr.Matches = append(hr.Matches, grpcMatch(m))
		}
		hr.Filters = grpcFilters(gr.Filters)
		for _, b := range gr.BackendRefs {
			hr.BackendRefs = append(hr.BackendRefs, gatewayv1.HTTPBackendRef{BackendRef: b.BackendRef, Filters: grpcFilters(b.Filters)})
		}
		r.Spec.Rules = append(r.Spec.Rules, hr)
	}
	return r
}

// grpcMatch is the HTTPRouteMatch of a GRPCRoute match. The method match becomes a path match:
// Exact service and method the path /<service>/<method>, a service alone the prefix
// /<service>/, a method alone any service's /<service>/<method>; a RegularExpression match
// the expression ^/<service>/<method>$, a missing part matching any. No method condition is
// added: gRPC calls are POSTs, and the backend answers whatever else comes.
func grpcMatch(m gatewayv1.GRPCRouteMatch) gatewayv1.HTTPRouteMatch {
	var hm gatewayv1.HTTPRouteMatch
	if mm := m.Method; mm != nil {
		svc, method := deref(mm.Service), deref(mm.Method)
		typ, value := gatewayv1.PathMatchExact, ""
		if mm.Type != nil && *mm.Type == gatewayv1.GRPCMethodMatchRegularExpression {
			typ, value = gatewayv1.PathMatchRegularExpression, "^/("+or(svc, "[^/]+")+")/("+or(method, "[^/]+")+")$"
		} else {
			switch {
			case svc != "" && method != "":
				value = "/" + svc + "/" + method
			case svc != "":
				typ, value = gatewayv1.PathMatchPathPrefix, "/"+svc+"/"
			case method != "":
				typ, value = gatewayv1.PathMatchRegularExpression, "^/[^/]+/"+regexp.QuoteMeta(method)+"$"
			default:
				typ, value = gatewayv1.PathMatchPathPrefix, "/"
			}
		}
		hm.Path = &gatewayv1.HTTPPathMatch{Type: &typ, Value: &value}
	}
	for _, h := range m.Headers {
		typ := gatewayv1.HeaderMatchExact
		if h.Type != nil && *h.Type == gatewayv1.GRPCHeaderMatchRegularExpression {
			typ = gatewayv1.HeaderMatchRegularExpression
		}
		hm.Headers = append(hm.Headers, gatewayv1.HTTPHeaderMatch{Type: &typ, Name: gatewayv1.HTTPHeaderName(h.Name), Value: h.Value})
	}
	return hm
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// grpcFilters are the HTTPRouteFilters of GRPCRoute filters: the header modifiers are the same;
// any other type is carried by name, which the HTTPRoute translation refuses.
func grpcFilters(fs []gatewayv1.GRPCRouteFilter) []gatewayv1.HTTPRouteFilter {
	var out []gatewayv1.HTTPRouteFilter
	for _, f := range fs {
		hf := gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterType(f.Type)}
		switch f.Type {
		case gatewayv1.GRPCRouteFilterRequestHeaderModifier:
			hf.RequestHeaderModifier = f.RequestHeaderModifier
		case gatewayv1.GRPCRouteFilterResponseHeaderModifier:
			hf.ResponseHeaderModifier = f.ResponseHeaderModifier
		default:
			if f.Type == gatewayv1.GRPCRouteFilterType(gatewayv1.HTTPRouteFilterRequestRedirect) || f.Type == gatewayv1.GRPCRouteFilterType(gatewayv1.HTTPRouteFilterURLRewrite) {
				hf.Type = "GRPC" + hf.Type // not GRPCRoute filters: refused as unknown
			}
		}
		out = append(out, hf)
	}
	return out
}
