package k8s

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// writeGRPCRoutes writes the entries of ours in the status.parents of GRPCRoutes, as the writer
// does for HTTPRoutes.
func (w *GatewayStatusWriter) writeGRPCRoutes(ctx context.Context, snap Snapshot, want GatewayStatus, now metav1.Time) []error {
	var errs []error
	for _, r := range snap.GRPCRoutes {
		key := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
		ours := want.GRPCRoutes[key] // none: entries of ours are removed
		if apiequality.Semantic.DeepEqual(r.Status.Parents, MergeRouteParents(r.Status.Parents, ours, w.controller, now)) {
			continue
		}
		cached := r
		err := w.write(ctx, func(first bool) error {
			obj := cached.DeepCopy()
			if !first {
				var err error
				if obj, err = w.client.GatewayV1().GRPCRoutes(key.Namespace).Get(ctx, key.Name, metav1.GetOptions{}); err != nil {
					return err
				}
			}
			next := MergeRouteParents(obj.Status.Parents, ours, w.controller, now)
			if apiequality.Semantic.DeepEqual(obj.Status.Parents, next) {
				return nil
			}
			obj.Status.Parents = next
			_, err := w.client.GatewayV1().GRPCRoutes(key.Namespace).UpdateStatus(ctx, obj, metav1.UpdateOptions{FieldManager: w.identity})
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("writing status of GRPCRoute %s: %w", key, err))
		}
	}
	return errs
}
