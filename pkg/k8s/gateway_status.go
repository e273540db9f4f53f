package k8s

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// GatewayStatus is the status a pass computed for the Gateway API objects of our classes: whole
// statuses for GatewayClasses and Gateways, and for each HTTPRoute, GRPCRoute and TLSRoute the
// entries of status.parents that are ours (every route that has none left is listed by omission).
type GatewayStatus struct {
	GatewayClasses map[string]gatewayv1.GatewayClassStatus
	Gateways       map[types.NamespacedName]gatewayv1.GatewayStatus
	HTTPRoutes     map[types.NamespacedName][]gatewayv1.RouteParentStatus
	// GRPCRoutes is the same for GRPCRoutes.
	GRPCRoutes map[types.NamespacedName][]gatewayv1.RouteParentStatus
	// TLSRoutes is the same for TLSRoutes.
	TLSRoutes map[types.NamespacedName][]gatewayv1.RouteParentStatus
}

// GatewayStatusWriter writes Gateway API status while this replica is the leader. It writes only
// what changed: conditions keep their lastTransitionTime unless their status, reason, message or
// observedGeneration changed, and an object whose status would not change is not written.
//
// Sync hands a pass's statuses over and returns at once; Run writes them in the background, so
// that status writes (one API call per changed object, many after a burst of changes) never hold
// the next pass, and with it the data plane, back. Statuses handed over while a write runs replace
// each other: only the newest is written.
type GatewayStatusWriter struct {
	client gatewayclient.Interface
	// controller is our spec.controllerName: the route parent entries carrying it are ours.
	controller gatewayv1.GatewayController
	identity   string
	leader     func() bool
	now        func() metav1.Time

	mu      sync.Mutex
	pending *statusJob
	wake    chan struct{}
}

// statusJob is a pass's statuses with the snapshot they were computed from.
type statusJob struct {
	snap Snapshot
	want GatewayStatus
}

// NewGatewayStatusWriter returns a writer for the objects of controllerName. leader says whether
// this replica holds the Lease; identity is the field manager of the writes.
func NewGatewayStatusWriter(client gatewayclient.Interface, controllerName, identity string, leader func() bool) *GatewayStatusWriter {
	return &GatewayStatusWriter{client: client, controller: gatewayv1.GatewayController(controllerName), identity: identity,
		leader: leader, now: func() metav1.Time { return metav1.Now().Rfc3339Copy() }, wake: make(chan struct{}, 1)}
}

// Sync hands the statuses of a pass to Run, replacing those not written yet.
func (w *GatewayStatusWriter) Sync(_ context.Context, snap Snapshot, want GatewayStatus) error {
	w.mu.Lock()
	w.pending = &statusJob{snap: snap, want: want}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// Run writes the statuses handed to Sync until ctx ends. A failed write is logged and tried again
// with backoff (100 ms to 30 s), unless newer statuses arrive first.
func (w *GatewayStatusWriter) Run(ctx context.Context, log logr.Logger) {
	var backoff time.Duration
	var retry <-chan time.Time
	var failed *statusJob
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-retry:
		}
		retry = nil
		w.mu.Lock()
		job := w.pending
		w.pending = nil
		w.mu.Unlock()
		if job == nil {
			job = failed
		}
		if job == nil {
			continue
		}
		start := time.Now()
		if err := w.Write(ctx, job.snap, job.want); err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 100*time.Millisecond), 30*time.Second)
			log.Error(err, "writing Gateway API status failed; retrying", "retry_in", backoff.String())
			failed, retry = job, time.After(backoff)
			continue
		}
		backoff, failed = 0, nil
		log.V(1).Info("Gateway API status written", "duration", time.Since(start).String())
	}
}

// Write writes want into the status of the objects of snap (the informers' copies, which tell
// whether a write is needed at all). Only the leader writes. A write that conflicts is retried on
// a fresh copy of the object; objects deleted meanwhile are skipped.
func (w *GatewayStatusWriter) Write(ctx context.Context, snap Snapshot, want GatewayStatus) error {
	if !w.leader() {
		return nil
	}
	now := w.now()
	var errs []error
	for _, gc := range snap.GatewayClasses {
		st, ok := want.GatewayClasses[gc.Name]
		if !ok || apiequality.Semantic.DeepEqual(gc.Status, MergeGatewayClassStatus(gc.Status, st, now)) {
			continue
		}
		cached := gc
		err := w.write(ctx, func(first bool) error {
			obj := cached.DeepCopy()
			if !first {
				var err error
				if obj, err = w.client.GatewayV1().GatewayClasses().Get(ctx, cached.Name, metav1.GetOptions{}); err != nil {
					return err
				}
			}
			next := MergeGatewayClassStatus(obj.Status, st, now)
			if apiequality.Semantic.DeepEqual(obj.Status, next) {
				return nil
			}
			obj.Status = next
			_, err := w.client.GatewayV1().GatewayClasses().UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: w.identity})
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("writing status of GatewayClass %s: %w", gc.Name, err))
		}
	}
	for _, g := range snap.Gateways {
		key := types.NamespacedName{Namespace: g.Namespace, Name: g.Name}
		st, ok := want.Gateways[key]
		if !ok || apiequality.Semantic.DeepEqual(g.Status, MergeGatewayStatus(g.Status, st, now)) {
			continue
		}
		cached := g
		err := w.write(ctx, func(first bool) error {
			obj := cached.DeepCopy()
			if !first {
				var err error
				if obj, err = w.client.GatewayV1().Gateways(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{}); err != nil {
					return err
				}
			}
			next := MergeGatewayStatus(obj.Status, st, now)
			if apiequality.Semantic.DeepEqual(obj.Status, next) {
				return nil
			}
			obj.Status = next
			_, err := w.client.GatewayV1().Gateways(key.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: w.identity})
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("writing status of Gateway %s: %w", key, err))
		}
	}
	errs = append(errs, w.writeAllRoutes(ctx, snap, want, now)...)
	return errors.Join(errs...)
}

