package ingress

import (
	"fmt"
	"regexp"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// Canary Ingresses (the canary setting, ingress-nginx's canary annotation): the paths of a
// canary Ingress claim no route. Each joins the route another Ingress serves with the same host,
// path and path type, as its canary: the requests its header or cookie selects go to it, then
// a share of the others by weight. The header and cookie choices are conditional routes on the
// same host and path, which the renderer tries before the route itself:
//
//   - header H with a value V (or a pattern P): H equal to V (matching P) -> canary;
//   - header H alone: H "always" -> canary, H "never" -> main backend;
//   - cookie C: C "always" -> canary, C "never" -> main backend, unless the header decided:
//     the cookie routes also carry the negation of each header condition, so that the two
//     kinds never both match and their order does not matter.
//
// Everything else takes the route itself, whose backends are weighted. The routes the canary
// adds carry the main route's policy and the canary Ingress as their source.

// canaryRoutes joins each canary path to the route that serves its key, once resolveClaims has
// given every key to its Ingress.
func (t *translator) canaryRoutes() {
	if len(t.canaries) == 0 {
		return
	}
	index := map[model.RouteKey]int{}
	for i, rt := range t.res.Config.HTTPRoutes {
		index[rt.Key()] = i
	}
	joined := map[model.RouteKey]ObjectRef{}
	for _, c := range t.canaries {
		key := c.route.Key()
		i, ok := index[key]
		if !ok {
			t.problem(c.ing, Warning, "CanaryWithoutRoute", fmt.Sprintf(
				"%s: no other Ingress serves host %q path %q (%s); this canary path is ignored",
				c.where, c.host, c.path.Path, c.route.Match.Kind))
			continue
		}
		main := t.res.Config.HTTPRoutes[i]
		if by, taken := joined[key]; taken {
			if by != refOf(c.ing) {
				t.problem(c.ing, Warning, "CanaryConflict", fmt.Sprintf(
					"%s: host %q path %q (%s) already has the canary Ingress %s/%s; this canary path is ignored",
					c.where, c.host, c.path.Path, c.route.Match.Kind, by.Namespace, by.Name))
			}
			continue
		}
		if len(main.Backends) != 1 {
			t.problem(c.ing, Warning, "CanaryConflict", fmt.Sprintf(
				"%s: the route of host %q path %q (%s) already has a canary-service; this canary path is ignored",
				c.where, c.host, c.path.Path, c.route.Match.Kind))
			continue
		}
		b := c.path.Backend.Service
		canary, ok := t.serviceBackend(c.ing, b.Name, b.Port, c.where+".backend", "canary ")
		if !ok {
			continue
		}
		joined[key] = refOf(c.ing)
		r := t.settings.route(c.ing)
		mainBackend := main.Backends[0].Name
		if w := r.CanaryWeight.Value; w > 0 {
			// Weights move through the runtime API: a change of the share needs no reload.
			t.res.Config.HTTPRoutes[i].Backends = []model.WeightedBackend{{Name: mainBackend, Weight: 100 - w}, {Name: canary, Weight: w}}
		}
		add := func(to string, conds ...model.ValueMatch) {
			rt := main
			rt.Headers = conds
			rt.Backends = []model.WeightedBackend{{Name: to, Weight: 1}}
			rt.Source = refOf(c.ing)
			t.res.Claims[rt.Key()] = rt.Source
			t.res.Config.HTTPRoutes = append(t.res.Config.HTTPRoutes, rt)
		}
		var negated []model.ValueMatch
		if h := string(r.CanaryByHeader.Value); h != "" {
			switch v, p := string(r.CanaryByHeaderValue.Value), string(r.CanaryByHeaderPattern.Value); {
			case v != "":
				add(canary, model.ValueMatch{Name: h, Value: v})
				negated = append(negated, model.ValueMatch{Name: h, Value: v, Negate: true})
			case p != "":
				add(canary, model.ValueMatch{Name: h, Value: p, Regex: true})
				negated = append(negated, model.ValueMatch{Name: h, Value: p, Regex: true, Negate: true})
			default:
				add(canary, model.ValueMatch{Name: h, Value: "always"})
				add(mainBackend, model.ValueMatch{Name: h, Value: "never"})
				negated = append(negated, model.ValueMatch{Name: h, Value: "always", Negate: true},
					model.ValueMatch{Name: h, Value: "never", Negate: true})
			}
		}
		if ck := r.CanaryByCookie.Value; ck != "" {
			add(canary, append([]model.ValueMatch{cookieIs(ck, "always")}, negated...)...)
			add(mainBackend, append([]model.ValueMatch{cookieIs(ck, "never")}, negated...)...)
		}
	}
}

// cookieIs is a condition on the Cookie header: the cookie name has the value v.
func cookieIs(name, v string) model.ValueMatch {
	return model.ValueMatch{Name: "Cookie", Value: `(^|;\s*)` + regexp.QuoteMeta(name) + "=" + regexp.QuoteMeta(v) + `(;|$)`, Regex: true}
}
