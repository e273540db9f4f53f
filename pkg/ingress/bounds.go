package ingress

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/pkg/limits"
)

// bound returns ing, or a copy of it cut to the per-Ingress limits: at most
// limits.MaxHostsPerIngress distinct hosts in its rules and spec.tls together (and as many
// spec.tls entries), and limits.MaxPathsPerIngress paths. What is cut is reported once, and the
// rest of the Ingress is served. A cut keeps a prefix of spec.rules and of spec.tls, so that the
// indices in every other problem still name the same fields. Its cost is linear in the size of
// the Ingress, and an Ingress within the limits is not copied. What is cut is one problem.
func (t *translator) bound(ing *networkingv1.Ingress) *networkingv1.Ingress {
	if withinLimits(ing) {
		return ing
	}
	hosts := map[string]bool{}
	newHost := func(h string) (fits bool) {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		if h == "" || hosts[h] {
			return true
		}
		if len(hosts) == limits.MaxHostsPerIngress {
			return false
		}
		hosts[h] = true
		return true
	}

	rules := ing.Spec.Rules
	var ruleCut string
	paths := 0
rules:
	for ri, r := range ing.Spec.Rules {
		if !newHost(r.Host) {
			rules = ing.Spec.Rules[:ri]
			ruleCut = fmt.Sprintf("the Ingress names more than %d hosts: spec.rules from [%d] (host %q) on are ignored", limits.MaxHostsPerIngress, ri, r.Host)
			break
		}
		if r.HTTP == nil {
			continue
		}
		for pi := range r.HTTP.Paths {
			if paths == limits.MaxPathsPerIngress {
				rules = ing.Spec.Rules[:ri]
				if pi > 0 {
					kept := r
					kept.HTTP = &networkingv1.HTTPIngressRuleValue{Paths: r.HTTP.Paths[:pi]}
					rules = append(rules[:ri:ri], kept)
				}
				ruleCut = fmt.Sprintf("the Ingress has more than %d paths: spec.rules[%d].http.paths from [%d] on, and the rules after, are ignored",
					limits.MaxPathsPerIngress, ri, pi)
				break rules
			}
			paths++
		}
	}

	tls := ing.Spec.TLS
	var tlsCut string
entries:
	for ei, e := range ing.Spec.TLS {
		if ei == limits.MaxHostsPerIngress {
			tls = ing.Spec.TLS[:ei]
			tlsCut = fmt.Sprintf("the Ingress has more than %d spec.tls entries: spec.tls from [%d] on is ignored", limits.MaxHostsPerIngress, ei)
			break
		}
		for hi, h := range e.Hosts {
			if newHost(h) {
				continue
			}
			tls = ing.Spec.TLS[:ei]
			if hi > 0 {
				// An entry without hosts would take the hosts of the rules instead.
				kept := e
				kept.Hosts = e.Hosts[:hi]
				tls = append(tls[:ei:ei], kept)
			}
			tlsCut = fmt.Sprintf("the Ingress names more than %d hosts: spec.tls[%d].hosts from [%d] (%q) on, and the entries after, are ignored",
				limits.MaxHostsPerIngress, ei, hi, h)
			break entries
		}
	}

	if ruleCut == "" && tlsCut == "" {
		return ing
	}
	var why []string
	for _, w := range []string{ruleCut, tlsCut} {
		if w != "" {
			why = append(why, w)
		}
	}
	t.problem(ing, Error, "LimitExceeded", strings.Join(why, "; "))
	c := *ing
	c.Spec.Rules, c.Spec.TLS = rules, tls
	return &c
}

// withinLimits reports, without allocating, an Ingress whose hosts and paths cannot exceed the
// limits however many of them repeat: the common case.
func withinLimits(ing *networkingv1.Ingress) bool {
	hosts, paths := len(ing.Spec.Rules), 0
	for _, r := range ing.Spec.Rules {
		if r.HTTP != nil {
			paths += len(r.HTTP.Paths)
		}
	}
	for _, e := range ing.Spec.TLS {
		hosts += len(e.Hosts)
	}
	return hosts <= limits.MaxHostsPerIngress && paths <= limits.MaxPathsPerIngress && len(ing.Spec.TLS) <= limits.MaxHostsPerIngress
}
