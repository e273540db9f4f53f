package gateway

import (
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// grants answers whether a ReferenceGrant allows a reference across namespaces.
type grants struct {
	// byNamespace are the grants of each namespace: a grant allows references to its own
	// namespace only.
	byNamespace map[string][]*gatewayv1beta1.ReferenceGrant
}

func newGrants(all []gatewayv1beta1.ReferenceGrant) grants {
	g := grants{byNamespace: map[string][]*gatewayv1beta1.ReferenceGrant{}}
	for i := range all {
		rg := &all[i]
		g.byNamespace[rg.Namespace] = append(g.byNamespace[rg.Namespace], rg)
	}
	return g
}

// ref is one side of a reference: a kind in a group, in a namespace, and (for the target) a name.
type ref struct {
	group, kind, namespace, name string
}

// allows reports whether a reference from `from` to `to` is allowed: always within a namespace,
// else when a ReferenceGrant in to's namespace lists from's group, kind and namespace, and to's
// group and kind with no name or to's name.
func (g grants) allows(from, to ref) bool {
	if from.namespace == to.namespace {
		return true
	}
	for _, rg := range g.byNamespace[to.namespace] {
		fromOK := false
		for _, f := range rg.Spec.From {
			if string(f.Group) == from.group && string(f.Kind) == from.kind && string(f.Namespace) == from.namespace {
				fromOK = true
				break
			}
		}
		if !fromOK {
			continue
		}
		for _, t := range rg.Spec.To {
			if string(t.Group) == to.group && string(t.Kind) == to.kind && (t.Name == nil || *t.Name == "" || string(*t.Name) == to.name) {
				return true
			}
		}
	}
	return false
}
