package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/diag"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/model"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
	"github.com/portcullis-ingress/portcullis/pkg/k8s"
	"github.com/portcullis-ingress/portcullis/pkg/resolve"
)

// fakeSource serves a state that the test changes, raising Dirty on each change.
type fakeSource struct {
	mu      sync.Mutex
	state   ingress.State
	dirty   chan struct{}
	changes *k8s.Changes // nil: everything changed
	// snapshots counts full passes.
	snapshots int
}

func (s *fakeSource) TakeChanges() k8s.Changes {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := k8s.Changes{Full: true}
	if s.changes != nil {
		c = *s.changes
	}
	s.changes = &k8s.Changes{}
	return c
}

func (s *fakeSource) EndpointSlices(svc types.NamespacedName) ([]*discoveryv1.EndpointSlice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*discoveryv1.EndpointSlice
	for _, es := range s.state.EndpointSlices {
		if es.Namespace == svc.Namespace && es.Labels[discoveryv1.LabelServiceName] == svc.Name {
			out = append(out, es)
		}
	}
	return out, nil
}

// changeSlices changes EndpointSlices of the Service svc, and nothing else.
func (s *fakeSource) changeSlices(svc types.NamespacedName, f func(*ingress.State)) {
	s.mu.Lock()
	f(&s.state)
	if s.changes == nil {
		s.changes = &k8s.Changes{}
	}
	if !s.changes.Full {
		s.changes.Services = append(s.changes.Services, svc)
	}
	s.mu.Unlock()
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

func (s *fakeSource) Dirty() <-chan struct{} { return s.dirty }

func (s *fakeSource) Snapshot() (k8s.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snapshots++
	st := s.state
	return k8s.Snapshot{Ingresses: st.Ingresses, IngressClasses: st.IngressClasses, Services: st.Services,
		EndpointSlices: st.EndpointSlices, Secrets: st.Secrets, ConfigMap: st.ConfigMap}, nil
}

func (s *fakeSource) change(f func(*ingress.State)) {
	s.mu.Lock()
	f(&s.state)
	s.changes = nil
	s.mu.Unlock()
	select {
	case s.dirty <- struct{}{}:
	default:
	}
}

// fakeProxy records what the loop asks of haproxy.
type fakeProxy struct {
	mu      sync.Mutex
	running bool
	reloads int
	updates []haproxy.Plan
	exited  chan struct{}
	// refuse lists hosts whose presence makes Validate fail.
	refuse      []string
	validations int
	applied     haproxy.Files
}

func (p *fakeProxy) Running() bool           { p.mu.Lock(); defer p.mu.Unlock(); return p.running }
func (p *fakeProxy) Exited() <-chan struct{} { return p.exited }

func (p *fakeProxy) Reload(ctx context.Context, files haproxy.Files) (bool, error) {
	if err := p.Validate(ctx, files); err != nil {
		return false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applied = files
	started := !p.running
	p.running = true
	p.reloads++
	return started, nil
}

// Validate refuses, as haproxy would refuse something the checks missed, any configuration whose
// prefix map names a host in refuse.
func (p *fakeProxy) Validate(_ context.Context, files haproxy.Files) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.validations++
	for _, h := range p.refuse {
		if bytes.Contains(files[haproxy.PrefixMapFile], []byte(h+"/")) {
			return fmt.Errorf("validating: %w: host %s", haproxy.ErrInvalid, h)
		}
	}
	return nil
}

func (p *fakeProxy) Update(_ context.Context, plan haproxy.Plan) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.updates = append(p.updates, plan)
	return nil
}

func (p *fakeProxy) counts() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reloads, len(p.updates)
}

type noReporter struct{}

func (noReporter) Report([]diag.Problem) []diag.Problem { return nil }

const class = "portcullis"

func service(name string) (*corev1.Service, *discoveryv1.EndpointSlice) {
	port, portName, ready := int32(8080), "http", true
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}
	es := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &portName, Port: &port}},
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"198.18.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	}
	return svc, es
}

func ingressFor(name, host, svc string) *networkingv1.Ingress {
	c, prefix := class, networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: networkingv1.IngressSpec{IngressClassName: &c, Rules: []networkingv1.IngressRule{{
			Host: host,
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &prefix,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: svc, Port: networkingv1.ServiceBackendPort{Name: "http"}}},
			}}}},
		}}},
	}
}

