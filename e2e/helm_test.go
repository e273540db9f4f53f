package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// staticNodePorts returns n distinct ports from the static band of the default NodePort range
// (30000-30085), which the apiserver never hands out on its own while ports above are free: a
// fixed port only clashes with another test fixing the same one, and the tests of this process
// draw theirs from one shuffled pool, without putting any back.
func staticNodePorts(n int) []int {
	nodePortPool.Lock()
	defer nodePortPool.Unlock()
	if nodePortPool.free == nil {
		nodePortPool.free = rand.Perm(86)
	}
	if len(nodePortPool.free) < n {
		panic("staticNodePorts: the static node port band is used up")
	}
	ports := slices.Clone(nodePortPool.free[:n])
	nodePortPool.free = nodePortPool.free[n:]
	for i := range ports {
		ports[i] += 30000
	}
	return ports
}

var nodePortPool struct {
	sync.Mutex
	free []int
}

// frameworkFlags are set by framework.StartController itself; the chart's values for them are
// in-cluster paths and ports.
var frameworkFlags = []string{"--config-dir", "--runtime-dir", "--http-bind-port", "--https-bind-port", "--controller-port", "--stats-bind-port", "--healthz-bind-port", "--shutdown-delay", "--log", "--kubeconfig", "--namespace-whitelist", "--program"}

// chartArgsForTest keeps the arguments the chart rendered, except those the framework sets.
func chartArgsForTest(args []string) []string {
	var out []string
	for _, a := range args {
		name, _, _ := strings.Cut(a, "=")
		if !slices.Contains(frameworkFlags, name) {
			out = append(out, a)
		}
	}
	return out
}

