package framework

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// LocalCluster is a private etcd and kube-apiserver on loopback for use outside tests, as by
// `make run`. Its processes die with the program that started them.
type LocalCluster struct {
	cp *controlPlane
}

// StartLocalCluster finds the binaries built by e2e/tools/install-deps.sh and starts a control
// plane in a temporary directory.
func StartLocalCluster() (*LocalCluster, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	t, err := findTools(root)
	if err != nil {
		return nil, fmt.Errorf("%w\nrun e2e/tools/install-deps.sh", err)
	}
	cp, err := startControlPlane(t)
	if err != nil {
		return nil, err
	}
	return &LocalCluster{cp: cp}, nil
}

// KubeconfigPath is an admin kubeconfig for the cluster.
func (l *LocalCluster) KubeconfigPath() string { return l.cp.kubeconfigPath }

// Kube is an admin client for the cluster.
func (l *LocalCluster) Kube() kubernetes.Interface { return l.cp.kube }

// Gateway is an admin client of the cluster's Gateway API (its CRDs are installed at start).
func (l *LocalCluster) Gateway() gatewayclient.Interface { return l.cp.gateway }

// HAProxyBin is the haproxy binary found on PATH.
func (l *LocalCluster) HAProxyBin() string { return l.cp.tools.haproxy }

// Stop stops the apiserver and etcd and removes their directory.
func (l *LocalCluster) Stop() { l.cp.stop() }