func newLoop(src *fakeSource, proxy *fakeProxy) *Loop {
	return &Loop{
		Source:   src,
		Reporter: noReporter{},
		Proxy:    proxy,
		Translate: ingress.Options{
			ControllerName: "example.com/portcullis",
			HTTP:           model.Bind{Address: netip.MustParseAddr("127.0.0.1"), Port: 8080},
		},
		Env:     haproxy.Env{RuntimeDir: "/run/portcullis"},
		Metrics: NewMetrics(prometheus.NewRegistry()),
		Log:     logr.Discard(),
	}
}

func startState() ingress.State {
	return ingress.State{IngressClasses: []*networkingv1.IngressClass{{
		ObjectMeta: metav1.ObjectMeta{Name: class},
		Spec:       networkingv1.IngressClassSpec{Controller: "example.com/portcullis"},
	}}}
}

// A burst of 200 new Ingresses, each with its own Service, arriving every 5 ms, needs a handful of
// reloads: the holdoff waits for 100 ms of quiet but never more than a second.
func TestBurstOfTopologyChangesCoalescesReloads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		src := &fakeSource{state: startState(), dirty: make(chan struct{}, 1)}
		proxy := &fakeProxy{exited: make(chan struct{})}
		loop := newLoop(src, proxy)
		go func() { _ = loop.Run(ctx) }()
		synctest.Wait()
		if r, _ := proxy.counts(); r != 1 {
			t.Fatalf("start: %d reloads, want 1", r)
		}
		for i := range 200 {
			time.Sleep(5 * time.Millisecond)
			src.change(func(s *ingress.State) {
				name := fmt.Sprintf("svc-%d", i)
				svc, es := service(name)
				s.Services = append(s.Services, svc)
				s.EndpointSlices = append(s.EndpointSlices, es)
				s.Ingresses = append(s.Ingresses, ingressFor(name, name+".example", name))
			})
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		reloads, _ := proxy.counts()
		// 200 changes over 1 s: at most one reload per MaxHoldoff during the burst, one after.
		if reloads-1 < 1 || reloads-1 > 3 {
			t.Errorf("%d reloads for a burst of 200 topology changes, want 1 to 3", reloads-1)
		}
		t.Logf("200 topology changes in 1 s gave %d reloads", reloads-1)
		if !loop.Ready() {
			t.Error("loop not ready after applying")
		}
	})
}

// An endpoint change is applied through the runtime at once, with no reload and no holdoff.
func TestEndpointChangeIsAppliedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		src := &fakeSource{state: startState(), dirty: make(chan struct{}, 1)}
		svc, es := service("web")
		src.state.Services, src.state.EndpointSlices = []*corev1.Service{svc}, []*discoveryv1.EndpointSlice{es}
		src.state.Ingresses = []*networkingv1.Ingress{ingressFor("web", "web.example", "web")}
		proxy := &fakeProxy{exited: make(chan struct{})}
		go func() { _ = newLoop(src, proxy).Run(ctx) }()
		synctest.Wait()

		start := time.Now()
		src.change(func(s *ingress.State) {
			_, es := service("web")
			ready := true
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{"198.18.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
			s.EndpointSlices = []*discoveryv1.EndpointSlice{es}
		})
		synctest.Wait()
		reloads, updates := proxy.counts()
		if reloads != 1 || updates != 1 {
			t.Fatalf("reloads %d (want 1, the start), runtime updates %d (want 1)", reloads, updates)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("runtime update waited %s", d)
		}
		want := []string{
			"set server ns_web_http/s2 addr 198.18.0.2 port 8080",
			"set weight ns_web_http/s2 1",
			"set server ns_web_http/s2 state ready",
		}
		if got := proxy.updates[0].Commands; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("commands %q, want %q", got, want)
		}
	})
}

// When haproxy exits on its own, the next pass starts it again.
func TestRestartsHAProxyAfterExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		src := &fakeSource{state: startState(), dirty: make(chan struct{}, 1)}
		proxy := &fakeProxy{exited: make(chan struct{}, 1)}
		go func() { _ = newLoop(src, proxy).Run(ctx) }()
		synctest.Wait()
		proxy.mu.Lock()
		proxy.running = false
		proxy.mu.Unlock()
		proxy.exited <- struct{}{}
		synctest.Wait()
		if r, _ := proxy.counts(); r != 2 {
			t.Errorf("%d starts, want 2", r)
		}
	})
}

// recorder keeps every problem reported.
type recorder struct {
	mu       sync.Mutex
	problems []diag.Problem
}

func (r *recorder) Report(ps []diag.Problem) []diag.Problem {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, ps...)
	return nil
}