// TestHelmInstallServesIngresses installs the chart into the real API server and checks the
// objects it creates, then runs the controller with the arguments and ConfigMap the chart
// rendered, authenticated as the chart's ServiceAccount (so that its RBAC is what is tested), and
// checks that an Ingress of the chart's class routes.
func TestHelmInstallServesIngresses(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	ns := framework.NewNamespace(t)
	release := "portcullis-" + ns[len(ns)-5:] // cluster-scoped objects are named after it
	class := ns
	controllerValue := "portcullis.io/ingress-controller/" + ns
	nodePorts := staticNodePorts(4)
	httpNodePort, httpsNodePort, healthzNodePort, tcpNodePort := nodePorts[0], nodePorts[1], nodePorts[2], nodePorts[3]
	config := map[string]string{"timeout-client": "30s", "maxconn": "2000"}
	// A TCP service on a port free on this machine: the controller started below listens there.
	tcpPort := strconv.Itoa(framework.FreePort(t))
	tcpServices := map[string]string{tcpPort: ns + "/db:80"}

	helm.Install(t, release, ns, framework.ChartDir(t, "portcullis"), map[string]any{
		"controller": map[string]any{
			"replicaCount": 1,
			"ingressClass": class,
			"ingressClassResource": map[string]any{
				"controllerValue": controllerValue,
			},
			"config": config,
			"service": map[string]any{
				"nodePorts": map[string]any{"http": httpNodePort, "https": httpsNodePort, "healthz": healthzNodePort},
			},
			"tcpServices":          tcpServices,
			"tcpServicesNodePorts": map[string]any{tcpPort: tcpNodePort},
			"extraArgs":            []string{"--empty-ingress-class"},
		},
	})
	kube := framework.Kube()
	ctx := t.Context()

	// The Deployment: the controller's real flags, non-root, probes on the controller port.
	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Deployment: %v", err)
	}
	if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 1 {
		t.Errorf("Deployment replicas: got %v, want 1", dep.Spec.Replicas)
	}
	pod := dep.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment: got %d containers, want 1", len(pod.Containers))
	}
	ctr := pod.Containers[0]
	wantArgs := []string{
		"--ingress.class=" + class,
		"--controller-name=" + controllerValue,
		"--configmap=" + ns + "/" + release,
		"--http-bind-port=8080",
		"--https-bind-port=8443",
		"--controller-port=6060",
		"--stats-bind-port=1024",
		"--healthz-bind-port=1042",
		// The default grace period of 60 s, less the shutdown delay, less 5 s.
		"--shutdown-delay=10s",
		"--stop-timeout=45s",
		"--tcp-services-configmap=" + ns + "/" + release + "-tcp-services",
		"--config-dir=/etc/portcullis",
		"--runtime-dir=/run/portcullis",
		"--log=info",
		"--publish-service=" + ns + "/" + release,
		"--election-id=" + release + "-leader",
		"--empty-ingress-class",
	}
	for _, a := range wantArgs {
		if !slices.Contains(ctr.Args, a) {
			t.Errorf("controller args %q lack %q", ctr.Args, a)
		}
	}
	for _, a := range ctr.Args {
		if strings.HasPrefix(a, "--default-ssl-certificate") {
			t.Errorf("controller args %q carry %s although defaultTLSSecret is disabled", ctr.Args, a)
		}
	}
	wantPorts := map[string]int32{"http": 8080, "https": 8443, "controller": 6060, "healthz": 1042, "stat": 1024, "tcp-" + tcpPort: int32(mustAtoi(t, tcpPort))}
	gotPorts := map[string]int32{}
	for _, p := range ctr.Ports {
		gotPorts[p.Name] = p.ContainerPort
		if p.Protocol != corev1.ProtocolTCP {
			t.Errorf("container port %s is %s, want TCP", p.Name, p.Protocol)
		}
	}
	if fmt.Sprint(gotPorts) != fmt.Sprint(wantPorts) {
		t.Errorf("container ports: got %v, want %v", gotPorts, wantPorts)
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds != 60 {
		t.Errorf("terminationGracePeriodSeconds: got %v, want 60", pod.TerminationGracePeriodSeconds)
	}
	for _, pr := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", ctr.LivenessProbe, "/healthz"}, {"readiness", ctr.ReadinessProbe, "/readyz"}} {
		if pr.probe == nil || pr.probe.HTTPGet == nil || pr.probe.HTTPGet.Path != pr.path || pr.probe.HTTPGet.Port.String() != "controller" {
			t.Errorf("%s probe: got %+v, want GET %s on port controller", pr.name, pr.probe, pr.path)
		}
	}
	sc := ctr.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser != 1000 ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("container security context: got %+v, want runAsNonRoot, runAsUser 1000, no privilege escalation", sc)
	}
	if ctr.Resources.Requests.Cpu().IsZero() || ctr.Resources.Requests.Memory().IsZero() {
		t.Errorf("container resources: got %+v, want CPU and memory requests", ctr.Resources)
	}

	// The Service: NodePort, with the node ports asked for.
	svc, err := kube.CoreV1().Services(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Service: %v", err)
	}
	if svc.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("Service type: got %s, want NodePort", svc.Spec.Type)
	}
	wantSvc := map[string][2]int32{
		"http":           {80, int32(httpNodePort)},
		"https":          {443, int32(httpsNodePort)},
		"healthz":        {1042, int32(healthzNodePort)},
		"tcp-" + tcpPort: {int32(mustAtoi(t, tcpPort)), int32(tcpNodePort)},
	}
	gotSvc := map[string][2]int32{}
	for _, p := range svc.Spec.Ports {
		gotSvc[p.Name] = [2]int32{p.Port, p.NodePort}
		if p.TargetPort.String() != p.Name {
			t.Errorf("Service port %s targets %s, want the container port of that name", p.Name, p.TargetPort.String())
		}
		if p.Protocol != corev1.ProtocolTCP {
			t.Errorf("Service port %s is %s, want TCP", p.Name, p.Protocol)
		}
	}
	if fmt.Sprint(gotSvc) != fmt.Sprint(wantSvc) {
		t.Errorf("Service ports (port, nodePort): got %v, want %v", gotSvc, wantSvc)
	}

	// The ConfigMap carries controller.config.
	cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the ConfigMap: %v", err)
	}
	if fmt.Sprint(cm.Data) != fmt.Sprint(config) {
		t.Errorf("ConfigMap data: got %v, want %v", cm.Data, config)
	}
	// And the tcp-services ConfigMap carries controller.tcpServices.
	tcm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, release+"-tcp-services", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the tcp-services ConfigMap: %v", err)
	}
	if fmt.Sprint(tcm.Data) != fmt.Sprint(tcpServices) {
		t.Errorf("tcp-services ConfigMap data: got %v, want %v", tcm.Data, tcpServices)
	}

	// The IngressClass names our controller.
	ic, err := kube.NetworkingV1().IngressClasses().Get(ctx, class, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the IngressClass: %v", err)
	}
	if ic.Spec.Controller != controllerValue {
		t.Errorf("IngressClass controller: got %q, want %q", ic.Spec.Controller, controllerValue)
	}
	if ic.Annotations["ingressclass.kubernetes.io/is-default-class"] == "true" {
		t.Errorf("IngressClass is the default class; the chart's default is not to be")
	}

	// ServiceAccount, RBAC with writes only where the controller writes, PDB; no HPA.
	if _, err := kube.CoreV1().ServiceAccounts(ns).Get(ctx, release, metav1.GetOptions{}); err != nil {
		t.Errorf("reading the ServiceAccount: %v", err)
	}
	if pod.ServiceAccountName != release {
		t.Errorf("pod service account: got %q, want %q", pod.ServiceAccountName, release)
	}
	cr, err := kube.RbacV1().ClusterRoles().Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the ClusterRole: %v", err)
	}
	checkLeastPrivilege(t, "ClusterRole", cr.Rules, "ingresses/status", "events", "gatewayclasses/status", "gateways/status", "httproutes/status", "grpcroutes/status", "tlsroutes/status")
	crb, err := kube.RbacV1().ClusterRoleBindings().Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the ClusterRoleBinding: %v", err)
	}
	if crb.RoleRef.Name != release || len(crb.Subjects) != 1 || crb.Subjects[0].Name != release || crb.Subjects[0].Namespace != ns {
		t.Errorf("ClusterRoleBinding: got roleRef %+v, subjects %+v; want %s bound to %s/%s", crb.RoleRef, crb.Subjects, release, ns, release)
	}
	role, err := kube.RbacV1().Roles(ns).Get(ctx, release+"-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Role: %v", err)
	}
	checkLeastPrivilege(t, "Role", role.Rules, "leases")
	if _, err := kube.RbacV1().RoleBindings(ns).Get(ctx, release+"-controller", metav1.GetOptions{}); err != nil {
		t.Errorf("reading the RoleBinding: %v", err)
	}
	checkNoUnusedGrants(t, "ClusterRole", cr.Rules)
	pdb, err := kube.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the PodDisruptionBudget: %v", err)
	}
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget maxUnavailable: got %v, want 1", pdb.Spec.MaxUnavailable)
	}
	if _, err := kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, release, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("HorizontalPodAutoscaler: got error %v, want none created by default", err)
	}

	// The controller, started as the chart would start it, as the chart's ServiceAccount, finds an
	// Ingress of the chart's class and the Service of a TCP service waiting, as a freshly installed
	// release usually does.
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, ns, "web", echo)
	db := framework.StartTCPEcho(t, "db")
	framework.EchoService(t, ns, "db", &db.Echo)
	framework.CreateIngress(t, framework.Ingress(ns, "web", class,
		framework.Rule("helm.example", framework.Prefix("/", "web"))))
	args := append(chartArgsForTest(ctr.Args),
		"--kubeconfig="+framework.ServiceAccountKubeconfig(t, ns, release),
		// In the cluster, POD_NAMESPACE from the downward API puts the Lease here.
		"--election-namespace="+ns)
	c := framework.StartController(t, framework.ControllerOptions{Namespace: ns, ExtraArgs: args})
	framework.ExpectRoute(t, c, "helm.example", "/", http.StatusOK, "web")
	framework.ExpectRoute(t, c, "other.example", "/", http.StatusNotFound, "")
	// The TCP service, from the ConfigMap the chart rendered (which the chart's RBAC lets the
	// controller read): bytes both ways through HAProxy.
	waitTCP(t, net.JoinHostPort("127.0.0.1", tcpPort), "db", 20*time.Second)
	// The load balancer health check (on the framework's port) answers 200 while serving.
	if got := monitorStatus(c.MonitorURL); got != http.StatusOK {
		t.Errorf("the load balancer health check %s answered %d, want 200", c.MonitorURL, got)
	}

	// The readiness probe's path: ready once the first configuration is applied (which completes
	// just after HAProxy starts answering).
	framework.Eventually(t, framework.RouteTimeout, func() error {
		resp, err := framework.TryGetURL(c.ControllerURL+"/readyz", "")
		if err != nil {
			return err
		}
		if resp.Status != http.StatusOK {
			return fmt.Errorf("/readyz answered %d: %s", resp.Status, resp.Body)
		}
		return nil
	})
	// The chart's Role lets the ServiceAccount take the status Lease.
	framework.Eventually(t, framework.RouteTimeout, func() error {
		lease, err := kube.CoordinationV1().Leases(ns).Get(ctx, release+"-leader", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			return fmt.Errorf("lease %s-leader has no holder", release)
		}
		return nil
	})
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkLeastPrivilege fails the test if a rule grants a wildcard, or a write on anything other
// than the named resources.
func checkLeastPrivilege(t *testing.T, what string, rules []rbacv1.PolicyRule, writable ...string) {
	t.Helper()
	if len(rules) == 0 {
		t.Errorf("%s has no rules", what)
	}
	for _, r := range rules {
		for _, list := range [][]string{r.APIGroups, r.Resources, r.Verbs} {
			if slices.Contains(list, "*") {
				t.Errorf("%s rule %+v holds a wildcard", what, r)
			}
		}
		for _, v := range r.Verbs {
			if slices.Contains([]string{"get", "list", "watch"}, v) {
				continue
			}
			for _, res := range r.Resources {
				if !slices.Contains(writable, res) {
					t.Errorf("%s grants %s on %s; only %v may be written", what, v, res, writable)
				}
			}
		}
	}
}

