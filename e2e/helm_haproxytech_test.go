package e2e

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// previousChartCommit holds the chart as it was before haproxytech's value names were accepted
// (version 0.1.0): `helm upgrade` from it to the chart of this tree must work.
const previousChartCommit = "7e68a38"

// haproxytechValues is a values file written for haproxytech's kubernetes-ingress chart.
func haproxytechValues(t *testing.T, name string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}

var monitoringKinds = []struct{ kind, plural string }{{"ServiceMonitor", "servicemonitors"}, {"PodMonitor", "podmonitors"}}

// ensureMonitoringCRDs creates the Prometheus Operator's ServiceMonitor and PodMonitor CRDs (with
// an open schema) in the test cluster, as a cluster running the operator has them, and waits
// until they serve.
func ensureMonitoringCRDs(t *testing.T) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(framework.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	for _, k := range monitoringKinds {
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": k.plural + ".monitoring.coreos.com"},
			"spec": map[string]any{
				"group": "monitoring.coreos.com",
				"scope": "Namespaced",
				"names": map[string]any{"kind": k.kind, "plural": k.plural, "singular": strings.ToLower(k.kind), "listKind": k.kind + "List"},
				"versions": []any{map[string]any{
					"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
				}},
			},
		}}
		if _, err := crds.Create(t.Context(), crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating the %s CRD: %v", k.kind, err)
		}
	}
	framework.Eventually(t, framework.RouteTimeout, func() error {
		for _, k := range monitoringKinds {
			gvr := schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: k.plural}
			if _, err := dyn.Resource(gvr).Namespace("default").List(t.Context(), metav1.ListOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	return dyn
}

// TestHelmHaproxytechValuesInstall installs the chart with a values file written for
// haproxytech's chart (e2e/testdata/haproxytech-values.yaml), overriding only what makes it this
// test's (the controller value, node ports, the TCP services ConfigMap's namespace and port),
// checks that every key became what it means, then runs the controller as the chart would and
// serves an Ingress of class haproxy and the TCP port of controller.service.tcpPorts.
func TestHelmHaproxytechValuesInstall(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	dyn := ensureMonitoringCRDs(t)
	ns := framework.NewNamespace(t)
	release := "portcullis-ht-" + ns[len(ns)-5:]
	controllerValue := "portcullis.io/ingress-controller/" + ns
	nodePorts := staticNodePorts(3)
	tcpPort := framework.FreePort(t)
	kube := framework.Kube()
	ctx := t.Context()

	// The TCP services ConfigMap in haproxytech's format, which the values file passes with
	// --configmap-tcp-services, as operators of haproxytech's controller create it.
	if _, err := kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "tcp-services"},
		Data:       map[string]string{strconv.Itoa(tcpPort): ns + "/db:80"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	overrides := framework.ValuesFile(t, map[string]any{"controller": map[string]any{
		"ingressClassResource": map[string]any{"controllerValue": controllerValue},
		"extraArgs":            []string{"--configmap-tcp-services=" + ns + "/tcp-services"},
		"service": map[string]any{
			"nodePorts": map[string]any{"http": nodePorts[0], "https": nodePorts[1]},
			"tcpPorts":  []any{map[string]any{"name": "postgres", "port": 5432, "targetPort": tcpPort, "nodePort": nodePorts[2]}},
		},
	}})
	helm.InstallFiles(t, release, ns, framework.ChartDir(t, "portcullis"), haproxytechValues(t, "haproxytech-values.yaml"), overrides)

	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Deployment: %v", err)
	}
	checkHaproxytechDeployment(t, dep, tcpPort)
	ctr := dep.Spec.Template.Spec.Containers[0]

	svc, err := kube.CoreV1().Services(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Service: %v", err)
	}
	gotSvc := map[string]string{}
	for _, p := range svc.Spec.Ports {
		gotSvc[p.Name] = fmt.Sprintf("%d->%s/%d", p.Port, p.TargetPort.String(), p.NodePort)
	}
	wantSvc := map[string]string{
		"http": fmt.Sprintf("80->http/%d", nodePorts[0]), "https": fmt.Sprintf("443->https/%d", nodePorts[1]),
		"healthz": "1042->healthz/" + strconv.Itoa(int(svcNodePort(svc, "healthz"))), "stat": "1024->stat/" + strconv.Itoa(int(svcNodePort(svc, "stat"))),
		"postgres": fmt.Sprintf("5432->postgres/%d", nodePorts[2]),
	}
	if fmt.Sprint(gotSvc) != fmt.Sprint(wantSvc) {
		t.Errorf("Service ports: got %v, want %v (enablePorts.stat true, admin false, tcpPorts postgres)", gotSvc, wantSvc)
	}
	if svc.Spec.SessionAffinity != corev1.ServiceAffinityNone || svc.Labels["exposed"] != "true" || svc.Annotations["example.com/lb-idle-timeout-ms"] != "3600000" {
		t.Errorf("Service: sessionAffinity %q, labels %v, annotations %v; want None, exposed=true, the idle timeout annotation as \"3600000\" (not 3.6e+06)",
			svc.Spec.SessionAffinity, svc.Labels, svc.Annotations)
	}
	metrics, err := kube.CoreV1().Services(ns).Get(ctx, release+"-metrics", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the metrics Service: %v", err)
	}
	if metrics.Labels["scrape"] != "yes" || len(metrics.Spec.Ports) != 2 {
		t.Errorf("metrics Service: labels %v, ports %v; want scrape=yes (service.metrics.labels) and the ports controller and stat", metrics.Labels, metrics.Spec.Ports)
	}

	cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the ConfigMap: %v", err)
	}
	wantConfig := map[string]string{"maxconn": "5000", "timeout-connect": "250ms", "timeout-client": "30s", "ssl-redirect": "true", "syslog-server": "stdout"}
	if fmt.Sprint(cm.Data) != fmt.Sprint(wantConfig) {
		t.Errorf("ConfigMap data: got %v, want %v (numbers exactly, logging.traffic.address as syslog-server)", cm.Data, wantConfig)
	}

	pdb, err := kube.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the PodDisruptionBudget (PodDisruptionBudget.enable): %v", err)
	}
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 || pdb.Spec.MaxUnavailable != nil {
		t.Errorf("PodDisruptionBudget: minAvailable %v, maxUnavailable %v; want 1 and unset", pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable)
	}
	for _, k := range monitoringKinds {
		gvr := schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: k.plural}
		m, err := dyn.Resource(gvr).Namespace(ns).Get(ctx, release, metav1.GetOptions{})
		if err != nil {
			t.Errorf("reading the %s: %v", k.kind, err)
			continue
		}
		if m.GetLabels()["release"] != "prometheus" {
			t.Errorf("%s labels %v lack release=prometheus (extraLabels)", k.kind, m.GetLabels())
		}
	}
	ic, err := kube.NetworkingV1().IngressClasses().Get(ctx, "haproxy", metav1.GetOptions{})
	if err != nil || ic.Spec.Controller != controllerValue {
		t.Fatalf("IngressClass haproxy: %v, %+v; want controller %s", err, ic, controllerValue)
	}
	role, err := kube.RbacV1().Roles(ns).Get(ctx, release+"-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(role.Rules, func(r rbacv1.PolicyRule) bool { return slices.Contains(r.ResourceNames, "tcp-services") }) {
		t.Errorf("Role %s-controller does not let the controller read the extraArgs ConfigMap tcp-services: %+v", release, role.Rules)
	}

	// The controller, as the chart starts it and as its ServiceAccount, serves an Ingress of class
	// haproxy and the TCP port.
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	db := framework.StartTCPEcho(t, "db")
	framework.EchoService(t, ns, "db", &db.Echo)
	framework.CreateIngress(t, framework.Ingress(ns, "web", "haproxy",
		framework.Rule("haproxytech.example", framework.Prefix("/", "web"))))
	args := append(chartArgsForTest(ctr.Args),
		"--kubeconfig="+framework.ServiceAccountKubeconfig(t, ns, release), "--election-namespace="+ns)
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: args})
	framework.ExpectRoute(t, c, "haproxytech.example", "/", http.StatusOK, "web")
	waitTCP(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(tcpPort)), "db", 20*time.Second)
	// The readiness and startup probes the file copies from haproxytech's chart ask GET /healthz
	// of port 1042, HAProxy's health check (--healthz-bind-port, which the framework moves to
	// a free port): it passes.
	if got := monitorStatus(c.MonitorURL); got != http.StatusOK {
		t.Errorf("the probes' endpoint %s answered %d, want 200", c.MonitorURL, got)
	}
}