// write runs one status update, first on the informer's copy, then, after a conflict, on fresh
// copies. An object deleted meanwhile needs no status.
func (w *GatewayStatusWriter) write(ctx context.Context, update func(first bool) error) error {
	first := true
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := update(first)
		first = false
		return err
	})
	if apierrors.IsNotFound(err) || ctx.Err() != nil {
		return nil
	}
	return err
}

// MergeConditions returns want with the lastTransitionTime of each condition taken from the
// condition of the same type in have when its status, reason, message and observedGeneration are
// unchanged, and now otherwise. The order is want's.
func MergeConditions(have, want []metav1.Condition, now metav1.Time) []metav1.Condition {
	if want == nil {
		return nil
	}
	out := make([]metav1.Condition, len(want))
	for i, c := range want {
		c.LastTransitionTime = now
		if j := slices.IndexFunc(have, func(h metav1.Condition) bool { return h.Type == c.Type }); j >= 0 {
			h := have[j]
			if h.Status == c.Status && h.Reason == c.Reason && h.Message == c.Message && h.ObservedGeneration == c.ObservedGeneration {
				c.LastTransitionTime = h.LastTransitionTime
			}
		}
		out[i] = c
	}
	return out
}

// MergeGatewayClassStatus is the status to write for a GatewayClass: want's, with the transition
// times of unchanged conditions kept from have.
func MergeGatewayClassStatus(have, want gatewayv1.GatewayClassStatus, now metav1.Time) gatewayv1.GatewayClassStatus {
	out := *want.DeepCopy()
	out.Conditions = MergeConditions(have.Conditions, want.Conditions, now)
	return out
}

// MergeGatewayStatus is the status to write for a Gateway: want's addresses and listeners, with the
// transition times of unchanged conditions (the Gateway's, and each listener's by name) kept from
// have, and the CRD's defaults filled in (address type IPAddress, supported kinds' group).
func MergeGatewayStatus(have, want gatewayv1.GatewayStatus, now metav1.Time) gatewayv1.GatewayStatus {
	out := *want.DeepCopy()
	out.Conditions = MergeConditions(have.Conditions, want.Conditions, now)
	for i := range out.Addresses {
		if out.Addresses[i].Type == nil {
			t := gatewayv1.IPAddressType
			out.Addresses[i].Type = &t
		}
	}
	for i, l := range out.Listeners {
		for j := range out.Listeners[i].SupportedKinds {
			if out.Listeners[i].SupportedKinds[j].Group == nil {
				g := gatewayv1.Group(gatewayv1.GroupName)
				out.Listeners[i].SupportedKinds[j].Group = &g
			}
		}
		var prev []metav1.Condition
		if j := slices.IndexFunc(have.Listeners, func(h gatewayv1.ListenerStatus) bool { return h.Name == l.Name }); j >= 0 {
			prev = have.Listeners[j].Conditions
		}
		out.Listeners[i].Conditions = MergeConditions(prev, l.Conditions, now)
	}
	return out
}

// MergeRouteParents is the status.parents to write for a route: the entries of other controllers
// as they are, in their order, then ours (those of controller) as in want, each keeping the
// transition times of its unchanged conditions from our entry for the same parentRef in have.
// Our entries that want does not list are removed.
func MergeRouteParents(have, want []gatewayv1.RouteParentStatus, controller gatewayv1.GatewayController, now metav1.Time) []gatewayv1.RouteParentStatus {
	var out []gatewayv1.RouteParentStatus
	for _, h := range have {
		if h.ControllerName != controller {
			out = append(out, *h.DeepCopy())
		}
	}
	for _, p := range want {
		p = *p.DeepCopy()
		p.ControllerName = controller
		// The CRD's defaults, which the API server stores: without them, every pass would find
		// a difference and write again.
		if p.ParentRef.Group == nil {
			g := gatewayv1.Group(gatewayv1.GroupName)
			p.ParentRef.Group = &g
		}
		if p.ParentRef.Kind == nil {
			k := gatewayv1.Kind("Gateway")
			p.ParentRef.Kind = &k
		}
		var prev []metav1.Condition
		if j := slices.IndexFunc(have, func(h gatewayv1.RouteParentStatus) bool {
			return h.ControllerName == controller && sameParentRef(h.ParentRef, p.ParentRef)
		}); j >= 0 {
			prev = have[j].Conditions
		}
		p.Conditions = MergeConditions(prev, p.Conditions, now)
		out = append(out, p)
	}
	return out
}

// sameParentRef compares parent references, an unset group, kind or namespace being the
// default's (gateway.networking.k8s.io, Gateway, the route's namespace: unset on both sides).
func sameParentRef(a, b gatewayv1.ParentReference) bool {
	group := func(g *gatewayv1.Group) gatewayv1.Group {
		if g == nil {
			return gatewayv1.GroupName
		}
		return *g
	}
	kind := func(k *gatewayv1.Kind) gatewayv1.Kind {
		if k == nil {
			return "Gateway"
		}
		return *k
	}
	return group(a.Group) == group(b.Group) && kind(a.Kind) == kind(b.Kind) && a.Name == b.Name &&
		reflect.DeepEqual(a.Namespace, b.Namespace) && reflect.DeepEqual(a.SectionName, b.SectionName) &&
		reflect.DeepEqual(a.Port, b.Port)
}