// checkNoUnusedGrants fails the test if a rule grants what the controller never uses: more than
// list and watch on namespaces (the Gateway API reads their labels), events.k8s.io Events (it
// writes core Events), get on what it only lists and watches (it gets Ingresses, Gateway API
// objects whose status update conflicts, and its Lease), patch on a status (it updates them).
func checkNoUnusedGrants(t *testing.T, what string, rules []rbacv1.PolicyRule) {
	t.Helper()
	gets := []string{"ingresses", "leases", "gatewayclasses", "gateways", "httproutes", "grpcroutes", "tlsroutes"}
	for _, r := range rules {
		if slices.Contains(r.APIGroups, "events.k8s.io") {
			t.Errorf("%s rule %+v grants what the controller never reads or writes", what, r)
		}
		if slices.Contains(r.Resources, "namespaces") && slices.ContainsFunc(r.Verbs, func(v string) bool { return v != "list" && v != "watch" }) {
			t.Errorf("%s rule %+v grants more than list and watch on namespaces", what, r)
		}
		if slices.Contains(r.Verbs, "get") && slices.ContainsFunc(r.Resources, func(res string) bool { return !slices.Contains(gets, res) }) {
			t.Errorf("%s rule %+v grants get, which the controller's informers never use", what, r)
		}
		if slices.ContainsFunc(r.Resources, func(res string) bool { return strings.HasSuffix(res, "/status") }) && slices.Contains(r.Verbs, "patch") {
			t.Errorf("%s rule %+v grants patch on a status, which the controller updates", what, r)
		}
	}
}

