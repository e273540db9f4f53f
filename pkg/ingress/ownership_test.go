package ingress_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
)

func ownershipOptions() ingress.Options {
	o := tlsOptions()
	o.HostOwnership = true
	return o
}

// ownershipState is a state with the Ingresses and a Service "web" in each namespace they use.
func ownershipState(ings ...*networkingv1.Ingress) ingress.State {
	s := ingress.State{IngressClasses: []*networkingv1.IngressClass{ingressClass(testClass, testController, false)}, Ingresses: ings}
	var nss []string
	for _, ing := range ings {
		if !slices.Contains(nss, ing.Namespace) {
			nss = append(nss, ing.Namespace)
			s.Services = append(s.Services, service(ing.Namespace, "web", servicePort("http", 80)))
		}
	}
	return s
}

func ownedBy(ns, name, what, owner, by string) ingress.Problem {
	return ingress.Problem{Object: ingressRef(ns, name), Severity: ingress.Warning, Reason: "HostOwnedByOtherNamespace",
		Message: what + " to namespace " + owner + " (" + by + "; --host-ownership): this Ingress's rules and TLS hosts for it are ignored"}
}

func TestHostOwnership(t *testing.T) {
	team := func(opts ...ingressOption) *networkingv1.Ingress {
		return newIngress("team", "site", append([]ingressOption{className(testClass), createdAt(1)}, opts...)...)
	}
	other := func(opts ...ingressOption) *networkingv1.Ingress {
		return newIngress("other", "grab", append([]ingressOption{className(testClass), createdAt(2)}, opts...)...)
	}
	for _, tc := range []struct {
		name       string
		ings       []*networkingv1.Ingress
		incumbents map[model.RouteKey]ingress.ObjectRef
		off        bool
		want       []route
		problems   []ingress.Problem
	}{
		{
			name: "another namespace's path under an owned host is refused; the owner still serves",
			ings: []*networkingv1.Ingress{
				team(rule("app.example.com", pathTo(prefix, "/", "web", 80))),
				other(rule("app.example.com", pathTo(prefix, "/login", "web", 80)), rule("other.example.com", pathTo(prefix, "/", "web", 80))),
			},
			want: []route{
				{Host: "app.example.com", Path: "/", Match: model.MatchPrefix, Backend: "team_web_80"},
				{Host: "other.example.com", Path: "/", Match: model.MatchPrefix, Backend: "other_web_80"},
			},
			problems: []ingress.Problem{ownedBy("other", "grab", `host "app.example.com" belongs`, "team", "its Ingress team/site claimed it first")},
		},
		{
			name: "without the option, the path is served (as ingress-nginx does)",
			off:  true,
			ings: []*networkingv1.Ingress{
				team(rule("app.example.com", pathTo(prefix, "/", "web", 80))),
				other(rule("app.example.com", pathTo(prefix, "/login", "web", 80))),
			},
			want: []route{
				{Host: "app.example.com", Path: "/", Match: model.MatchPrefix, Backend: "team_web_80"},
				{Host: "app.example.com", Path: "/login", Match: model.MatchPrefix, Backend: "other_web_80"},
			},
		},
		{
			name: "another Ingress of the owner's namespace may add paths",
			ings: []*networkingv1.Ingress{
				team(rule("app.example.com", pathTo(prefix, "/", "web", 80))),
				newIngress("team", "later", className(testClass), createdAt(3), rule("app.example.com", pathTo(prefix, "/api", "web", 80))),
			},
			want: []route{
				{Host: "app.example.com", Path: "/", Match: model.MatchPrefix, Backend: "team_web_80"},
				{Host: "app.example.com", Path: "/api", Match: model.MatchPrefix, Backend: "team_web_80"},
			},
		},
		{
			name: "the incumbent namespace keeps its host against an older Ingress",
			ings: []*networkingv1.Ingress{
				team(rule("app.example.com", pathTo(prefix, "/", "web", 80))),
				newIngress("other", "older", className(testClass), createdAt(0), rule("app.example.com", pathTo(prefix, "/x", "web", 80))),
			},
			incumbents: map[model.RouteKey]ingress.ObjectRef{
				{HTTPMatch: model.HTTPMatch{Host: "app.example.com", Path: "/", Kind: model.MatchPrefix}}: ingressRef("team", "site"),
			},
			want:     []route{{Host: "app.example.com", Path: "/", Match: model.MatchPrefix, Backend: "team_web_80"}},
			problems: []ingress.Problem{ownedBy("other", "older", `host "app.example.com" belongs`, "team", "its Ingress team/site claimed it first")},
		},
		{
			name: "a host whose routes two namespaces held has no incumbent: the oldest claim owns it",
			ings: []*networkingv1.Ingress{
				team(rule("app.example.com", pathTo(prefix, "/", "web", 80))),
				other(rule("app.example.com", pathTo(prefix, "/login", "web", 80))),
			},
			incumbents: map[model.RouteKey]ingress.ObjectRef{
				{HTTPMatch: model.HTTPMatch{Host: "app.example.com", Path: "/", Kind: model.MatchPrefix}}:      ingressRef("team", "site"),
				{HTTPMatch: model.HTTPMatch{Host: "app.example.com", Path: "/login", Kind: model.MatchPrefix}}: ingressRef("other", "grab"),
			},
			want:     []route{{Host: "app.example.com", Path: "/", Match: model.MatchPrefix, Backend: "team_web_80"}},
			problems: []ingress.Problem{ownedBy("other", "grab", `host "app.example.com" belongs`, "team", "its Ingress team/site claimed it first")},
		},
		{
			name: "the owner of a wildcard owns the names under it that nobody claimed before",
			ings: []*networkingv1.Ingress{
				team(rule("*.team.example.com", pathTo(prefix, "/", "web", 80))),
				other(rule("login.team.example.com", pathTo(prefix, "/", "web", 80)), rule("*.team.example.com", pathTo(prefix, "/x", "web", 80))),
			},
			want: []route{{Host: "*.team.example.com", Path: "/", Match: model.MatchPrefix, Backend: "team_web_80"}},
			problems: []ingress.Problem{
				ownedBy("other", "grab", `host "login.team.example.com" belongs`, "team", `its Ingress team/site claimed "*.team.example.com" first`),
				ownedBy("other", "grab", `host "*.team.example.com" belongs`, "team", "its Ingress team/site claimed it first"),
			},
		},
		{
			name: "a name claimed before the wildcard stays with its namespace",
			ings: []*networkingv1.Ingress{
				team(rule("*.team.example.com", pathTo(prefix, "/", "web", 80))),
				newIngress("other", "older", className(testClass), createdAt(0), rule("old.team.example.com", pathTo(prefix, "/", "web", 80))),
			},
			want: []route{
				{Host: "*.team.example.com", Path: "/", Match: model.MatchPrefix, Backend: "team_web_80"},
				{Host: "old.team.example.com", Path: "/", Match: model.MatchPrefix, Backend: "other_web_80"},
			},
		},
		{
			name: "rules without a host and spec.defaultBackend are one catch-all, owned like a host",
			ings: []*networkingv1.Ingress{
				team(rule("", pathTo(prefix, "/", "web", 80))),
				other(rule("", pathTo(prefix, "/login", "web", 80)), defaultBackend("web", 80)),
			},
			want: []route{{Host: "", Path: "/", Match: model.MatchPrefix, Backend: "team_web_80"}},
			problems: []ingress.Problem{
				ownedBy("other", "grab", "the rules without a host (and spec.defaultBackend) belong", "team", "its Ingress team/site claimed it first"),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := ownershipState(tc.ings...)
			state.Incumbents = tc.incumbents
			opts := ownershipOptions()
			opts.HostOwnership = !tc.off
			res := ingress.Translate(state, opts)
			checkRoutes(t, routesOf(res.Config), tc.want)
			checkProblems(t, res.Problems, tc.problems)
			if res.Config.DefaultBackend != "" {
				t.Errorf("default backend %s: another namespace's spec.defaultBackend was honoured", res.Config.DefaultBackend)
			}
		})
	}
}

