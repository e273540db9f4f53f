package framework

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// current is the control plane of this test binary, set by Main around m.Run.
var current *controlPlane

// controlPlane is one etcd and one kube-apiserver on loopback, with an admin client.
type controlPlane struct {
	dir            string // temporary directory: data, certificates, logs, kubeconfig
	tools          tools
	etcd           *process
	apiserver      *process
	kubeconfigPath string
	restConfig     *rest.Config
	kube           kubernetes.Interface
	gateway        gatewayclient.Interface
}

// Kube returns an admin client for the test cluster.
func Kube() kubernetes.Interface { return cluster().kube }

// RESTConfig returns a copy of the admin client configuration for the test cluster.
func RESTConfig() *rest.Config { return rest.CopyConfig(cluster().restConfig) }

// KubeconfigPath returns the path of an admin kubeconfig file for the test cluster.
func KubeconfigPath() string { return cluster().kubeconfigPath }

// ControllerBin returns the controller binary under test, or "" when ./cmd/controller holds no Go
// files yet.
func ControllerBin() string { return cluster().tools.controller }

// HAProxyBin returns the haproxy binary the controller is told to run.
func HAProxyBin() string { return cluster().tools.haproxy }

func cluster() *controlPlane {
	if current == nil {
		panic("e2e framework: no control plane; call framework.Main(m) from TestMain")
	}
	return current
}

// startControlPlane starts etcd and kube-apiserver in a fresh temporary directory, waits until
// the apiserver is ready and installs the standard-channel Gateway API CRDs. On error it stops whatever it started and includes the log tails.
func startControlPlane(t tools) (cp *controlPlane, err error) {
	dir, err := os.MkdirTemp("", "portcullis-e2e-")
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	cp = &controlPlane{dir: dir, tools: t}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w%s", err, cp.logTails())
			if !keep() {
				err = fmt.Errorf("%w\n(set %s=1 to keep %s)", err, envKeep, cp.dir)
			}
			cp.stop()
		}
	}()

	ports, err := freePorts(3)
	if err != nil {
		return cp, fmt.Errorf("starting the control plane: %w", err)
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	if cp.etcd, err = startEtcd(t.etcd, dir, etcdURL, "http://127.0.0.1:"+strconv.Itoa(ports[1])); err != nil {
		return cp, err
	}
	token, err := writeAuthFiles(dir)
	if err != nil {
		return cp, fmt.Errorf("starting kube-apiserver: %w", err)
	}
	apiserverURL := "https://127.0.0.1:" + strconv.Itoa(ports[2])
	if cp.apiserver, err = startAPIServer(t.apiserver, dir, etcdURL, ports[2]); err != nil {
		return cp, err
	}
	if err := cp.waitReady(apiserverURL, token, time.Minute); err != nil {
		return cp, err
	}
	if err := cp.connect(apiserverURL, token); err != nil {
		return cp, err
	}
	if err := cp.installGatewayAPI(); err != nil {
		return cp, err
	}
	return cp, nil
}

// startEtcd starts a single-member etcd on loopback with a fresh data directory.
func startEtcd(bin, dir, clientURL, peerURL string) (*process, error) {
	args := []string{
		"--name=e2e",
		"--data-dir=" + filepath.Join(dir, "etcd-data"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=e2e=" + peerURL,
		"--unsafe-no-fsync",
		"--log-level=warn",
	}
	// etcd reads every ETCD_* environment variable as a flag.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			env = append(env, kv)
		}
	}
	return startProcess("etcd", bin, args, env, filepath.Join(dir, "etcd.log"))
}

