package k8s

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// route is a Gateway API route object: HTTPRoute, GRPCRoute or TLSRoute. Their statuses are the
// same RouteStatus.
type route interface {
	*gatewayv1.HTTPRoute | *gatewayv1.GRPCRoute | *gatewayv1.TLSRoute
	metav1.Object
}

// routeKind is how the writer reads and writes the status of one kind of route.
type routeKind[R route] struct {
	name    string
	parents func(R) *[]gatewayv1.RouteParentStatus
	copy    func(R) R
	get     func(ctx context.Context, namespace, name string) (R, error)
	update  func(ctx context.Context, r R, opts metav1.UpdateOptions) (R, error)
}

// writeRoutes writes the entries of ours in the status.parents of routes: want's for each route
// (none: the entries of ours are removed), leaving other controllers' entries as they are. A
// route whose entries are already right is not written.
func writeRoutes[R route](ctx context.Context, w *GatewayStatusWriter, kind routeKind[R], routes []R,
	want map[types.NamespacedName][]gatewayv1.RouteParentStatus, now metav1.Time) []error {
	var errs []error
	for _, r := range routes {
		key := types.NamespacedName{Namespace: r.GetNamespace(), Name: r.GetName()}
		ours := want[key]
		if cur := *kind.parents(r); apiequality.Semantic.DeepEqual(cur, MergeRouteParents(cur, ours, w.controller, now)) {
			continue
		}
		cached := r
		err := w.write(ctx, func(first bool) error {
			obj := kind.copy(cached)
			if !first {
				var err error
				if obj, err = kind.get(ctx, key.Namespace, key.Name); err != nil {
					return err
				}
			}
			parents := kind.parents(obj)
			next := MergeRouteParents(*parents, ours, w.controller, now)
			if apiequality.Semantic.DeepEqual(*parents, next) {
				return nil
			}
			*parents = next
			_, err := kind.update(ctx, obj, metav1.UpdateOptions{FieldManager: w.identity})
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("writing status of %s %s: %w", kind.name, key, err))
		}
	}
	return errs
}

// writeAllRoutes writes the route statuses of every kind.
func (w *GatewayStatusWriter) writeAllRoutes(ctx context.Context, snap Snapshot, want GatewayStatus, now metav1.Time) []error {
	gw := w.client.GatewayV1()
	var errs []error
	errs = append(errs, writeRoutes(ctx, w, routeKind[*gatewayv1.HTTPRoute]{
		name:    "HTTPRoute",
		parents: func(r *gatewayv1.HTTPRoute) *[]gatewayv1.RouteParentStatus { return &r.Status.Parents },
		copy:    (*gatewayv1.HTTPRoute).DeepCopy,
		get: func(ctx context.Context, ns, name string) (*gatewayv1.HTTPRoute, error) {
			return gw.HTTPRoutes(ns).Get(ctx, name, metav1.GetOptions{})
		},
		update: func(ctx context.Context, r *gatewayv1.HTTPRoute, o metav1.UpdateOptions) (*gatewayv1.HTTPRoute, error) {
			return gw.HTTPRoutes(r.Namespace).UpdateStatus(ctx, r, o)
		},
	}, snap.HTTPRoutes, want.HTTPRoutes, now)...)
	errs = append(errs, writeRoutes(ctx, w, routeKind[*gatewayv1.GRPCRoute]{
		name:    "GRPCRoute",
		parents: func(r *gatewayv1.GRPCRoute) *[]gatewayv1.RouteParentStatus { return &r.Status.Parents },
		copy:    (*gatewayv1.GRPCRoute).DeepCopy,
		get: func(ctx context.Context, ns, name string) (*gatewayv1.GRPCRoute, error) {
			return gw.GRPCRoutes(ns).Get(ctx, name, metav1.GetOptions{})
		},
		update: func(ctx context.Context, r *gatewayv1.GRPCRoute, o metav1.UpdateOptions) (*gatewayv1.GRPCRoute, error) {
			return gw.GRPCRoutes(r.Namespace).UpdateStatus(ctx, r, o)
		},
	}, snap.GRPCRoutes, want.GRPCRoutes, now)...)
	errs = append(errs, writeRoutes(ctx, w, routeKind[*gatewayv1.TLSRoute]{
		name:    "TLSRoute",
		parents: func(r *gatewayv1.TLSRoute) *[]gatewayv1.RouteParentStatus { return &r.Status.Parents },
		copy:    (*gatewayv1.TLSRoute).DeepCopy,
		get: func(ctx context.Context, ns, name string) (*gatewayv1.TLSRoute, error) {
			return gw.TLSRoutes(ns).Get(ctx, name, metav1.GetOptions{})
		},
		update: func(ctx context.Context, r *gatewayv1.TLSRoute, o metav1.UpdateOptions) (*gatewayv1.TLSRoute, error) {
			return gw.TLSRoutes(r.Namespace).UpdateStatus(ctx, r, o)
		},
	}, snap.TLSRoutes, want.TLSRoutes, now)...)
	return errs
}
