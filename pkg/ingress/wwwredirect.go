package ingress

import (
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// wwwRedirects adds, for each host of an Ingress with www-redirect (ingress-nginx's
// from-to-www-redirect), a route for its other form (with or without "www.") that redirects
// every request to the host, unless some route already serves that form. The route takes the
// backends of the host's first route; no request reaches them.
func (t *translator) wwwRedirects() {
	ings := map[ObjectRef]*networkingv1.Ingress{}
	for _, c := range t.claims {
		ings[refOf(c.ing)] = c.ing
	}
	served := map[string]bool{}
	for _, rt := range t.res.Config.HTTPRoutes {
		served[rt.Match.Host] = true
	}
	var added []model.HTTPRoute
	for _, rt := range t.res.Config.HTTPRoutes {
		ing := ings[rt.Source]
		if ing == nil || !t.settings.route(ing).WWWRedirect.Value || rt.Match.Host == "" || strings.HasPrefix(rt.Match.Host, "*.") {
			continue
		}
		other, ok := strings.CutPrefix(rt.Match.Host, "www.")
		if !ok {
			other = "www." + rt.Match.Host
		}
		if served[other] || limits.CheckDNSName(other) != nil || !model.ValidMapHost(other) {
			continue
		}
		served[other] = true
		added = append(added, model.HTTPRoute{
			Match:    model.HTTPMatch{Table: rt.Match.Table, Host: other, Path: "/", Kind: model.MatchPrefix},
			Policy:   model.RoutePolicy{HostRedirect: &model.HostRedirect{Host: rt.Match.Host, Code: t.settings.route(ing).SSLRedirectCode.Value}},
			Backends: rt.Backends[:1:1],
			Source:   rt.Source,
		})
	}
	for _, rt := range added {
		t.res.Claims[rt.Key()] = rt.Source
	}
	t.res.Config.HTTPRoutes = append(t.res.Config.HTTPRoutes, added...)
}