// The TLS hosts of another namespace's Ingress are left out: the owner's certificate is the one
// served for its host, and the other namespace's entry serves its own hosts only.
func TestHostOwnershipTLS(t *testing.T) {
	team := newIngress("team", "site", className(testClass), createdAt(1), rule("app.example.com", pathTo(prefix, "/", "web", 80)))
	grab := newIngress("other", "grab", className(testClass), createdAt(0), rule("own.example.com", pathTo(prefix, "/", "web", 80)))
	grab.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"app.example.com"}, SecretName: "tls"}, {Hosts: []string{"app.example.com", "own.example.com"}, SecretName: "tls"}}
	// other/grab is the older Ingress, but team holds app.example.com from the previous pass.
	state := ownershipState(team, grab)
	crt, key := selfSigned(t)
	state.Secrets = []*corev1.Secret{{Type: corev1.SecretTypeTLS, Data: map[string][]byte{corev1.TLSCertKey: crt, corev1.TLSPrivateKeyKey: key}}}
	state.Secrets[0].Namespace, state.Secrets[0].Name = "other", "tls"
	state.Incumbents = map[model.RouteKey]ingress.ObjectRef{
		{HTTPMatch: model.HTTPMatch{Host: "app.example.com", Path: "/", Kind: model.MatchPrefix}}: ingressRef("team", "site"),
	}
	res := ingress.Translate(state, ownershipOptions())
	checkProblems(t, res.Problems, []ingress.Problem{ownedBy("other", "grab", `host "app.example.com" belongs`, "team", "its Ingress team/site claimed it first")})
	l, _ := res.Config.Listener(ingress.HTTPSListener)
	var sni []string
	for _, c := range l.TLS.Certificates {
		sni = append(sni, c.SNI...)
	}
	if !slices.Equal(sni, []string{"own.example.com"}) {
		t.Errorf("certificate names %v, want only own.example.com", sni)
	}
	for _, r := range res.Config.HTTPSRedirects {
		if r.Host == "app.example.com" {
			t.Errorf("the other namespace's TLS entry redirects app.example.com: %+v", r)
		}
	}
}