// TestHelmNamespacedInstall installs the chart watching one namespace other than its own
// (controller.scope.namespaces): a Role there and one in the release namespace, a ClusterRole
// left with IngressClasses and Nodes. The controller, started as the chart's ServiceAccount with
// the arguments the chart rendered, serves an Ingress of the watched namespace, and that account
// reads no Secret, Service or ConfigMap anywhere else.
func TestHelmNamespacedInstall(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	ns := framework.NewNamespace(t)
	apps := framework.NewNamespace(t)
	release := "portcullis-scoped-" + ns[len(ns)-5:] // the full name of the objects
	class := ns
	controllerValue := "portcullis.io/ingress-controller/" + ns
	helm.Install(t, release, ns, framework.ChartDir(t, "portcullis"), map[string]any{
		"controller": map[string]any{
			"replicaCount":         1,
			"ingressClass":         class,
			"ingressClassResource": map[string]any{"controllerValue": controllerValue},
			"scope":                map[string]any{"namespaces": []string{apps}},
		},
	})
	kube := framework.Kube()
	ctx := t.Context()

	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Deployment: %v", err)
	}
	ctr := dep.Spec.Template.Spec.Containers[0]
	if !slices.Contains(ctr.Args, "--namespace-whitelist="+apps) {
		t.Errorf("controller args %q lack --namespace-whitelist=%s", ctr.Args, apps)
	}
	var podIP bool
	for _, e := range ctr.Env {
		podIP = podIP || e.Name == "POD_IP" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "status.podIPs"
	}
	if !podIP {
		t.Errorf("container env %+v: no POD_IP from status.podIPs", ctr.Env)
	}

	// The ClusterRole keeps only what is cluster-scoped: IngressClasses, Nodes, and for the
	// Gateway API the GatewayClasses and the Namespaces' labels.
	cr, err := kube.RbacV1().ClusterRoles().Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the ClusterRole: %v", err)
	}
	for _, r := range cr.Rules {
		for _, res := range r.Resources {
			if !slices.Contains([]string{"ingressclasses", "nodes", "gatewayclasses", "gatewayclasses/status", "namespaces"}, res) {
				t.Errorf("the ClusterRole of a namespaced install grants %v on %s", r.Verbs, res)
			}
		}
	}
	checkLeastPrivilege(t, "ClusterRole", cr.Rules, "gatewayclasses/status")
	watched, err := kube.RbacV1().Roles(apps).Get(ctx, release, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Role of the watched namespace: %v", err)
	}
	checkLeastPrivilege(t, "Role "+apps, watched.Rules, "ingresses/status", "events", "gateways/status", "httproutes/status", "grpcroutes/status", "tlsroutes/status")
	checkNoUnusedGrants(t, "Role "+apps, watched.Rules)
	own, err := kube.RbacV1().Roles(ns).Get(ctx, release+"-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the Role of the release namespace: %v", err)
	}
	checkLeastPrivilege(t, "Role "+ns, own.Rules, "leases", "events")
	checkNoUnusedGrants(t, "Role "+ns, own.Rules)
	if _, err := kube.RbacV1().Roles(ns).Get(ctx, release, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a watch Role in the release namespace, which is not watched: %v", err)
	}

	// What the chart's ServiceAccount may read, asked of the API server.
	saConfig, err := clientcmd.BuildConfigFromFlags("", framework.ServiceAccountKubeconfig(t, ns, release))
	if err != nil {
		t.Fatal(err)
	}
	sa, err := kubernetes.NewForConfig(saConfig)
	if err != nil {
		t.Fatal(err)
	}
	byName := metav1.ListOptions{FieldSelector: "metadata.name=" + release}
	for _, tc := range []struct {
		what    string
		list    func() error
		allowed bool
	}{
		{"Secrets of the watched namespace", func() error { _, err := sa.CoreV1().Secrets(apps).List(ctx, metav1.ListOptions{}); return err }, true},
		{"Secrets of the release namespace", func() error { _, err := sa.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{}); return err }, false},
		{"Secrets of every namespace", func() error { _, err := sa.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); return err }, false},
		{"Services of every namespace", func() error { _, err := sa.CoreV1().Services("").List(ctx, metav1.ListOptions{}); return err }, false},
		{"the controller's ConfigMap, by name", func() error { _, err := sa.CoreV1().ConfigMaps(ns).List(ctx, byName); return err }, true},
		{"every ConfigMap of the release namespace", func() error { _, err := sa.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{}); return err }, false},
		{"the published Service, by name", func() error { _, err := sa.CoreV1().Services(ns).List(ctx, byName); return err }, true},
		{"Namespaces (their labels select Gateway API routes)", func() error { _, err := sa.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); return err }, true},
	} {
		err := tc.list()
		switch {
		case tc.allowed && err != nil:
			t.Errorf("listing %s as the chart's ServiceAccount: %v", tc.what, err)
		case !tc.allowed && !apierrors.IsForbidden(err):
			t.Errorf("listing %s as the chart's ServiceAccount: got %v, want Forbidden", tc.what, err)
		}
	}

	// The controller serves the watched namespace as that ServiceAccount.
	echo := framework.StartEcho(t, "web")
	framework.EchoService(t, apps, "web", echo)
	framework.CreateIngress(t, framework.Ingress(apps, "web", class,
		framework.Rule("scoped.example", framework.Prefix("/", "web"))))
	args := append(chartArgsForTest(ctr.Args),
		"--kubeconfig="+framework.ServiceAccountKubeconfig(t, ns, release),
		"--election-namespace="+ns)
	c := framework.StartController(t, framework.ControllerOptions{Namespace: apps, ExtraArgs: args})
	framework.ExpectRoute(t, c, "scoped.example", "/", http.StatusOK, "web")
	framework.Eventually(t, framework.RouteTimeout, func() error {
		lease, err := kube.CoordinationV1().Leases(ns).Get(ctx, release+"-leader", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			return fmt.Errorf("lease %s-leader has no holder", release)
		}
		return nil
	})
	// A problem becomes an Event in the watched namespace, which the Role lets it write.
	framework.CreateIngress(t, framework.Ingress(apps, "broken", class,
		framework.Rule("broken.example", framework.Prefix("/", "nowhere"))))
	framework.WaitForEvent(t, apps, "Ingress", "broken", "ServiceNotFound")
}

