package framework

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// EventTimeout is how long WaitForEvent waits for the controller to report a problem.
const EventTimeout = 20 * time.Second

// eventPoll is the interval between two listings of Events while waiting.
const eventPoll = 100 * time.Millisecond

// ObjectEvents lists the core/v1 Events in namespace ns whose involvedObject is the object of the
// given kind and name, optionally only those with the given reason ("" for any), oldest first.
func ObjectEvents(ctx context.Context, ns, kind, name, reason string) ([]corev1.Event, error) {
	set := fields.Set{
		"involvedObject.kind":      kind,
		"involvedObject.namespace": ns,
		"involvedObject.name":      name,
	}
	if reason != "" {
		set["reason"] = reason
	}
	list, err := Kube().CoreV1().Events(ns).List(ctx, metav1.ListOptions{
		FieldSelector: fields.SelectorFromSet(set).String(),
	})
	if err != nil {
		return nil, fmt.Errorf("listing events of %s %s/%s: %w", kind, ns, name, err)
	}
	return list.Items, nil
}

// EventsFor returns the Events that exist now about the object, with the given reason ("" for any).
// To assert that no Event was written, call it after something the controller did in the same
// pass has been observed.
func EventsFor(t testing.TB, ns, kind, name, reason string) []corev1.Event {
	t.Helper()
	events, err := ObjectEvents(t.Context(), ns, kind, name, reason)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// WaitForEvent waits up to EventTimeout until an Event with the given reason exists about the
// object of the given kind and name in namespace ns, and returns the first one. On timeout it
// fails the test, listing the Events the object has.
func WaitForEvent(t testing.TB, ns, kind, name, reason string) corev1.Event {
	t.Helper()
	deadline := time.Now().Add(EventTimeout)
	for {
		events, err := ObjectEvents(t.Context(), ns, kind, name, reason)
		if err == nil && len(events) > 0 {
			return events[0]
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("waiting %s for a %s Event on %s %s/%s: %v", EventTimeout, reason, kind, ns, name, err)
			}
			all, _ := ObjectEvents(t.Context(), ns, kind, name, "")
			t.Fatalf("no %s Event on %s %s/%s after %s; its Events: %s", reason, kind, ns, name, EventTimeout, DescribeEvents(all))
		}
		time.Sleep(eventPoll)
	}
}

// DescribeEvents formats Events for a test message: "[Warning RouteConflict: message, ...]".
func DescribeEvents(events []corev1.Event) string {
	parts := make([]string, 0, len(events))
	for _, e := range events {
		parts = append(parts, fmt.Sprintf("%s %s (x%d from %s): %s", e.Type, e.Reason, max(e.Count, 1), e.Source.Component, e.Message))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}