func svcNodePort(svc *corev1.Service, name string) int32 {
	for _, p := range svc.Spec.Ports {
		if p.Name == name {
			return p.NodePort
		}
	}
	return -1
}

// checkHaproxytechDeployment checks what the haproxytech values file asks of the Deployment.
func checkHaproxytechDeployment(t *testing.T, dep *appsv1.Deployment, tcpPort int) {
	t.Helper()
	pod := dep.Spec.Template.Spec
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 || dep.Spec.MinReadySeconds != 5 {
		t.Errorf("Deployment: replicas %v, minReadySeconds %d; want 3 and 5", dep.Spec.Replicas, dep.Spec.MinReadySeconds)
	}
	if ru := dep.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable.IntValue() != 0 || ru.MaxSurge.IntValue() != 1 {
		t.Errorf("Deployment strategy: got %+v, want RollingUpdate with maxUnavailable 0 and maxSurge 1 (strategy)", dep.Spec.Strategy)
	}
	if dep.Labels["team"] != "edge" || dep.Annotations["example.com/owner"] != "edge-team" {
		t.Errorf("Deployment labels %v and annotations %v: want team=edge (extraLabels) and example.com/owner (annotations)", dep.Labels, dep.Annotations)
	}
	if dep.Spec.Template.Labels["tier"] != "ingress" || dep.Spec.Template.Annotations["example.com/scrape"] != "true" {
		t.Errorf("pod labels %v, annotations %v", dep.Spec.Template.Labels, dep.Spec.Template.Annotations)
	}
	if len(pod.InitContainers) != 1 || pod.InitContainers[0].Name != "wait" {
		t.Errorf("init containers: got %+v, want wait", pod.InitContainers)
	}
	if len(pod.Containers) != 2 || pod.Containers[0].Name != "controller" || pod.Containers[1].Name != "sidecar" {
		t.Fatalf("containers: got %d, want controller and sidecar", len(pod.Containers))
	}
	if pod.DNSPolicy != corev1.DNSClusterFirst || pod.DNSConfig == nil || len(pod.DNSConfig.Options) != 1 || pod.DNSConfig.Options[0].Name != "ndots" {
		t.Errorf("dnsPolicy %q, dnsConfig %+v; want ClusterFirst and ndots", pod.DNSPolicy, pod.DNSConfig)
	}
	if pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Errorf("enableServiceLinks: got %v, want false", pod.EnableServiceLinks)
	}
	if len(pod.ImagePullSecrets) != 1 || pod.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("imagePullSecrets: got %v, want regcred (existingImagePullSecret)", pod.ImagePullSecrets)
	}
	psc := pod.SecurityContext
	if psc == nil || len(psc.Sysctls) != 1 || psc.Sysctls[0].Name != "net.ipv4.ip_local_port_range" || psc.Sysctls[0].Value != "1024 65000" ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod security context: got %+v, want the sysctl and the RuntimeDefault seccomp profile", psc)
	}
	if len(pod.Volumes) == 0 || pod.Volumes[len(pod.Volumes)-1].Name != "scratch" {
		t.Errorf("volumes: got %+v, want scratch last (extraVolumes)", pod.Volumes)
	}
	ctr := pod.Containers[0]
	ports := map[string]int32{}
	for _, p := range ctr.Ports {
		ports[p.Name] = p.ContainerPort
	}
	want := map[string]int32{"http": 8080, "https": 8443, "controller": 6060, "healthz": 1042, "stat": 1024, "postgres": int32(tcpPort)}
	if fmt.Sprint(ports) != fmt.Sprint(want) {
		t.Errorf("container ports: got %v, want %v", ports, want)
	}
	if len(ctr.EnvFrom) != 1 || !slices.ContainsFunc(ctr.Env, func(e corev1.EnvVar) bool { return e.Name == "TZ" }) {
		t.Errorf("env %v and envFrom %v: want TZ and the ingress-env ConfigMap", ctr.Env, ctr.EnvFrom)
	}
	if r := ctr.ReadinessProbe; r == nil || r.HTTPGet == nil || r.HTTPGet.Port.IntValue() != int(ports["healthz"]) {
		t.Errorf("readiness probe %+v: want GET /healthz on 1042, the healthz port", r)
	}
	for _, a := range ctr.Args {
		if strings.HasPrefix(a, "--default-ssl-certificate") {
			t.Errorf("args carry %s: defaultTLSSecret enabled without a secret means the controller's self-signed certificate", a)
		}
	}
	if !slices.ContainsFunc(ctr.Args, func(a string) bool { return strings.HasPrefix(a, "--configmap-tcp-services=") }) {
		t.Errorf("args %q lack the extraArgs --configmap-tcp-services", ctr.Args)
	}
	checkControllerAcceptsArgs(t, ctr.Args)
}

