package ingress

import (
	"fmt"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// Host ownership (Options.HostOwnership, --host-ownership).
//
// Without it, any namespace may add paths under any host, and receives those requests over the
// host's certificate: a path "/login" under another team's "/" takes that team's login requests.
// With it, each host belongs to one namespace, and the rules and TLS hosts of other namespaces
// for it are refused with a HostOwnedByOtherNamespace problem. The owner is the namespace of the
// first claim, in this order:
//
//  1. the namespace that held the host's routes after the previous pass (its incumbent), if
//     it still claims it: a claim stays put while the owner's Ingresses are replaced or
//     re-created, whatever the creation times (which have a resolution of one second) say;
//  2. the namespace of the oldest Ingress that claims it (ties broken by namespace and name).
//
// An Ingress claims the hosts of its rules and of its spec.tls entries; rules without a host
// and spec.defaultBackend claim the hostless catch-all, which is owned the same way. A wildcard
// "*.example.com" is a host of its own, and also competes for the hosts it covers
// ("a.example.com"): whichever claim comes first in the order above owns such a host. So the
// owner of a wildcard owns the names under it that no other namespace claimed before, and a name
// claimed before the wildcard stays with its namespace.

// owner is the namespace a host belongs to, and the claim that made it so.
type owner struct {
	ns string
	// ing and host are the Ingress whose claim won and the host it claimed (the host itself,
	// or the wildcard covering it).
	ing  ObjectRef
	host string
}

// ambiguous marks a host whose routes several namespaces held after the previous pass: it has
// no incumbent. It is no namespace name.
const ambiguous = "/"

// hostClaim is an Ingress's claim on a host.
type hostClaim struct {
	order     int // the Ingress's place, oldest first
	ing       ObjectRef
	incumbent bool
}

// before reports whether claim a takes precedence over b.
func (a hostClaim) before(b hostClaim) bool {
	if a.incumbent != b.incumbent {
		return a.incumbent
	}
	return a.order < b.order
}

// ownHosts decides the owner of every host that the Ingresses (owned by us, oldest first) claim,
// reports the claims refused, and returns the Ingresses with the spec.tls hosts they may not
// serve removed. Their rules for such hosts are skipped by rules and passthrough (refusedHost),
// which keeps the indices of spec.rules in problems.
func (t *translator) ownHosts(ings []*networkingv1.Ingress) []*networkingv1.Ingress {
	incumbent := map[string]string{}
	for key, ref := range t.incumb {
		if ns, ok := incumbent[key.Host]; ok && ns != ref.Namespace {
			incumbent[key.Host] = ambiguous
		} else {
			incumbent[key.Host] = ref.Namespace
		}
	}
	// best holds each host's first claim.
	best := map[string]hostClaim{}
	claimed := make([][]string, len(ings))
	for i, ing := range ings {
		claimed[i] = claimedHosts(ing)
		for _, h := range claimed[i] {
			c := hostClaim{order: i, ing: refOf(ing), incumbent: incumbent[h] == ing.Namespace}
			if b, ok := best[h]; !ok || c.before(b) {
				best[h] = c
			}
		}
	}
	t.owners = make(map[string]owner, len(best))
	for h, c := range best {
		o := owner{ns: c.ing.Namespace, ing: c.ing, host: h}
		if w := wildcardOf(h); w != "" {
			if wc, ok := best[w]; ok && wc.before(c) {
				o = owner{ns: wc.ing.Namespace, ing: wc.ing, host: w}
			}
		}
		t.owners[h] = o
	}

	out := slices.Clone(ings)
	for i, ing := range ings {
		refused := false
		for _, h := range claimed[i] {
			o := t.owners[h]
			if o.ns == ing.Namespace {
				continue
			}
			refused = true
			what := fmt.Sprintf("host %q belongs", h)
			if h == "" {
				what = "the rules without a host (and spec.defaultBackend) belong"
			}
			by := fmt.Sprintf("its Ingress %s/%s claimed it first", o.ing.Namespace, o.ing.Name)
			if o.host != h {
				by = fmt.Sprintf("its Ingress %s/%s claimed %q first", o.ing.Namespace, o.ing.Name, o.host)
			}
			t.problem(ing, Warning, "HostOwnedByOtherNamespace", fmt.Sprintf(
				"%s to namespace %s (%s; --host-ownership): this Ingress's rules and TLS hosts for it are ignored", what, o.ns, by))
		}
		if refused {
			out[i] = t.withoutRefusedTLS(ing)
		}
	}
	return out
}

// withoutRefusedTLS returns ing with the spec.tls hosts it may not serve removed. An entry left
// with no host is dropped, since an entry without hosts stands for the hosts of the rules; the
// indices of the entries after it then shift in the problems about them.
func (t *translator) withoutRefusedTLS(ing *networkingv1.Ingress) *networkingv1.Ingress {
	var entries []networkingv1.IngressTLS
	changed := false
	for _, e := range ing.Spec.TLS {
		if len(e.Hosts) == 0 {
			entries = append(entries, e)
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(e.Hosts), func(h string) bool {
			nh, ok := normalizeHost(h)
			return ok && t.refusedHost(ing, nh)
		})
		switch {
		case len(kept) == len(e.Hosts):
			entries = append(entries, e)
		case len(kept) > 0:
			e.Hosts, changed = kept, true
			entries = append(entries, e)
		default:
			changed = true
		}
	}
	if !changed {
		return ing
	}
	c := *ing
	c.Spec.TLS = entries
	return &c
}

// claimedHosts lists the hosts an Ingress claims, normalised, once each: those of its rules
// ("" for rules without a host, and for spec.defaultBackend) and of its spec.tls entries.
// Invalid hosts claim nothing; they are reported where they are used.
func claimedHosts(ing *networkingv1.Ingress) []string {
	var out []string
	seen := map[string]bool{}
	add := func(h string) {
		if nh, ok := normalizeHost(h); ok && !seen[nh] {
			seen[nh] = true
			out = append(out, nh)
		}
	}
	for _, r := range ing.Spec.Rules {
		if r.Host != "" || r.HTTP != nil {
			add(r.Host)
		}
	}
	for _, e := range ing.Spec.TLS {
		for _, h := range e.Hosts {
			if h != "" {
				add(h)
			}
		}
	}
	if ing.Spec.DefaultBackend != nil {
		add("")
	}
	return out
}

// wildcardOf is the wildcard that covers an exact host ("*.example.com" for "a.example.com"),
// or "" for a wildcard, a host of one label and the hostless catch-all.
func wildcardOf(h string) string {
	if strings.HasPrefix(h, "*.") {
		return ""
	}
	if _, rest, ok := strings.Cut(h, "."); ok && rest != "" {
		return "*." + rest
	}
	return ""
}

// refusedHost reports whether host (normalised) belongs to another namespace than ing's.
func (t *translator) refusedHost(ing *networkingv1.Ingress, host string) bool {
	if t.owners == nil {
		return false
	}
	o, ok := t.owners[host]
	return ok && o.ns != ing.Namespace
}

// ownedRuleHosts lists the hosts of an Ingress's rules that it may serve: the hosts of its
// spec.tls entries that name none.
func (t *translator) ownedRuleHosts(ing *networkingv1.Ingress) []string {
	return slices.DeleteFunc(ruleHosts(ing), func(h string) bool {
		nh, ok := normalizeHost(h)
		return ok && t.refusedHost(ing, nh)
	})
}