func (r *recorder) has(obj diag.Object, reason string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		if p.Object == obj && p.Reason == reason {
			return true
		}
	}
	return false
}

// When haproxy refuses a configuration for something one Ingress contributes, that Ingress is
// left out with a ConfigRejected problem, everything else is applied, the staleness shows, and
// later changes keep applying without asking haproxy to find the culprit again.
func TestRefusedObjectIsLeftOutAndTheRestApplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		st := startState()
		for _, n := range []string{"good", "bad", "other"} {
			svc, es := service(n)
			st.Services, st.EndpointSlices = append(st.Services, svc), append(st.EndpointSlices, es)
			st.Ingresses = append(st.Ingresses, ingressFor(n, n+".example", n))
		}
		src := &fakeSource{state: st, dirty: make(chan struct{}, 1)}
		proxy := &fakeProxy{exited: make(chan struct{}), refuse: []string{"bad.example"}}
		rec := &recorder{}
		loop := newLoop(src, proxy)
		loop.Reporter = rec
		go func() { _ = loop.Run(ctx) }()
		synctest.Wait()

		if r, _ := proxy.counts(); r != 1 {
			t.Fatalf("%d reloads, want 1 (the rest applied)", r)
		}
		exact := string(proxy.applied[haproxy.PrefixMapFile])
		for _, h := range []string{"good.example/", "other.example/"} {
			if !strings.Contains(exact, h) {
				t.Errorf("exact map lacks %s:\n%s", h, exact)
			}
		}
		if strings.Contains(exact, "bad.example") {
			t.Errorf("exact map still holds the refused Ingress's host:\n%s", exact)
		}
		bad := diag.Object{Kind: "Ingress", Namespace: "ns", Name: "bad"}
		if !rec.has(bad, "ConfigRejected") {
			t.Errorf("no ConfigRejected problem on %s; got %v", bad, rec.problems)
		}
		if since, why := loop.Staleness(); since.IsZero() || !strings.Contains(why, "1 object(s) rejected") {
			t.Errorf("staleness = %v %q, want stale with one object rejected", since, why)
		}

		// Another Ingress arrives: applied at once, without isolating the culprit again.
		validations := proxy.validations
		src.change(func(s *ingress.State) {
			svc, es := service("late")
			s.Services, s.EndpointSlices = append(s.Services, svc), append(s.EndpointSlices, es)
			s.Ingresses = append(s.Ingresses, ingressFor("late", "late.example", "late"))
		})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if exact := string(proxy.applied[haproxy.PrefixMapFile]); !strings.Contains(exact, "late.example/") {
			t.Errorf("later Ingress not applied:\n%s", exact)
		}
		if n := proxy.validations - validations; n != 1 {
			t.Errorf("%d validations for the later change, want 1 (the reload's own)", n)
		}

		// The refused Ingress is fixed (its host changes): it is tried again and served.
		src.change(func(s *ingress.State) {
			for i, ing := range s.Ingresses {
				if ing.Name == "bad" {
					s.Ingresses[i] = ingressFor("bad", "fixed.example", "bad")
				}
			}
		})
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if exact := string(proxy.applied[haproxy.PrefixMapFile]); !strings.Contains(exact, "fixed.example/") {
			t.Errorf("fixed Ingress not applied:\n%s", exact)
		}
		if since, _ := loop.Staleness(); !since.IsZero() {
			t.Errorf("still stale since %v after the fix", since)
		}
	})
}