// writeAuthFiles writes the token file (one admin token in system:masters) and the
// service-account signing key, and returns the admin token.
func writeAuthFiles(dir string) (token string, err error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("generating the admin token: %w", err)
	}
	token = hex.EncodeToString(raw)
	tokens := fmt.Sprintf("%s,e2e-admin,e2e-admin,\"system:masters\"\n", token)
	if err := os.WriteFile(filepath.Join(dir, "tokens.csv"), []byte(tokens), 0o600); err != nil {
		return "", fmt.Errorf("writing the token file: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("generating the service-account key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(filepath.Join(dir, "sa.key"), keyPEM, 0o600); err != nil {
		return "", fmt.Errorf("writing the service-account key: %w", err)
	}
	return token, nil
}

// startAPIServer starts kube-apiserver on 127.0.0.1:port. It generates its own serving certificate
// into <dir>/pki.
func startAPIServer(bin, dir, etcdURL string, port int) (*process, error) {
	saKey := filepath.Join(dir, "sa.key")
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + filepath.Join(dir, "pki"),
		"--token-auth-file=" + filepath.Join(dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + saKey,
		"--service-account-signing-key-file=" + saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--endpoint-reconciler-type=none",
		"--disable-admission-plugins=ServiceAccount",
		"--profiling=false",
	}
	return startProcess("kube-apiserver", bin, args, nil, filepath.Join(dir, "kube-apiserver.log"))
}

// waitReady polls /readyz until it answers 200, a process exits or the timeout passes. The serving
// certificate does not exist before the apiserver starts, so this probe skips verification; connect
// then verifies it.
func (cp *controlPlane) waitReady(url, token string, timeout time.Duration) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // G402: no certificate to trust yet; connect verifies
		},
	}
	defer client.CloseIdleConnections()
	lastErr := errors.New("not polled yet")
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, p := range []*process{cp.etcd, cp.apiserver} {
			if p.exited() {
				return fmt.Errorf("waiting for kube-apiserver: %w", p.exitError())
			}
		}
		req, err := http.NewRequest(http.MethodGet, url+"/readyz", nil)
		if err != nil {
			return fmt.Errorf("waiting for kube-apiserver: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		lastErr = fmt.Errorf("/readyz answered %s", resp.Status)
	}
	return fmt.Errorf("waiting for kube-apiserver: not ready after %s: %w", timeout, lastErr)
}

// connect writes the admin kubeconfig, trusting the apiserver's self-generated certificate, and
// builds the admin client from that file.
func (cp *controlPlane) connect(url, token string) error {
	caData, err := os.ReadFile(filepath.Join(cp.dir, "pki", "apiserver.crt"))
	if err != nil {
		return fmt.Errorf("reading the apiserver certificate: %w", err)
	}
	config := clientcmdapi.NewConfig()
	config.Clusters["e2e"] = &clientcmdapi.Cluster{Server: url, CertificateAuthorityData: caData}
	config.AuthInfos["e2e-admin"] = &clientcmdapi.AuthInfo{Token: token}
	config.Contexts["e2e"] = &clientcmdapi.Context{Cluster: "e2e", AuthInfo: "e2e-admin"}
	config.CurrentContext = "e2e"
	cp.kubeconfigPath = filepath.Join(cp.dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*config, cp.kubeconfigPath); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", cp.kubeconfigPath)
	if err != nil {
		return fmt.Errorf("loading the kubeconfig: %w", err)
	}
	restConfig.QPS, restConfig.Burst = 200, 400
	kube, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return fmt.Errorf("creating the admin client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		return fmt.Errorf("checking the admin client: %w", err)
	}
	cp.restConfig, cp.kube = restConfig, kube
	return nil
}

// stop stops the apiserver, then etcd, and removes the temporary directory unless asked to keep it.
func (cp *controlPlane) stop() {
	for _, p := range []*process{cp.apiserver, cp.etcd} {
		if p != nil {
			p.stop(5 * time.Second)
		}
	}
	if keep() {
		fmt.Fprintf(os.Stderr, "e2e framework: kept %s\n", cp.dir)
		return
	}
	if err := os.RemoveAll(cp.dir); err != nil {
		fmt.Fprintf(os.Stderr, "e2e framework: removing the control plane's directory: %v\n", err)
	}
}

// logTails formats the end of the etcd and apiserver logs, for startup errors.
func (cp *controlPlane) logTails() string {
	var b strings.Builder
	for _, p := range []*process{cp.etcd, cp.apiserver} {
		if p != nil {
			fmt.Fprintf(&b, "\n--- last lines of %s (%s) ---\n%s", p.name, p.logPath, p.tailLog(8<<10))
		}
	}
	return b.String()
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close() //nolint:gocritic // deferInLoop: held until all are chosen, so that they differ
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