// TestHelmHaproxytechUnsupportedValues renders the chart with haproxytech values that Portcullis
// cannot honour: the install fails, and its message names every one of them.
func TestHelmHaproxytechUnsupportedValues(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	_, err := helm.TryRun(t.Context(), "template", "rel", framework.ChartDir(t, "portcullis"), "--namespace", "ns1",
		"-f", haproxytechValues(t, "haproxytech-unsupported-values.yaml"))
	if err == nil {
		t.Fatal("helm template succeeded, want it to fail naming each value it cannot honour")
	}
	for _, key := range []string{
		"podSecurityPolicy.enabled", "namespace.create", "namespaceOverride", "aws.licenseConfigSecretName",
		"serviceAccount.automountServiceAccountToken", "controller.unprivileged", "controller.prometheus.enabled",
		"controller.pprof.enabled", "controller.quic.announcePort", "controller.service.enablePorts.quic",
		"controller.kubernetesGateway.enabled", "controller.keda.enabled", "controller.auxiliaryConfig",
		"controller.sync.mode", "controller.logging.traffic.format", "controller.logging.traffic.facility",
		"controller.service.ipFamilies IPv6", "controller.service.ipFamilyPolicy",
		"--sync-period", "--disable-ipv6", "--namespace-blacklist", "--prometheus", "--no-such-flag: the controller has no such flag",
	} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("the error does not name %s:\n%v", key, err)
		}
	}
	// A key no chart knows is refused by the schema, by name.
	_, err = helm.TryRun(t.Context(), "template", "rel", framework.ChartDir(t, "portcullis"), "--namespace", "ns1",
		"-f", haproxytechValues(t, "haproxytech-values.yaml"), "--set", "controller.service.tcpPort[0].port=1,controller.hostNetworking=true")
	if err == nil || !strings.Contains(err.Error(), "'tcpPort' not allowed") || !strings.Contains(err.Error(), "'hostNetworking' not allowed") {
		t.Errorf("misspelt keys: got %v, want the schema to name tcpPort and hostNetworking", err)
	}
}

