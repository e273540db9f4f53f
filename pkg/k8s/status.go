package k8s

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/util/retry"
)

// StatusOptions say which addresses Ingresses get in status.loadBalancer.
type StatusOptions struct {
	// PublishService's addresses are published: a LoadBalancer's ingress, a NodePort's node
	// addresses, otherwise its external IPs or cluster IP.
	PublishService types.NamespacedName
	// Addresses, when set, are published instead of PublishService's.
	Addresses []string
	// NodeAddressType is the node address published for a NodePort Service.
	NodeAddressType corev1.NodeAddressType
}

// Enabled reports whether any status is to be published.
func (o StatusOptions) Enabled() bool { return len(o.Addresses) > 0 || o.PublishService.Name != "" }

// StatusAddresses computes the addresses to publish. It is pure: svc and nodes come from the
// snapshot. A nil result with a nil error means "nothing known yet".
func StatusAddresses(opts StatusOptions, svc *corev1.Service, nodes []*corev1.Node) []networkingv1.IngressLoadBalancerIngress {
	var out []networkingv1.IngressLoadBalancerIngress
	add := func(a string) {
		if a == "" {
			return
		}
		if _, err := netip.ParseAddr(a); err == nil {
			out = append(out, networkingv1.IngressLoadBalancerIngress{IP: a})
		} else {
			out = append(out, networkingv1.IngressLoadBalancerIngress{Hostname: a})
		}
	}
	switch {
	case len(opts.Addresses) > 0:
		for _, a := range opts.Addresses {
			add(a)
		}
	case svc == nil:
	case svc.Spec.Type == corev1.ServiceTypeLoadBalancer:
		for _, lb := range svc.Status.LoadBalancer.Ingress {
			add(lb.IP)
			add(lb.Hostname)
		}
	case svc.Spec.Type == corev1.ServiceTypeNodePort:
		want := opts.NodeAddressType
		if want == "" {
			want = corev1.NodeInternalIP
		}
		for _, n := range nodes {
			for _, a := range n.Status.Addresses {
				if a.Type == want {
					add(a.Address)
				}
			}
		}
	default:
		if len(svc.Spec.ExternalIPs) > 0 {
			for _, a := range svc.Spec.ExternalIPs {
				add(a)
			}
		} else if svc.Spec.ClusterIP != corev1.ClusterIPNone {
			add(svc.Spec.ClusterIP)
		}
	}
	slices.SortFunc(out, func(a, b networkingv1.IngressLoadBalancerIngress) int {
		return cmp.Or(cmp.Compare(a.IP, b.IP), cmp.Compare(a.Hostname, b.Hostname))
	})
	return slices.CompactFunc(out, func(a, b networkingv1.IngressLoadBalancerIngress) bool {
		return a.IP == b.IP && a.Hostname == b.Hostname
	})
}

// StatusChange is one Ingress whose status must be written.
type StatusChange struct {
	Ingress types.NamespacedName
	Want    []networkingv1.IngressLoadBalancerIngress
}

// StatusChanges compares every Ingress's status with what it should be: our addresses on the
// Ingresses we own; and none on an Ingress we do not own whose status holds exactly our addresses
// (it stopped being ours). Unchanged Ingresses are not listed, so nothing is written for them.
func StatusChanges(ings []*networkingv1.Ingress, owned []types.NamespacedName, addrs []networkingv1.IngressLoadBalancerIngress) []StatusChange {
	ours := make(map[types.NamespacedName]bool, len(owned))
	for _, o := range owned {
		ours[o] = true
	}
	var out []StatusChange
	for _, ing := range ings {
		key := types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}
		have := ing.Status.LoadBalancer.Ingress
		switch {
		case ours[key] && !sameAddresses(have, addrs):
			out = append(out, StatusChange{Ingress: key, Want: addrs})
		case !ours[key] && len(have) > 0 && sameAddresses(have, addrs):
			out = append(out, StatusChange{Ingress: key, Want: nil})
		}
	}
	slices.SortFunc(out, func(a, b StatusChange) int {
		return cmp.Or(cmp.Compare(a.Ingress.Namespace, b.Ingress.Namespace), cmp.Compare(a.Ingress.Name, b.Ingress.Name))
	})
	return out
}

func sameAddresses(a, b []networkingv1.IngressLoadBalancerIngress) bool {
	return slices.EqualFunc(a, b, func(x, y networkingv1.IngressLoadBalancerIngress) bool {
		return x.IP == y.IP && x.Hostname == y.Hostname && len(x.Ports) == 0 && len(y.Ports) == 0
	})
}

// StatusWriter writes Ingress status while this replica is the leader.
type StatusWriter struct {
	client   kubernetes.Interface
	identity string
	opts     StatusOptions
	leader   atomic.Bool
}

// NewStatusWriter returns a writer that identifies itself (as leader and as field manager) by
// identity.
func NewStatusWriter(client kubernetes.Interface, identity string, opts StatusOptions) *StatusWriter {
	return &StatusWriter{client: client, identity: identity, opts: opts}
}

// Leader reports whether this replica currently holds the lease.
func (w *StatusWriter) Leader() bool { return w.leader.Load() }

// RunElection campaigns for the Lease namespace/name until ctx ends. onChange is called whenever
// leadership is gained or lost, so that the caller can write status at once.
func (w *StatusWriter) RunElection(ctx context.Context, lease types.NamespacedName, onChange func()) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: lease.Namespace, Name: lease.Name},
		Client:     w.client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: w.identity},
	}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Name:            lease.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { w.leader.Store(true); onChange() },
			OnStoppedLeading: func() { w.leader.Store(false); onChange() },
		},
	})
	if err != nil {
		return fmt.Errorf("setting up leader election: %w", err)
	}
	go func() {
		// A lost lease ends Run; campaign again until ctx ends.
		for ctx.Err() == nil {
			le.Run(ctx)
		}
	}()
	return nil
}

// Write applies changes if this replica is the leader. Each write re-reads the Ingress, so a
// concurrent change is never overwritten.
func (w *StatusWriter) Write(ctx context.Context, changes []StatusChange) error {
	if !w.Leader() {
		return nil
	}
	var errs []error
	for _, c := range changes {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			ing, err := w.client.NetworkingV1().Ingresses(c.Ingress.Namespace).Get(ctx, c.Ingress.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if sameAddresses(ing.Status.LoadBalancer.Ingress, c.Want) {
				return nil
			}
			ing.Status.LoadBalancer.Ingress = c.Want
			_, err = w.client.NetworkingV1().Ingresses(c.Ingress.Namespace).UpdateStatus(ctx, ing, metav1.UpdateOptions{FieldManager: w.identity})
			return err
		})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("writing status of Ingress %s: %w", c.Ingress, err))
		}
	}
	return errors.Join(errs...)
}

// Sync publishes status for a snapshot: our addresses on the Ingresses in owned, none on those
// that stopped being ours. Only the leader writes.
func (w *StatusWriter) Sync(ctx context.Context, snap Snapshot, owned []types.NamespacedName) error {
	if !w.Leader() || !w.opts.Enabled() {
		return nil
	}
	addrs := StatusAddresses(w.opts, snap.PublishService, snap.Nodes)
	return w.Write(ctx, StatusChanges(snap.Ingresses, owned, addrs))
}
