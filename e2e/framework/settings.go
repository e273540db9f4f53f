package framework

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConfigFiles are the files the controller renders for haproxy, by path relative to its config
// directory: haproxy.cfg and maps/*.map. Certificates are left out.
type ConfigFiles map[string]string

// ReadConfigFiles reads c's haproxy.cfg and map files.
func ReadConfigFiles(c *Controller) (ConfigFiles, error) {
	files := ConfigFiles{}
	mapFiles, err := filepath.Glob(filepath.Join(c.ConfigDir, "maps", "*.map"))
	if err != nil {
		return nil, err
	}
	for _, p := range append([]string{filepath.Join(c.ConfigDir, "haproxy.cfg")}, mapFiles...) {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading the rendered configuration: %w", err)
		}
		rel, _ := filepath.Rel(c.ConfigDir, p)
		files[rel] = string(data)
	}
	return files, nil
}

// ConfigFiles reads c's haproxy.cfg and map files, failing the test on error.
func (c *Controller) ConfigFiles(t testing.TB) ConfigFiles {
	t.Helper()
	files, err := ReadConfigFiles(c)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Config returns haproxy.cfg.
func (f ConfigFiles) Config() string { return f["haproxy.cfg"] }

// Find returns "file:line: text" for each line of the files that contains s.
func (f ConfigFiles) Find(s string) []string {
	var hits []string
	for _, name := range slices.Sorted(maps.Keys(f)) {
		for i, line := range strings.Split(f[name], "\n") {
			if strings.Contains(line, s) {
				hits = append(hits, fmt.Sprintf("%s:%d: %q", name, i+1, clipText(line, 200)))
			}
		}
	}
	return hits
}

// Diff describes how g differs from f, file by file, with the first differing line of each; ""
// when they are equal.
func (f ConfigFiles) Diff(g ConfigFiles) string {
	var out []string
	names := slices.Sorted(maps.Keys(f))
	for name := range g {
		if _, ok := f[name]; !ok {
			names = append(names, name)
		}
	}
	for _, name := range names {
		a, inF := f[name]
		b, inG := g[name]
		switch {
		case !inF:
			out = append(out, name+": added")
		case !inG:
			out = append(out, name+": removed")
		case a != b:
			la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
			i := 0
			for i < len(la) && i < len(lb) && la[i] == lb[i] {
				i++
			}
			was, now := "<end>", "<end>"
			if i < len(la) {
				was = clipText(la[i], 200)
			}
			if i < len(lb) {
				now = clipText(lb[i], 200)
			}
			out = append(out, fmt.Sprintf("%s line %d: was %q, now %q", name, i+1, was, now))
		}
	}
	return strings.Join(out, "; ")
}

// clipText shortens s to n bytes for a message.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("... (%d bytes)", len(s))
}

// StableConfigFiles waits until the controller is idle (WaitIdle) and returns its rendered files.
func (c *Controller) StableConfigFiles(t testing.TB) ConfigFiles {
	t.Helper()
	c.WaitIdle(t)
	return c.ConfigFiles(t)
}

// ConfigMap returns a ConfigMap with the given data.
func ConfigMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

// CreateConfigMap creates cm and returns the stored object.
func CreateConfigMap(t testing.TB, cm *corev1.ConfigMap) *corev1.ConfigMap {
	t.Helper()
	got, err := Kube().CoreV1().ConfigMaps(cm.Namespace).Create(t.Context(), cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating configmap %s/%s: %v", cm.Namespace, cm.Name, err)
	}
	return got
}

// UpdateConfigMapData replaces the data of a ConfigMap and returns the stored object.
func UpdateConfigMapData(t testing.TB, ns, name string, data map[string]string) *corev1.ConfigMap {
	t.Helper()
	cms := Kube().CoreV1().ConfigMaps(ns)
	cur, err := cms.Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading configmap %s/%s: %v", ns, name, err)
	}
	cur.Data = data
	got, err := cms.Update(t.Context(), cur, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("updating configmap %s/%s: %v", ns, name, err)
	}
	return got
}

// OpaqueSecret returns an Opaque Secret with the given data.
func OpaqueSecret(ns, name string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
}

// TrySetIngressAnnotations replaces the annotations of an Ingress, read fresh from the API. It
// returns the API server's error, for values it may refuse.
func TrySetIngressAnnotations(ctx context.Context, ns, name string, annotations map[string]string) error {
	ings := Kube().NetworkingV1().Ingresses(ns)
	cur, err := ings.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading ingress %s/%s: %w", ns, name, err)
	}
	cur.Annotations = annotations
	if _, err := ings.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating ingress %s/%s: %w", ns, name, err)
	}
	return nil
}

// SetIngressAnnotations replaces the annotations of an Ingress, failing the test on error.
func SetIngressAnnotations(t testing.TB, ns, name string, annotations map[string]string) {
	t.Helper()
	if err := TrySetIngressAnnotations(t.Context(), ns, name, annotations); err != nil {
		t.Fatal(err)
	}
}

// WaitForEventMessage waits up to EventTimeout until an Event with the given reason about the
// object mentions every one of fragments in its message, and returns it. On timeout it fails the
// test, listing the Events the object has.
func WaitForEventMessage(t testing.TB, ns, kind, name, reason string, fragments ...string) corev1.Event {
	t.Helper()
	deadline := time.Now().Add(EventTimeout)
	for {
		events, err := ObjectEvents(t.Context(), ns, kind, name, reason)
		for _, e := range events {
			all := true
			for _, f := range fragments {
				all = all && strings.Contains(e.Message, f)
			}
			if all {
				return e
			}
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("waiting %s for a %s Event on %s %s/%s: %v", EventTimeout, reason, kind, ns, name, err)
			}
			all, _ := ObjectEvents(t.Context(), ns, kind, name, "")
			t.Fatalf("no %s Event mentioning %q on %s %s/%s after %s; its Events: %s",
				reason, fragments, kind, ns, name, EventTimeout, DescribeEvents(all))
		}
		time.Sleep(eventPoll)
	}
}
