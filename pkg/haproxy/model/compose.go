package model

import (
	"fmt"
	"slices"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
)

// Compose merges the configurations that several sources (Ingress, Gateway API routes, TCP
// services) produced into one, in the order given. The rules, where two parts want the same thing:
//
//   - a route (HTTP: same host, path, match and conditions; TCP: same listener and SNI) goes to the object that held it
//     before (incumbents), else to the earlier part; the other gets a RouteConflict problem;
//   - listeners are merged by name: a later part's listener of the same name must be the same
//     listener (address, port, protocol, route table, PROXY networks), and a certificate (name
//     and client-certificate settings) served by an earlier part is not taken over (its SNI
//     names stay the earlier part's); a listener whose address and port an earlier listener
//     binds (see Bind.Conflicts) is left out with a ListenerConflict problem;
//   - backends are merged by name: the earlier part's backend stands, and a later part's backend
//     of that name with other settings gets a BackendConflict problem (its routes use the earlier
//     one's);
//   - HTTPS redirects are merged by host, the earlier part's standing;
//   - process-wide values (Global, Stats, Monitor, SlotStep, Spares, DefaultBackend) are the first part's
//     that sets them.
func Compose(parts []Config, incumbents map[RouteKey]diag.Object) (Config, []diag.Problem) {
	var out Config
	var probs []diag.Problem
	conflict := func(objs []diag.Object, reason, msg string) {
		for _, o := range objs {
			probs = append(probs, diag.Problem{Object: o, Severity: diag.Warning, Reason: reason, Message: msg})
		}
	}
	routeAt := map[RouteKey]int{}
	tcpAt := map[string]int{}
	backendAt := map[string]int{}
	redirect := map[string]bool{}
	for _, p := range parts {
		if out.Global.Equal(Global{}) && len(out.Global.Sources) == 0 {
			out.Global = p.Global
		}
		if out.Stats == (Bind{}) {
			out.Stats = p.Stats
		}
		if out.Monitor == (Monitor{}) {
			out.Monitor = p.Monitor
		}
		if out.SlotStep == 0 {
			out.SlotStep = p.SlotStep
		}
		if out.Spares.Count == 0 {
			out.Spares = p.Spares
		}
		if out.DefaultBackend == "" {
			out.DefaultBackend = p.DefaultBackend
		}
		for _, l := range p.Listeners {
			out.Listeners, probs = mergeListener(out.Listeners, l, probs)
		}
		for _, b := range p.Backends {
			i, seen := backendAt[b.Name]
			switch {
			case !seen:
				backendAt[b.Name] = len(out.Backends)
				out.Backends = append(out.Backends, b)
			case !sameBackend(out.Backends[i], b):
				conflict(b.Sources, "BackendConflict", fmt.Sprintf(
					"backend %s is defined by %s with other settings; that definition is used", b.Name, objectList(out.Backends[i].Sources)))
			default:
				out.Backends[i].Sources = append(out.Backends[i].Sources, b.Sources...)
			}
		}
		for _, rt := range p.HTTPRoutes {
			key := rt.Key()
			i, seen := routeAt[key]
			if !seen {
				routeAt[key] = len(out.HTTPRoutes)
				out.HTTPRoutes = append(out.HTTPRoutes, rt)
				continue
			}
			winner, loser := out.HTTPRoutes[i], rt
			if inc, ok := incumbents[key]; ok && inc == rt.Source && inc != winner.Source {
				winner, loser = rt, winner
			}
			out.HTTPRoutes[i] = winner
			conflict([]diag.Object{loser.Source}, "RouteConflict", fmt.Sprintf(
				"host %q path %q (%s) is already served by %s; this route is ignored", rt.Match.Host, rt.Match.Path, rt.Match.Kind, winner.Source))
		}
		for _, rt := range p.TCPRoutes {
			key := rt.Listener + " " + rt.SNI
			if i, seen := tcpAt[key]; seen {
				conflict([]diag.Object{rt.Source}, "RouteConflict", fmt.Sprintf(
					"listener %s (SNI %q) is already served by %s; this route is ignored", rt.Listener, rt.SNI, out.TCPRoutes[i].Source))
				continue
			}
			tcpAt[key] = len(out.TCPRoutes)
			out.TCPRoutes = append(out.TCPRoutes, rt)
		}
		for _, r := range p.HTTPSRedirects {
			if !redirect[r.Host] {
				redirect[r.Host] = true
				out.HTTPSRedirects = append(out.HTTPSRedirects, r)
			}
		}
	}
	out.Normalize()
	return out, probs
}

// mergeListener adds l to ls by the rules of Compose.
func mergeListener(ls []Listener, l Listener, probs []diag.Problem) ([]Listener, []diag.Problem) {
	for i, o := range ls {
		switch {
		case o.Name == l.Name && o.Bind == l.Bind && o.Protocol == l.Protocol && o.Table == l.Table && slices.Equal(o.AcceptProxy, l.AcceptProxy):
			if o.TLS != nil && l.TLS != nil {
				tls := *o.TLS
				tls.Certificates = slices.Clone(tls.Certificates)
				for _, c := range l.TLS.Certificates {
					if !slices.ContainsFunc(tls.Certificates, func(x Certificate) bool { return CompareCertificates(x, c) == 0 }) {
						tls.Certificates = append(tls.Certificates, c)
					}
				}
				ls[i].TLS = &tls
			}
			return ls, probs
		case o.Name == l.Name || o.Bind.Conflicts(l.Bind):
			for _, src := range listenerSources(l) {
				probs = append(probs, diag.Problem{Object: src, Severity: diag.Warning, Reason: "ListenerConflict",
					Message: fmt.Sprintf("listener %s on %s conflicts with listener %s on %s; it is left out", l.Name, l.Bind, o.Name, o.Bind)})
			}
			return ls, probs
		}
	}
	return append(ls, l), probs
}

func listenerSources(l Listener) []diag.Object {
	out := slices.Clone(l.Sources)
	if l.TLS != nil {
		for _, c := range l.TLS.Certificates {
			out = append(out, c.Sources...)
		}
	}
	return out
}

func sameBackend(a, b Backend) bool {
	return a.Name == b.Name && a.SlotStep == b.SlotStep && a.Policy.Equal(b.Policy) && slices.Equal(a.Servers, b.Servers)
}

func objectList(objs []diag.Object) string {
	if len(objs) == 0 {
		return "another source"
	}
	s := objs[0].String()
	if len(objs) > 1 {
		s += fmt.Sprintf(" and %d more", len(objs)-1)
	}
	return s
}