// TestHelmHaproxytechTemplates renders haproxytech's values beyond the installed file: a
// DaemonSet on the host network with host ports, credentials for a registry, privileged ports,
// the monitors' default endpoints.
func TestHelmHaproxytechTemplates(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	objs := helm.Template(t, "rel", "ns1", framework.ChartDir(t, "portcullis"), map[string]any{"controller": map[string]any{
		"kind":                 "DaemonSet",
		"daemonset":            map[string]any{"useHostNetwork": true},
		"imageCredentials":     map[string]any{"registry": "registry.example.com", "username": "u", "password": "p"},
		"allowPrivilegedPorts": true,
		"tcpServices":          map[string]any{"22": "git/ssh:22"},
		"serviceMonitor":       map[string]any{"enabled": true},
		"podMonitor":           map[string]any{"enabled": true},
		"PodDisruptionBudget":  map[string]any{"enable": true, "maxUnavailable": "25%"},
		"containerPort":        map[string]any{"admin": 7070},
		"config":               map[string]any{"maxconn": 2000000, "weight": 0.5},
		"podLabels":            map[string]any{"port": 8080, "big": 2000000},
	}})
	found := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		found[o.GetKind()+"/"+o.GetName()] = o
	}
	var ds appsv1.DaemonSet
	if o := found["DaemonSet/rel-portcullis"]; o == nil {
		t.Fatal("no DaemonSet")
	} else {
		framework.FromUnstructured(t, o, &ds)
	}
	if l := ds.Spec.Template.Labels; l["port"] != "8080" || l["big"] != "2000000" {
		t.Errorf("pod labels %v: want the numbers as strings, exactly", l)
	}
	pod := ds.Spec.Template.Spec
	if !pod.HostNetwork || pod.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
		t.Errorf("hostNetwork %v, dnsPolicy %q: want true and ClusterFirstWithHostNet", pod.HostNetwork, pod.DNSPolicy)
	}
	if len(pod.ImagePullSecrets) != 1 || pod.ImagePullSecrets[0].Name != "rel-portcullis-pull" || found["Secret/rel-portcullis-pull"] == nil {
		t.Errorf("imagePullSecrets %v: want the Secret rel-portcullis-pull made from imageCredentials", pod.ImagePullSecrets)
	}
	if psc := pod.SecurityContext; psc == nil || !slices.ContainsFunc(psc.Sysctls, func(s corev1.Sysctl) bool {
		return s.Name == "net.ipv4.ip_unprivileged_port_start" && s.Value == "0"
	}) {
		t.Errorf("pod security context %+v: want net.ipv4.ip_unprivileged_port_start=0 (allowPrivilegedPorts)", pod.SecurityContext)
	}
	if !slices.Contains(pod.Containers[0].Args, "--controller-port=7070") {
		t.Errorf("args %q lack --controller-port=7070 (containerPort.admin)", pod.Containers[0].Args)
	}
	if pdb := found["PodDisruptionBudget/rel-portcullis"]; pdb == nil || fmt.Sprint(pdb.Object["spec"].(map[string]any)["maxUnavailable"]) != "25%" {
		t.Errorf("PodDisruptionBudget for the DaemonSet: got %v, want maxUnavailable 25%%", pdb)
	}
	for _, k := range []string{"ServiceMonitor/rel-portcullis", "PodMonitor/rel-portcullis"} {
		o := found[k]
		if o == nil {
			t.Errorf("no %s", k)
			continue
		}
		spec := o.Object["spec"].(map[string]any)
		eps, _ := spec["endpoints"].([]any)
		if eps == nil {
			eps, _ = spec["podMetricsEndpoints"].([]any)
		}
		var portNames []string
		for _, e := range eps {
			portNames = append(portNames, fmt.Sprint(e.(map[string]any)["port"]))
		}
		if fmt.Sprint(portNames) != "[controller stat]" {
			t.Errorf("%s scrapes ports %v, want the controller's and HAProxy's exporter [controller stat]", k, portNames)
		}
	}
	cm := found["ConfigMap/rel-portcullis"]
	if data := fmt.Sprint(cm.Object["data"]); data != "map[maxconn:2000000 weight:0.5]" {
		t.Errorf("ConfigMap data %s: want numbers exactly as written", data)
	}
}