// The endpoint-only pass must decide exactly what a full pass decides: same runtime commands and
// the same slots, step after step, canary weights included, and the same endpoint addresses
// refused (loopback, the pod's own).
func TestEndpointPassEqualsFullPass(t *testing.T) {
	st := startState()
	for i := range 6 {
		name := fmt.Sprintf("svc-%d", i)
		svc, es := service(name)
		st.Services, st.EndpointSlices = append(st.Services, svc), append(st.EndpointSlices, es)
		ing := ingressFor(name, name+".example", name)
		if i == 5 {
			ing.Annotations = map[string]string{"portcullis.io/canary-service": "svc-0", "portcullis.io/canary-weight": "30"}
		}
		st.Ingresses = append(st.Ingresses, ing)
	}
	fastSrc := &fakeSource{state: st, dirty: make(chan struct{}, 1)}
	fullSrc := &fakeSource{state: st, dirty: make(chan struct{}, 1)}
	fastProxy, fullProxy := &fakeProxy{exited: make(chan struct{})}, &fakeProxy{exited: make(chan struct{})}
	fast, full := newLoop(fastSrc, fastProxy), newLoop(fullSrc, fullProxy)
	own := netip.MustParseAddr("198.18.9.9")
	fast.Addresses, full.Addresses = resolve.AddressPolicy{Own: []netip.Addr{own}}, resolve.AddressPolicy{Own: []netip.Addr{own}}
	always := func(haproxy.Plan) bool { return true }
	for _, l := range []*Loop{fast, full} {
		if _, err := l.pass(t.Context(), always); err != nil {
			t.Fatal(err)
		}
	}
	ready := true
	for step := range 40 {
		svc := step % 6
		// Endpoint sets cycle through one to four addresses, some draining.
		n := 1 + step%4
		var eps []discoveryv1.Endpoint
		for j := range n {
			serving, terminating, notReady := true, true, false
			cond := discoveryv1.EndpointConditions{Ready: &ready}
			if j == 2 && step%3 == 0 {
				cond = discoveryv1.EndpointConditions{Ready: &notReady, Serving: &serving, Terminating: &terminating}
			}
			eps = append(eps, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("198.18.%d.%d", svc, 1+(step+j)%5)}, Conditions: cond})
		}
		if step%3 == 1 {
			eps = append(eps, discoveryv1.Endpoint{Addresses: []string{"127.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}},
				discoveryv1.Endpoint{Addresses: []string{own.String()}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
		}
		key := types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("svc-%d", svc)}
		edit := func(s *ingress.State) {
			s.EndpointSlices = slices.Clone(s.EndpointSlices)
			es := s.EndpointSlices[svc].DeepCopy()
			es.Endpoints = eps
			s.EndpointSlices[svc] = es
		}
		fastSrc.changeSlices(key, edit)
		full.Source.(*fakeSource).change(edit)
		ok, err := fast.endpointPass(t.Context(), []types.NamespacedName{key}, time.Now())
		if err != nil || !ok {
			t.Fatalf("step %d: endpoint pass %v %v", step, ok, err)
		}
		if _, err := full.pass(t.Context(), always); err != nil {
			t.Fatal(err)
		}
		fr, fu := fastProxy.counts()
		gr, gu := fullProxy.counts()
		if fr != gr || fu != gu {
			t.Fatalf("step %d: fast path %d reloads %d updates, full path %d and %d", step, fr, fu, gr, gu)
		}
		if fu > 0 {
			a, b := fastProxy.updates[fu-1].Commands, fullProxy.updates[gu-1].Commands
			if !slices.Equal(a, b) {
				t.Fatalf("step %d: commands differ:\nfast %q\nfull %q", step, a, b)
			}
		}
		if !maps.EqualFunc(fast.applied.Layout, full.applied.Layout, slices.Equal[[]haproxy.Slot]) {
			t.Fatalf("step %d: layouts differ:\nfast %v\nfull %v", step, fast.applied.Layout, full.applied.Layout)
		}
		for name, slots := range fast.applied.Layout {
			for _, sl := range slots {
				if sl.Used && (sl.Server.Address.IsLoopback() || sl.Server.Address == own) {
					t.Fatalf("step %d: backend %s holds the refused address %s", step, name, sl.Server.Address)
				}
			}
		}
	}
	if r, u := fastProxy.counts(); r != 1 || u < 30 {
		t.Errorf("fast path: %d reloads and %d runtime updates for 40 endpoint changes, want 1 (the start) and at least 30", r, u)
	}
}

func TestHoldoffDecide(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	timing := Timing{Quiet: 100 * time.Millisecond, MaxHoldoff: time.Second}
	tests := []struct {
		name       string
		hold       Holdoff
		now        time.Time
		reasons    string
		running    bool
		wantReload bool
		wantWait   time.Duration
	}{
		{"haproxy not running: reload at once", Holdoff{}, at(0), "a", false, true, 0},
		{"a first need waits for the quiet period", Holdoff{}, at(0), "a", true, false, 100 * time.Millisecond},
		{"same reasons after the quiet period: reload", Holdoff{Since: at(0), LastChange: at(0), Reasons: "a"}, at(100), "a", true, true, 0},
		{"same reasons within it: wait the rest", Holdoff{Since: at(0), LastChange: at(0), Reasons: "a"}, at(40), "a", true, false, 60 * time.Millisecond},
		{"new reasons restart the quiet period", Holdoff{Since: at(0), LastChange: at(0), Reasons: "a"}, at(90), "a b", true, false, 100 * time.Millisecond},
		{"but never past the maximum holdoff", Holdoff{Since: at(0), LastChange: at(950), Reasons: "a"}, at(960), "a b", true, false, 40 * time.Millisecond},
		{"at the maximum: reload", Holdoff{Since: at(0), LastChange: at(990), Reasons: "a"}, at(1000), "a b", true, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, reload, wait := tt.hold.Decide(tt.now, tt.reasons, tt.running, timing)
			if reload != tt.wantReload || wait != tt.wantWait {
				t.Errorf("Decide = reload %v wait %v, want %v %v", reload, wait, tt.wantReload, tt.wantWait)
			}
			if !reload && next.Reasons != tt.reasons {
				t.Errorf("state keeps reasons %q, want %q", next.Reasons, tt.reasons)
			}
		})
	}
}

