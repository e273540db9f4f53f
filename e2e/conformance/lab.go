// Package conformance runs the upstream Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance) against the real controller binary and a real haproxy,
// on a machine without a kubelet.
//
// The lab (StartLab) completes the e2e framework's control plane (etcd and kube-apiserver in a
// private network namespace, with the standard-channel Gateway API CRDs) with what the suite
// expects of a cluster:
//
//   - kube-controller-manager for Deployments, ReplicaSets, EndpointSlices, namespace deletion and
//     garbage collection;
//   - one Node simulated by kwok, which gives each Pod bound to it a Pod IP from the Node's
//     podCIDR;
//   - a runner (runner.go) in place of the scheduler and the kubelet: it binds Pods to the Node,
//     gives each Pod its own network namespace with a veth on a bridge, starts the suite's own
//     echo server (echo-basic, built from the suite's source) at the Pod IP, sets the Pod Ready
//     once the server answers, and removes deleted Pods once their processes are gone.
//
// Gateways get their own addresses from GatewayAddressPool, which the framework routes to the
// loopback device of the network namespace: haproxy can bind any of them and the suite's client
// reaches them.
package conformance

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// The lab's addresses. The Pod network must not overlap the framework's locally routed range
// (198.18.0.0/16), whose local route would swallow Pod traffic.
const (
	// GatewayAddressPool is what the controller is given as --gateway-address-pool: part of the
	// range the framework routes to the loopback device, so that every address in it is local.
	GatewayAddressPool = "198.18.240.0/24"
	// BridgeName is the bridge every Pod's veth is attached to.
	BridgeName = "pcbr0"
	// BridgeCIDR is the bridge's address (the Pods' default gateway) and the prefix of the Pod
	// network.
	BridgeCIDR = "10.66.0.1/16"
	// PodCIDR is the Node's podCIDR, from which kwok allocates Pod IPs; it excludes the bridge's
	// own address.
	PodCIDR = "10.66.64.0/18"
	// NodeName is the simulated Node.
	NodeName = "portcullis-lab-node"
)

// kwokStages are the stages kwok runs (see the file's header).
//
//go:embed stages.yaml
var kwokStages []byte

// Lab is the running cluster around the control plane: CRDs, kube-controller-manager, kwok and the
// Pod runner.
type Lab struct {
	Runner *Runner
	dir    string
}

// StartLab brings the lab up and registers its teardown, which checks that no Pod process, network
// namespace or veth is left.
func StartLab(t *testing.T) *Lab {
	t.Helper()
	start := time.Now()
	lab := &Lab{dir: framework.TempDir(t, "conformance-lab")}
	setupBridge(t)
	createNode(t)
	// Registered before the daemons start, so it runs after they stop.
	t.Cleanup(func() { deleteNodePods(t) })

	kubeconfig := framework.KubeconfigPath()
	kcm := framework.StartDaemon(t, "kube-controller-manager", framework.Tool(t, "kube-controller-manager"),
		"--kubeconfig="+kubeconfig,
		"--controllers=deployment-controller,replicaset-controller,endpointslice-controller,"+
			"endpointslice-mirroring-controller,namespace-controller,garbage-collector-controller",
		"--leader-elect=false",
		"--secure-port=0",
		"--kube-api-qps=200", "--kube-api-burst=400",
		"--concurrent-deployment-syncs=20", "--concurrent-replicaset-syncs=20",
		"--concurrent-service-endpoint-syncs=20",
		// An EndpointSlice update per Pod change, at once: the default batches them for a second.
		"--endpointslice-updates-batch-period=0s",
	)
	stagesPath := filepath.Join(lab.dir, "kwok-stages.yaml")
	if err := os.WriteFile(stagesPath, kwokStages, 0o600); err != nil {
		t.Fatalf("writing the kwok stages: %v", err)
	}
	bridgeIP, _, _ := strings.Cut(BridgeCIDR, "/")
	kwok := framework.StartDaemon(t, "kwok", framework.Tool(t, "kwok"),
		"--kubeconfig="+kubeconfig,
		"--config="+stagesPath,
		"--manage-single-node="+NodeName,
		"--node-ip="+bridgeIP,
		"--cidr="+PodCIDR,
	)

	echoBin := framework.Tool(t, echoBasicTool(t))
	lab.Runner = StartRunner(t, RunnerConfig{
		Kube:    framework.Kube(),
		Node:    NodeName,
		EchoBin: echoBin,
		Dir:     filepath.Join(lab.dir, "pods"),
		Bridge:  BridgeName,
		Gateway: bridgeIP,
		Prefix:  prefixLen(t, BridgeCIDR),
		Daemons: []*framework.Daemon{kcm, kwok},
		LogPath: filepath.Join(lab.dir, "runner.log"),
	})
	t.Logf("lab up in %s (state in %s)", time.Since(start).Round(time.Millisecond), lab.dir)
	return lab
}

// echoBasicTool is the path of echo-basic under $PORTCULLIS_BIN: install-deps.sh builds it from
// the version of the conformance module that go.mod requires, which is the version compiled into
// this test binary.
func echoBasicTool(t *testing.T) string {
	t.Helper()
	version, err := moduleVersion("sigs.k8s.io/gateway-api/conformance")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join("echo-basic-"+version, "echo-basic")
}

func prefixLen(t *testing.T, cidr string) int {
	t.Helper()
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatalf("parsing %s: %v", cidr, err)
	}
	ones, _ := n.Mask.Size()
	return ones
}

// ip runs the ip command with args and returns an error with its output.
func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// setupBridge creates the Pod bridge with the Pods' gateway address, and deletes it at cleanup.
func setupBridge(t *testing.T) {
	t.Helper()
	for _, args := range [][]string{
		{"link", "add", BridgeName, "type", "bridge"},
		{"addr", "add", BridgeCIDR, "dev", BridgeName},
		{"link", "set", BridgeName, "up"},
	} {
		if err := ip(args...); err != nil {
			t.Fatalf("creating the Pod bridge: %v", err)
		}
	}
	t.Cleanup(func() {
		if err := ip("link", "del", BridgeName); err != nil {
			t.Errorf("deleting the Pod bridge: %v", err)
		}
	})
}

// createNode creates the Node kwok simulates; the runner binds every Pod to it.
func createNode(t *testing.T) {
	t.Helper()
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels:      map[string]string{"kubernetes.io/hostname": NodeName, "type": "kwok"},
		},
		Spec: corev1.NodeSpec{PodCIDR: PodCIDR, PodCIDRs: []string{PodCIDR}},
	}
	_, err := framework.Kube().CoreV1().Nodes().Create(t.Context(), node, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the Node: %v", err)
	}
}

// deleteNodePods deletes, at once, the Pods left on the Node when the lab stops (those of the
// base manifests the suite keeps, for one): their addresses were given by this lab's kwok, and the
// next lab's kwok would give them again. Their controllers recreate them in the next lab.
func deleteNodePods(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := framework.Kube().CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + NodeName})
	if err != nil {
		t.Errorf("listing the lab's Pods: %v", err)
		return
	}
	zero := int64(0)
	for _, p := range pods.Items {
		err := framework.Kube().CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting pod %s/%s: %v", p.Namespace, p.Name, err)
		}
	}
}

// moduleVersion returns the version of a module of the build list (test binaries carry no
// dependency information of their own).
func moduleVersion(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Version}}", path)
	// Inside the network namespace nothing can be downloaded: go.mod and the module cache suffice.
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			err = fmt.Errorf("%w: %s", err, exitErr.Stderr)
		}
		return "", fmt.Errorf("go list -m %s: %w", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}
