package reconcile

import (
	"context"
	"fmt"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/ingress"
	"github.com/portcullis-ingress/portcullis/pkg/k8s"
)

// indexedSource serves EndpointSlices by Service from an index, as the informer cache does.
type indexedSource struct {
	fakeSource
	bySvc map[types.NamespacedName][]*discoveryv1.EndpointSlice
}

func (s *indexedSource) EndpointSlices(svc types.NamespacedName) ([]*discoveryv1.EndpointSlice, error) {
	return s.bySvc[svc], nil
}

// nullProxy accepts everything and remembers nothing.
type nullProxy struct{}

func (nullProxy) Running() bool                                       { return true }
func (nullProxy) Exited() <-chan struct{}                             { return nil }
func (nullProxy) Reload(context.Context, haproxy.Files) (bool, error) { return false, nil }
func (nullProxy) Validate(context.Context, haproxy.Files) error       { return nil }
func (nullProxy) Update(context.Context, haproxy.Plan) error          { return nil }

// BenchmarkEndpointChangeCost measures what the controller computes for one endpoint change with n
// backends, without I/O: "full" is a whole pass (translation of the snapshot, pruning and the
// plan), "endpoint" the endpoint-only pass that the controller takes when only EndpointSlices
// changed. `make bench` prints both; the endpoint pass must not grow with n.
func BenchmarkEndpointChangeCost(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 5000} {
		st := startState()
		src := &indexedSource{bySvc: map[types.NamespacedName][]*discoveryv1.EndpointSlice{}}
		for i := range n {
			name := fmt.Sprintf("svc-%d", i)
			svc, es := service(name)
			st.Services, st.EndpointSlices = append(st.Services, svc), append(st.EndpointSlices, es)
			st.Ingresses = append(st.Ingresses, ingressFor(name, name+".example", name))
			src.bySvc[types.NamespacedName{Namespace: "ns", Name: name}] = []*discoveryv1.EndpointSlice{es}
		}
		src.state = st
		key := types.NamespacedName{Namespace: "ns", Name: "svc-0"}
		addrs := []string{"198.18.0.1", "198.18.0.2"}
		move := func(i int) {
			es := src.bySvc[key][0].DeepCopy()
			es.Endpoints[0].Addresses = []string{addrs[i%2]}
			src.bySvc[key] = []*discoveryv1.EndpointSlice{es}
			src.state.EndpointSlices[0] = es
		}
		b.Run(fmt.Sprintf("full/backends=%d", n), func(b *testing.B) {
			loop := newLoop(&src.fakeSource, nil)
			res := ingress.Translate(src.state, loop.Translate)
			applied := haproxy.NewPlan(nil, res.Config).Next
			for i := 1; b.Loop(); i++ {
				move(i)
				res := ingress.Translate(src.state, loop.Translate)
				desired, _ := haproxy.Prune(res.Config)
				plan := haproxy.NewPlan(&applied, desired)
				if plan.Reload() || len(plan.Commands) == 0 {
					b.Fatalf("plan: reload %v, %d commands", plan.Reasons, len(plan.Commands))
				}
				applied = plan.Next
			}
		})
		b.Run(fmt.Sprintf("endpoint/backends=%d", n), func(b *testing.B) {
			loop := newLoop(&src.fakeSource, nil)
			loop.Source, loop.Proxy = src, nullProxy{}
			src.changes = &k8s.Changes{Full: true}
			if _, err := loop.pass(b.Context(), func(haproxy.Plan) bool { return true }); err != nil {
				b.Fatal(err)
			}
			svcs := []types.NamespacedName{key}
			for i := 1; b.Loop(); i++ {
				move(i)
				if ok, err := loop.endpointPass(b.Context(), svcs, time.Now()); err != nil || !ok {
					b.Fatalf("endpoint pass: %v %v", ok, err)
				}
			}
		})
	}
}