// extractChart writes the chart deploy/helm/portcullis as it was at commit into a temporary
// directory and returns it.
func extractChart(t *testing.T, commit string) string {
	t.Helper()
	root := filepath.Join(framework.ChartDir(t, "portcullis"), "..", "..", "..")
	cmd := exec.CommandContext(t.Context(), "git", "-C", root, "archive", "--format=tar", commit, "deploy/helm/portcullis")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("git archive %s: %v: %s", commit, err, stderr.String())
	}
	dir := t.TempDir()
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "deploy", "helm", "portcullis")
}

// TestHelmUpgradeFromPreviousChart installs the previous chart (before haproxytech's names) and
// upgrades the release to this one, first with the same values, then with haproxytech's values
// file: both upgrades apply, and the Deployment keeps its selector.
func TestHelmUpgradeFromPreviousChart(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	ns := framework.NewNamespace(t)
	release := "portcullis-up-" + ns[len(ns)-5:]
	nodePorts := staticNodePorts(2)
	values := framework.ValuesFile(t, map[string]any{"controller": map[string]any{
		"replicaCount":         1,
		"ingressClass":         ns,
		"ingressClassResource": map[string]any{"controllerValue": "portcullis.io/ingress-controller/" + ns},
		"config":               map[string]any{"timeout-client": "30s"},
		"tcpServices":          map[string]any{"15432": ns + "/db:5432"},
		"service":              map[string]any{"nodePorts": map[string]any{"http": nodePorts[0], "https": nodePorts[1]}},
		"podDisruptionBudget":  map[string]any{"minAvailable": "", "maxUnavailable": 1},
	}})
	helm.InstallFiles(t, release, ns, extractChart(t, previousChartCommit), values)
	kube := framework.Kube()
	before, err := kube.AppsV1().Deployments(ns).Get(t.Context(), release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	chart := framework.ChartDir(t, "portcullis")
	upgrade := func(files ...string) {
		t.Helper()
		args := []string{"upgrade", release, chart, "--kubeconfig", framework.KubeconfigPath(), "--namespace", ns}
		for _, f := range files {
			args = append(args, "-f", f)
		}
		helm.Run(t, args...)
	}
	upgrade(values)
	after, err := kube.AppsV1().Deployments(ns).Get(t.Context(), release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after.Spec.Selector) != fmt.Sprint(before.Spec.Selector) {
		t.Errorf("selector changed from %v to %v", before.Spec.Selector, after.Spec.Selector)
	}
	if !slices.ContainsFunc(after.Spec.Template.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool { return p.Name == "stat" }) {
		t.Errorf("after the upgrade, the container has no stat port: %+v", after.Spec.Template.Spec.Containers[0].Ports)
	}
	// Then to haproxytech's values file, kept to this test's class and ports.
	overrides := framework.ValuesFile(t, map[string]any{"controller": map[string]any{
		"ingressClass":         ns,
		"ingressClassResource": map[string]any{"name": ns, "controllerValue": "portcullis.io/ingress-controller/" + ns},
		"extraArgs":            []string{},
		"serviceMonitor":       map[string]any{"enabled": false},
		"podMonitor":           map[string]any{"enabled": false},
		"tcpServices":          map[string]any{"15432": ns + "/db:5432"},
		"service": map[string]any{
			"nodePorts": map[string]any{"http": nodePorts[0], "https": nodePorts[1]},
			"tcpPorts":  []any{map[string]any{"name": "postgres", "port": 5432, "targetPort": 15432}},
		},
	}})
	upgrade(haproxytechValues(t, "haproxytech-values.yaml"), overrides)
	dep, err := kube.AppsV1().Deployments(ns).Get(t.Context(), release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if dep.Spec.MinReadySeconds != 5 || dep.Labels["team"] != "edge" {
		t.Errorf("after the upgrade to haproxytech's values: minReadySeconds %d, labels %v", dep.Spec.MinReadySeconds, dep.Labels)
	}
	svc, err := kube.CoreV1().Services(ns).Get(t.Context(), release, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svcNodePort(svc, "postgres") < 0 || svcNodePort(svc, "tcp-15432") >= 0 {
		t.Errorf("Service ports %+v: want postgres (tcpPorts) in place of tcp-15432", svc.Spec.Ports)
	}
}