// An EndpointSlice update raises the dirty signal twice (old and new object): the second finds
// the changes taken by the first pass and must not cost a full pass.
func TestSpareDirtySignalCostsNoPass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		st := startState()
		svc, es := service("web")
		st.Services, st.EndpointSlices = []*corev1.Service{svc}, []*discoveryv1.EndpointSlice{es}
		st.Ingresses = []*networkingv1.Ingress{ingressFor("web", "web.example", "web")}
		src := &fakeSource{state: st, dirty: make(chan struct{}, 1)}
		proxy := &fakeProxy{exited: make(chan struct{})}
		loop := newLoop(src, proxy)
		go func() { _ = loop.Run(ctx) }()
		synctest.Wait()
		key := types.NamespacedName{Namespace: "ns", Name: "web"}
		src.changeSlices(key, func(s *ingress.State) {
			s.EndpointSlices = slices.Clone(s.EndpointSlices)
			e := s.EndpointSlices[0].DeepCopy()
			e.Endpoints[0].Addresses = []string{"198.18.0.2"}
			s.EndpointSlices[0] = e
		})
		synctest.Wait()
		src.dirty <- struct{}{} // the second signal of the same update
		synctest.Wait()
		src.mu.Lock()
		n := src.snapshots
		src.mu.Unlock()
		if n != 1 {
			t.Errorf("%d full passes, want 1 (the start): the endpoint change and its second signal cost none", n)
		}
		if _, u := proxy.counts(); u != 1 {
			t.Errorf("%d runtime updates, want 1", u)
		}
	})
}

// New Services take spare sections at runtime, with no reload on their path; once few spares are
// left, one reload refills the pool at the next quiet moment (Quiet after the last change, with
// no second wait), and the next new Service takes a spare of the new pool.
func TestSparesAbsorbNewServicesAndRefillOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		src := &fakeSource{state: startState(), dirty: make(chan struct{}, 1)}
		proxy := &fakeProxy{exited: make(chan struct{})}
		loop := newLoop(src, proxy)
		loop.Translate.SpareBackends = 4
		go func() { _ = loop.Run(ctx) }()
		synctest.Wait()
		add := func(i int) {
			src.change(func(s *ingress.State) {
				name := fmt.Sprintf("svc-%d", i)
				svc, es := service(name)
				s.Services = append(s.Services, svc)
				s.EndpointSlices = append(s.EndpointSlices, es)
				s.Ingresses = append(s.Ingresses, ingressFor(name, name+".example", name))
			})
			synctest.Wait()
		}
		// Three of four spares: none reloads, and 2 free is not low (fewer than 1).
		for i := range 3 {
			add(i)
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if r, u := proxy.counts(); r != 1 || u != 3 {
			t.Fatalf("three new Services: %d reloads and %d runtime updates, want 1 (the start) and 3", r, u)
		}
		// The fourth takes the last spare at runtime; a refill follows one quiet period later.
		add(3)
		if r, u := proxy.counts(); r != 1 || u != 4 {
			t.Fatalf("the fourth new Service: %d reloads and %d runtime updates, want 1 and 4", r, u)
		}
		time.Sleep(DefaultTiming.Quiet)
		synctest.Wait()
		if r, _ := proxy.counts(); r != 2 {
			t.Fatalf("one quiet period after the pool ran out: %d reloads, want 2 (the refill)", r)
		}
		if got := len(loop.applied.Spares.Free); got != 4 {
			t.Errorf("free spares after the refill = %v, want 4", got)
		}
		add(4)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if r, u := proxy.counts(); r != 2 || u != 5 {
			t.Errorf("a new Service after the refill: %d reloads and %d runtime updates, want 2 and 5", r, u)
		}
	})
}
