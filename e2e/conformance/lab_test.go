package conformance

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

func TestMain(m *testing.M) { framework.Main(m) }

// labTimeout bounds each wait of the lab test: Pods start within seconds, on a loaded machine too.
const labTimeout = time.Minute

// TestLabRunsPods checks the lab on its own, with a Deployment shaped like the suite's TLS
// backends: Pods are bound, get IPs, run echo-basic at their IP with the downward API environment
// and a Secret volume with items, become Ready, fill the EndpointSlice; a deleted Pod's processes,
// veth and address go away and its replacement takes over; scaling to zero leaves nothing behind.
func TestLabRunsPods(t *testing.T) {
	lab := StartLab(t)
	ns := framework.NewNamespace(t)
	cert := framework.SelfSigned(t, "echo.example")
	framework.CreateSecret(t, framework.TLSSecret(ns, "echo-cert", cert.CertPEM, cert.KeyPEM))
	framework.CreateService(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "echo"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(3000)},
				{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443)},
			},
		},
	})
	deployments := framework.Kube().AppsV1().Deployments(ns)
	if _, err := deployments.Create(t.Context(), echoDeployment(ns, 2), metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the Deployment: %v", err)
	}

	pods := waitPods(t, ns, 2)
	seen := slices.Clone(pods)
	for _, pod := range pods {
		expectEcho(t, pod)
	}
	waitSlice(t, ns, "echo", pods)

	// A deleted Pod: the ReplicaSet replaces it, the runner stops it and removes it.
	victim := pods[0]
	if err := framework.Kube().CoreV1().Pods(ns).Delete(t.Context(), victim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting pod %s: %v", victim.Name, err)
	}
	framework.Eventually(t, labTimeout, func() error {
		_, err := framework.Kube().CoreV1().Pods(ns).Get(t.Context(), victim.Name, metav1.GetOptions{})
		if err == nil {
			return fmt.Errorf("pod %s still exists", victim.Name)
		}
		return nil
	})
	pods = waitPods(t, ns, 2)
	seen = append(seen, pods...)
	for _, pod := range pods {
		if pod.UID == victim.UID {
			t.Fatalf("pod %s is still listed", victim.Name)
		}
		expectEcho(t, pod)
	}
	waitSlice(t, ns, "echo", pods)
	if !slices.ContainsFunc(pods, func(p corev1.Pod) bool { return p.Status.PodIP == victim.Status.PodIP }) {
		if _, err := net.DialTimeout("tcp", net.JoinHostPort(victim.Status.PodIP, "3000"), time.Second); err == nil {
			t.Errorf("the deleted pod's address %s still answers", victim.Status.PodIP)
		}
	}

	// Scaled to zero: no Pod, no sandbox (processes), no veth.
	scale := []byte(`{"spec":{"replicas":0}}`)
	if _, err := deployments.Patch(t.Context(), "echo", types.MergePatchType, scale, metav1.PatchOptions{}); err != nil {
		t.Fatalf("scaling the Deployment to zero: %v", err)
	}
	framework.Eventually(t, labTimeout, func() error {
		list, err := framework.Kube().CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) > 0 {
			return fmt.Errorf("%d pods left", len(list.Items))
		}
		if running := lab.Runner.sandboxesIn(ns); len(running) > 0 {
			return fmt.Errorf("still running: %v", running)
		}
		for _, p := range seen {
			if veth := hostVeth(p.UID); linkExists(veth) {
				return fmt.Errorf("pod %s: veth %s left", p.Name, veth)
			}
		}
		return nil
	})
}

// echoDeployment is shaped like the suite's tls-backend: echo-basic with the downward API
// environment, and a certificate from a Secret volume with items.
func echoDeployment(ns string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "echo"}
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name:  "echo",
						Image: "registry.k8s.io/gateway-api/echo-basic:v1.5.1",
						Env: []corev1.EnvVar{
							fieldEnv("POD_NAME", "metadata.name"),
							fieldEnv("NAMESPACE", "metadata.namespace"),
							{Name: "TLS_SERVER_CERT", Value: "/etc/secret-volume/crt"},
							{Name: "TLS_SERVER_PRIVKEY", Value: "/etc/secret-volume/key"},
						},
						VolumeMounts: []corev1.VolumeMount{{Name: "secret-volume", MountPath: "/etc/secret-volume"}},
					}},
					Volumes: []corev1.Volume{{
						Name: "secret-volume",
						VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
							SecretName: "echo-cert",
							Items: []corev1.KeyToPath{
								{Key: corev1.TLSCertKey, Path: "crt"},
								{Key: corev1.TLSPrivateKeyKey, Path: "key"},
							},
						}},
					}},
				},
			},
		},
	}
}

// waitPods waits until the namespace has exactly n Pods, all Running and Ready with an IP and none
// being deleted, and returns them.
func waitPods(t *testing.T, ns string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	framework.Eventually(t, labTimeout, func() error {
		list, err := framework.Kube().CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) != n {
			return fmt.Errorf("%d pods, want %d", len(list.Items), n)
		}
		for _, p := range list.Items {
			if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || !podReady(&p) || p.Status.PodIP == "" {
				return fmt.Errorf("pod %s: phase %s, ready %t, IP %q, deleting %t", p.Name, p.Status.Phase, podReady(&p), p.Status.PodIP, p.DeletionTimestamp != nil)
			}
		}
		pods = list.Items
		return nil
	})
	return pods
}

// expectEcho checks that the Pod's own echo-basic answers at its IP, over HTTP on 3000 and HTTPS
// on 8443, and knows its Pod's name and namespace.
func expectEcho(t *testing.T, pod corev1.Pod) {
	t.Helper()
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		Proxy:           nil,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // G402: the test's own self-signed certificate
	}}
	defer client.CloseIdleConnections()
	for _, url := range []string{
		"http://" + net.JoinHostPort(pod.Status.PodIP, "3000") + "/check",
		"https://" + net.JoinHostPort(pod.Status.PodIP, "8443") + "/check",
	} {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatalf("pod %s: %v", pod.Name, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("pod %s: GET %s: %s %v", pod.Name, url, resp.Status, err)
		}
		var echo struct {
			Path      string `json:"path"`
			Namespace string `json:"namespace"`
			Pod       string `json:"pod"`
		}
		if err := json.Unmarshal(body, &echo); err != nil {
			t.Fatalf("pod %s: GET %s: decoding %q: %v", pod.Name, url, body, err)
		}
		if echo.Pod != pod.Name || echo.Namespace != pod.Namespace || echo.Path != "/check" {
			t.Errorf("pod %s/%s: GET %s answered %+v", pod.Namespace, pod.Name, url, echo)
		}
	}
}

// waitSlice waits until the Service's EndpointSlices list exactly the Pods' IPs, ready.
func waitSlice(t *testing.T, ns, service string, pods []corev1.Pod) {
	t.Helper()
	var want []string
	for _, p := range pods {
		want = append(want, p.Status.PodIP)
	}
	slices.Sort(want)
	framework.Eventually(t, labTimeout, func() error {
		list, err := framework.Kube().DiscoveryV1().EndpointSlices(ns).List(t.Context(), metav1.ListOptions{
			LabelSelector: discoveryv1.LabelServiceName + "=" + service,
		})
		if err != nil {
			return err
		}
		var have []string
		for _, s := range list.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					have = append(have, e.Addresses...)
				}
			}
		}
		slices.Sort(have)
		if !slices.Equal(have, want) {
			return fmt.Errorf("EndpointSlices of %s list %v, want %v", service, have, want)
		}
		return nil
	})
}
