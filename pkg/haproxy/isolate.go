package haproxy

import (
	"errors"
	"slices"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
)

// ErrNotIsolated says that leaving out every object does not make a configuration valid: what
// fails is not any object's doing.
var ErrNotIsolated = errors.New("the configuration is refused even without any object")

// Isolate finds a small set of objects without which a configuration is valid. valid(without)
// says whether the configuration less the given objects is valid. It splits the candidates in
// halves: when leaving out one half is enough, the culprits are in it; otherwise both halves hold
// some. With k culprits among n objects it asks O(k log n) questions.
func Isolate(objects []diag.Object, valid func(without []diag.Object) (bool, error)) ([]diag.Object, error) {
	ok, err := valid(objects)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotIsolated
	}
	return isolate(objects, nil, valid)
}

// isolate returns culprits among candidates, given that leaving out candidates and alsoOut
// makes the configuration valid.
func isolate(candidates, alsoOut []diag.Object, valid func([]diag.Object) (bool, error)) ([]diag.Object, error) {
	if len(candidates) <= 1 {
		return candidates, nil
	}
	half := len(candidates) / 2
	a, b := candidates[:half], candidates[half:]
	for _, part := range [][]diag.Object{a, b} {
		ok, err := valid(slices.Concat(part, alsoOut))
		if err != nil {
			return nil, err
		}
		if ok {
			return isolate(part, alsoOut, valid)
		}
	}
	// Both halves hold culprits: find those of a with b left out, then those of b with a's
	// culprits left out.
	ca, err := isolate(a, slices.Concat(b, alsoOut), valid)
	if err != nil {
		return nil, err
	}
	cb, err := isolate(b, slices.Concat(ca, alsoOut), valid)
	if err != nil {
		return nil, err
	}
	return slices.Concat(ca, cb), nil
}

// Only is what one object contributes to cfg: its routes, the backends they use, and the
// listeners and certificates it is a source of. Its fingerprint tells whether the object changed.
func Only(cfg model.Config, o diag.Object) model.Config {
	var out model.Config
	used := map[string]bool{}
	for _, rt := range cfg.HTTPRoutes {
		if rt.Source == o {
			out.HTTPRoutes = append(out.HTTPRoutes, rt)
			for _, b := range rt.Backends {
				used[b.Name] = true
			}
		}
	}
	for _, rt := range cfg.TCPRoutes {
		if rt.Source == o {
			out.TCPRoutes = append(out.TCPRoutes, rt)
			used[rt.Backend] = true
		}
	}
	for _, b := range cfg.Backends {
		if used[b.Name] || slices.Contains(b.Sources, o) {
			b.Servers = nil // endpoints move at runtime: they are not the object's doing
			out.Backends = append(out.Backends, b)
		}
	}
	for _, l := range cfg.Listeners {
		if slices.Contains(l.Sources, o) {
			out.Listeners = append(out.Listeners, l)
			continue
		}
		if l.TLS == nil {
			continue
		}
		for _, c := range l.TLS.Certificates {
			if slices.Contains(c.Sources, o) {
				out.Listeners = append(out.Listeners, model.Listener{Name: l.Name, TLS: &model.ListenerTLS{Certificates: []model.Certificate{c}}})
			}
		}
	}
	if slices.Contains(cfg.Global.Sources, o) {
		out.Global = cfg.Global
	}
	return out
}