// TestHelmLint runs `helm lint --strict` on the chart: no warning, no error.
func TestHelmLint(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	out := helm.Run(t, "lint", "--strict", framework.ChartDir(t, "portcullis"))
	if strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ERROR]") {
		t.Errorf("helm lint:\n%s", out)
	}
}

// TestHelmTemplateVariants renders the chart with various values, without a cluster: the objects
// that appear or not, and that every argument the chart gives the controller is one of its flags
// (the controller refuses unknown flags).
func TestHelmTemplateVariants(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	chart := framework.ChartDir(t, "portcullis")
	for _, tc := range []struct {
		name     string
		values   map[string]any
		want     []string // Kind/name of objects that must be rendered
		notWant  []string // kinds that must not be rendered
		wantArgs []string
		noArgs   []string // flag names that must not be passed
		// autoscaled Deployments leave replicas to the HPA.
		autoscaled bool
		// wantPorts are the container ports and wantService the Service's ports (port/nodePort,
		// nodePort 0 when the cluster picks it), by name, when not nil.
		wantPorts   map[string]int32
		wantService map[string][2]int32
	}{
		{
			name:    "the defaults",
			values:  map[string]any{},
			want:    []string{"Deployment/rel-portcullis", "Service/rel-portcullis", "ConfigMap/rel-portcullis", "IngressClass/haproxy", "ServiceAccount/rel-portcullis", "ClusterRole/rel-portcullis", "ClusterRoleBinding/rel-portcullis", "Role/rel-portcullis-controller", "RoleBinding/rel-portcullis-controller", "PodDisruptionBudget/rel-portcullis"},
			notWant: []string{"DaemonSet", "HorizontalPodAutoscaler", "ServiceMonitor"},
			wantArgs: []string{"--ingress.class=haproxy", "--controller-name=portcullis.io/ingress-controller",
				"--configmap=ns1/rel-portcullis", "--publish-service=ns1/rel-portcullis", "--election-id=rel-portcullis-leader",
				"--healthz-bind-port=1042", "--shutdown-delay=10s", "--stop-timeout=45s"},
			noArgs:      []string{"--default-ssl-certificate", "--default-backend-service", "--publish-status-address", "--tcp-services-configmap", "--namespace-whitelist", "--host-ownership"},
			wantPorts:   map[string]int32{"http": 8080, "https": 8443, "controller": 6060, "healthz": 1042, "stat": 1024},
			wantService: map[string][2]int32{"http": {80, 0}, "https": {443, 0}, "healthz": {1042, 0}},
		},
		{
			name: "TCP services with node ports and a longer shutdown delay and grace period and the health check moved",
			values: map[string]any{"controller": map[string]any{
				"tcpServices": map[string]any{
					"5432": "db/postgres:5432",
					"2222": "git/gitlab-shell:ssh:PROXY",
					"6379": "cache/redis:6379:PROXY:PROXY",
					"7000": "cache/redis:6379::PROXY",
				},
				"tcpServicesNodePorts":          map[string]any{"5432": 30432, "2222": 30022},
				"shutdownDelay":                 "1m30s",
				"terminationGracePeriodSeconds": 120,
				"containerPort":                 map[string]any{"healthz": 10042},
				"service":                       map[string]any{"nodePorts": map[string]any{"healthz": 31042}},
			}},
			want: []string{"ConfigMap/rel-portcullis-tcp-services"},
			wantArgs: []string{"--tcp-services-configmap=ns1/rel-portcullis-tcp-services", "--healthz-bind-port=10042",
				"--shutdown-delay=90s", "--stop-timeout=25s"},
			wantPorts: map[string]int32{"http": 8080, "https": 8443, "controller": 6060, "healthz": 10042, "stat": 1024,
				"tcp-2222": 2222, "tcp-5432": 5432, "tcp-6379": 6379, "tcp-7000": 7000},
			wantService: map[string][2]int32{"http": {80, 0}, "https": {443, 0}, "healthz": {1042, 31042},
				"tcp-2222": {2222, 30022}, "tcp-5432": {5432, 30432}, "tcp-6379": {6379, 0}, "tcp-7000": {7000, 0}},
		},
		{
			name: "a shutdown delay in seconds with the health check off the Service and a low TCP port the sysctl allows",
			values: map[string]any{"controller": map[string]any{
				"shutdownDelay":      30,
				"tcpServices":        map[string]any{"22": "git/gitlab-shell:22"},
				"service":            map[string]any{"type": "ClusterIP", "enablePorts": map[string]any{"healthz": false}},
				"podSecurityContext": map[string]any{"sysctls": []any{map[string]any{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}}},
			}},
			wantArgs:    []string{"--shutdown-delay=30s", "--stop-timeout=25s", "--tcp-services-configmap=ns1/rel-portcullis-tcp-services"},
			wantService: map[string][2]int32{"http": {80, 0}, "https": {443, 0}, "tcp-22": {22, 0}},
		},
		{
			name: "a DaemonSet on host ports behind a LoadBalancer, monitored, with a default certificate",
			values: map[string]any{"controller": map[string]any{
				"kind":             "DaemonSet",
				"daemonset":        map[string]any{"useHostPort": true},
				"service":          map[string]any{"type": "LoadBalancer", "externalTrafficPolicy": "Local"},
				"serviceMonitor":   map[string]any{"enabled": true},
				"autoscaling":      map[string]any{"enabled": true},
				"defaultTLSSecret": map[string]any{"enabled": true, "secret": "wildcard-tls", "secretNamespace": "certs"},
				"logging":          map[string]any{"level": "debug", "format": "json"},
			}},
			want:     []string{"DaemonSet/rel-portcullis", "ServiceMonitor/rel-portcullis", "Service/rel-portcullis-metrics", "PodDisruptionBudget/rel-portcullis"},
			notWant:  []string{"Deployment", "HorizontalPodAutoscaler"},
			wantArgs: []string{"--default-ssl-certificate=certs/wildcard-tls", "--log=debug", "--log-format=json"},
		},
		{
			name: "an autoscaled Deployment without IngressClass, publishing fixed addresses",
			values: map[string]any{"controller": map[string]any{
				"autoscaling":           map[string]any{"enabled": true},
				"ingressClassResource":  map[string]any{"enabled": false},
				"publishService":        map[string]any{"addresses": []string{"lb.example.com", "192.0.2.10"}},
				"defaultBackendService": "web/fallback",
			}},
			want:       []string{"Deployment/rel-portcullis", "HorizontalPodAutoscaler/rel-portcullis"},
			notWant:    []string{"IngressClass"},
			wantArgs:   []string{"--publish-status-address=lb.example.com,192.0.2.10", "--default-backend-service=web/fallback"},
			noArgs:     []string{"--publish-service"},
			autoscaled: true,
		},
		{
			name: "namespaced with host ownership publishing a Service of another namespace",
			values: map[string]any{"controller": map[string]any{
				"scope":                 map[string]any{"namespaces": []string{"apps", "web", "apps"}},
				"hostOwnership":         true,
				"publishService":        map[string]any{"pathOverride": "edge/lb"},
				"defaultBackendService": "web/fallback",
			}},
			want: []string{"ClusterRole/rel-portcullis", "Role/rel-portcullis", "RoleBinding/rel-portcullis", "Role/rel-portcullis-controller",
				"Role/rel-portcullis-publish", "RoleBinding/rel-portcullis-publish"},
			wantArgs: []string{"--namespace-whitelist=apps,web", "--host-ownership", "--publish-service=edge/lb"},
		},
		{
			name: "a default certificate enabled without a Secret: the controller's self-signed one",
			values: map[string]any{"controller": map[string]any{
				"defaultTLSSecret": map[string]any{"enabled": true},
			}},
			want:   []string{"Deployment/rel-portcullis"},
			noArgs: []string{"--default-ssl-certificate"},
		},
		{
			name: "status publishing off",
			values: map[string]any{"controller": map[string]any{
				"publishService": map[string]any{"enabled": false},
			}},
			want:     []string{"Deployment/rel-portcullis"},
			wantArgs: []string{"--election-id=rel-portcullis-leader"}, // Gateway API status
			noArgs:   []string{"--publish-service", "--publish-status-address"},
		},
		{
			name: "status publishing and Gateway API off",
			values: map[string]any{"controller": map[string]any{
				"publishService": map[string]any{"enabled": false},
			}, "gatewayAPI": map[string]any{"controllerName": ""}},
			want:     []string{"Deployment/rel-portcullis"},
			notWant:  []string{"CustomResourceDefinition/httproutes.gateway.networking.k8s.io"},
			wantArgs: []string{"--gateway-controller-name="},
			noArgs:   []string{"--publish-service", "--publish-status-address", "--election-id", "--gateway-address-pool"},
		},
		{
			name:   "Gateway API with an address pool and the CRDs",
			values: map[string]any{"gatewayAPI": map[string]any{"addressPool": "192.0.2.0/28", "installCRDs": true}},
			want: []string{"CustomResourceDefinition/gatewayclasses.gateway.networking.k8s.io", "CustomResourceDefinition/gateways.gateway.networking.k8s.io",
				"CustomResourceDefinition/httproutes.gateway.networking.k8s.io", "CustomResourceDefinition/referencegrants.gateway.networking.k8s.io"},
			wantArgs: []string{"--gateway-controller-name=portcullis.io/gateway-controller", "--gateway-address-pool=192.0.2.0/28"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := helm.Template(t, "rel", "ns1", chart, tc.values)
			kinds := map[string]bool{}
			var args []string
			var ports []corev1.ContainerPort
			var svcPorts []corev1.ServicePort
			for _, o := range objs {
				kinds[o.GetKind()] = true
				kinds[o.GetKind()+"/"+o.GetName()] = true
				switch o.GetKind() {
				case "Deployment":
					var d appsv1.Deployment
					framework.FromUnstructured(t, o, &d)
					args, ports = d.Spec.Template.Spec.Containers[0].Args, d.Spec.Template.Spec.Containers[0].Ports
					if tc.autoscaled != (d.Spec.Replicas == nil) {
						t.Errorf("Deployment replicas: got %v, want them set unless autoscaled (%v)", d.Spec.Replicas, tc.autoscaled)
					}
				case "DaemonSet":
					var d appsv1.DaemonSet
					framework.FromUnstructured(t, o, &d)
					args, ports = d.Spec.Template.Spec.Containers[0].Args, d.Spec.Template.Spec.Containers[0].Ports
				case "Service":
					if o.GetName() == "rel-portcullis" {
						var s corev1.Service
						framework.FromUnstructured(t, o, &s)
						svcPorts = s.Spec.Ports
					}
				}
			}
			if tc.wantPorts != nil {
				got := map[string]int32{}
				for _, p := range ports {
					got[p.Name] = p.ContainerPort
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.wantPorts) {
					t.Errorf("container ports: got %v, want %v", got, tc.wantPorts)
				}
			}
			if tc.wantService != nil {
				got := map[string][2]int32{}
				for _, p := range svcPorts {
					got[p.Name] = [2]int32{p.Port, p.NodePort}
					if p.TargetPort.String() != p.Name {
						t.Errorf("Service port %s targets %s, want the container port of that name", p.Name, p.TargetPort.String())
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(tc.wantService) {
					t.Errorf("Service ports (port, nodePort): got %v, want %v", got, tc.wantService)
				}
			}
			for _, w := range tc.want {
				if !kinds[w] {
					t.Errorf("no %s rendered", w)
				}
			}
			for _, nw := range tc.notWant {
				if kinds[nw] {
					t.Errorf("a %s was rendered", nw)
				}
			}
			for _, a := range tc.wantArgs {
				if !slices.Contains(args, a) {
					t.Errorf("controller args %q lack %q", args, a)
				}
			}
			for _, a := range args {
				name, _, _ := strings.Cut(a, "=")
				if slices.Contains(tc.noArgs, name) {
					t.Errorf("controller args %q carry %s", args, a)
				}
			}
			checkControllerAcceptsArgs(t, args)
		})
	}
}

// checkControllerAcceptsArgs runs the controller binary with args and an unreadable kubeconfig:
// it must get past flag parsing and validation and stop at loading the kubeconfig.
func checkControllerAcceptsArgs(t *testing.T, args []string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), framework.ControllerBin(),
		append(slices.Clone(args), "--program="+framework.HAProxyBin(), "--kubeconfig=/nonexistent/kubeconfig")...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil || !strings.Contains(out.String(), "loading Kubernetes client configuration") {
		t.Errorf("controller %q: got %v and output %q; want it to accept the flags and fail on the kubeconfig", args, err, out.String())
	}
}

// TestHelmRejectsBadValues checks that values the controller could not run with fail at
// install time, not in a crash-looping pod.
func TestHelmRejectsBadValues(t *testing.T) {
	t.Parallel()
	helm := framework.NewHelm(t)
	chart := framework.ChartDir(t, "portcullis")
	for _, tc := range []struct {
		name       string
		controller map[string]any
		want       string
	}{
		{"an unknown kind", map[string]any{"kind": "StatefulSet"}, "kind"},
		{"an unknown Service type", map[string]any{"service": map[string]any{"type": "ExternalName"}}, "type"},
		{"an extra argument that is not a flag", map[string]any{"extraArgs": []string{"verbose"}}, "extraArgs"},
		{"an unknown log level", map[string]any{"logging": map[string]any{"level": "loud"}}, "level"},
		{"an unknown key", map[string]any{"replicas": 2}, "'replicas' not allowed"},
		{"an unknown nested key", map[string]any{"service": map[string]any{"nodeport": map[string]any{"http": 30080}}}, "'nodeport' not allowed"},
		{"a flag the controller does not have", map[string]any{"extraArgs": []string{"--ingress-class=web"}}, "--ingress-class: the controller has no such flag"},
		{"a flag of haproxytech's controller only", map[string]any{"extraArgs": []string{"--disable-http"}}, "--disable-http: a flag of haproxytech's controller only"},
		{"a Service target port that names no container port", map[string]any{"service": map[string]any{"targetPorts": map[string]any{"http": "web"}}}, `targetPorts.http "web" names no container port`},
		{"a tcpPorts entry nothing listens on", map[string]any{"service": map[string]any{"tcpPorts": []any{map[string]any{"name": "pg", "port": 5432, "targetPort": 15432}}}}, "tcpPorts[0] (pg): nothing listens on targetPort 15432"},
		{"a tcpPorts target on a privileged port", map[string]any{"tcpServices": map[string]any{"22": "git/ssh:22"},
			"service": map[string]any{"tcpPorts": []any{map[string]any{"name": "ssh", "port": 22, "targetPort": 22}}}}, "unprivileged"},
		{"a node port out of range", map[string]any{"service": map[string]any{"nodePorts": map[string]any{"http": 70000}}}, "nodePorts"},
		{"a shutdown delay that leaves no stop timeout", map[string]any{"terminationGracePeriodSeconds": 15, "shutdownDelay": "10s"}, "terminationGracePeriodSeconds"},
		{"a shutdown delay that is not whole seconds", map[string]any{"shutdownDelay": "1.5s"}, "shutdownDelay"},
		{"a TCP service on the controller port", map[string]any{"tcpServices": map[string]any{"6060": "db/postgres:5432"}}, "containerPort.controller"},
		{"a TCP service on the health check port", map[string]any{"tcpServices": map[string]any{"1042": "db/postgres:5432"}}, "containerPort.healthz"},
		{"a TCP service on a privileged port", map[string]any{"tcpServices": map[string]any{"22": "git/ssh:22"}}, "unprivileged"},
		{"a TCP service port out of range", map[string]any{"tcpServices": map[string]any{"70000": "db/postgres:5432"}}, "tcpServices"},
		{"a TCP service without a namespace", map[string]any{"tcpServices": map[string]any{"5432": "postgres:5432"}}, "tcpServices"},
		{"a TCP service with haproxytech's :ssl", map[string]any{"tcpServices": map[string]any{"5432": "db/postgres:5432:ssl"}}, "tcpServices"},
		{"a TCP node port without its service", map[string]any{"tcpServicesNodePorts": map[string]any{"5432": 30432}}, "tcpServicesNodePorts"},
		{"a watched namespace that is no namespace name", map[string]any{"scope": map[string]any{"namespaces": []string{"Apps"}}}, "namespaces"},
		{"a default backend outside the watched namespaces", map[string]any{"scope": map[string]any{"namespaces": []string{"apps"}},
			"defaultBackendService": "web/fallback"}, "scope.namespaces"},
		{"a default certificate outside the watched namespaces", map[string]any{"scope": map[string]any{"namespaces": []string{"apps"}},
			"defaultTLSSecret": map[string]any{"enabled": true, "secret": "wildcard"}}, "scope.namespaces"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := helm.TryTemplate(t, "rel", "ns1", chart, map[string]any{"controller": tc.controller})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template: got %v, want an error mentioning %q", err, tc.want)
			}
		})
	}
}
