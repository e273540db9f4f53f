package process

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"

	"github.com/portcullis-ingress/portcullis/pkg/haproxy"
	"github.com/portcullis-ingress/portcullis/pkg/haproxy/haproxytest"
)

// TestMasterAgainstRealHAProxy drives a real haproxy through Master the way the controller does:
// start, runtime updates right away (server moves, a map swapped with prepare/commit, a
// certificate added to a crt-list), a good reload, a reload that haproxy refuses although
// `haproxy -c` passed it, and a stop. It runs on whatever haproxy the tests are given, so that
// `make test` covers each supported version's answers (see haproxytest.EnvBinary).
func TestMasterAgainstRealHAProxy(t *testing.T) {
	bin := haproxytest.Binary(t)
	// Unix socket paths are limited to about 100 bytes: keep the directory short.
	dir, err := os.MkdirTemp("", "pc-master-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	runDir := filepath.Join(dir, "run")
	m := New(Options{Program: bin, ConfigDir: filepath.Join(dir, "cfg"), RuntimeDir: runDir, StopTimeout: 5 * time.Second}, logr.Discard())
	t.Cleanup(m.Stop)
	ctx := t.Context()

	certA, certB := selfSigned(t, "a.example"), selfSigned(t, "b.example")
	https := filepath.Join(runDir, "https.sock")
	config := func(extra string) string {
		return fmt.Sprintf(`global
  stats socket %s mode 600 level admin
  stats timeout 2m

defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s

frontend https
  bind unix@%s ssl crt-list certs/https.crt-list
  http-request set-var(txn.host) req.hdr(host),map_str(maps/hosts.map)
  http-request return status 200 content-type text/plain lf-string "%%[var(txn.host)]"

backend be
  server s1 127.0.0.1:1 disabled
%s`, m.runtime.Socket, https, extra)
	}
	// A large map makes HAProxy 3.1 and later take a moment to load the configuration in the
	// new worker, which they list in `show proc` before it is up: start must wait for the stats
	// socket, and a reload soon after must be asked again.
	var hosts strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&hosts, "host%d.example h%d\n", i, i)
	}
	hosts.WriteString("a.example one\n")
	files := func(cfg string) haproxy.Files {
		return haproxy.Files{
			haproxy.ConfigFile:         []byte(cfg),
			"maps/hosts.map":           []byte(hosts.String()),
			"certs/https.crt-list":     []byte("certs/a.pem [alpn h2,http/1.1] a.example\n"),
			haproxy.CertDir + "/a.pem": certA,
		}
	}

	started, err := m.Reload(ctx, files(config("")))
	if err != nil || !started {
		t.Fatalf("first Reload: started %v, %v; want a start", started, err)
	}
	if !m.Running() {
		t.Fatal("haproxy is not running after a start")
	}

	// Right after the start: the runtime API must answer.
	err = m.Update(ctx, haproxy.Plan{
		Commands: []string{"set server be/s1 addr 127.0.0.2 port 8080", "set server be/s1 state ready", "set weight be/s1 3"},
		MapFiles: []string{"maps/hosts.map"},
		Maps:     map[string][]byte{"maps/hosts.map": []byte("a.example two\nb.example three\n")},
		CertCommands: []haproxy.Command{
			{Line: "new ssl cert certs/b.pem"},
			{Line: "set ssl cert certs/b.pem", Payload: string(certB)},
			{Line: "commit ssl cert certs/b.pem"},
			{Line: "add ssl crt-list certs/https.crt-list", Payload: "certs/b.pem [alpn h2,http/1.1] b.example\n"},
		},
	})
	if err != nil {
		t.Fatalf("Update right after start: %v", err)
	}
	servers, err := m.runtime.Query(ctx, "show servers state be")
	if err != nil || !strings.Contains(servers, " s1 127.0.0.2 ") {
		t.Errorf("show servers state after Update: %v\n%s", err, servers)
	}
	for host, want := range map[string]string{"a.example": "two", "b.example": "three", "host7.example": ""} {
		if got, _ := get(t, https, host); got != want {
			t.Errorf("GET https://%s/ after Update = %q, want %q (the map replaced at runtime)", host, got, want)
		}
	}
	if _, served := get(t, https, "b.example"); served != "b.example" {
		t.Errorf("the certificate served for b.example after Update is %q's, want its own (added at runtime)", served)
	}
	if err := m.Update(ctx, haproxy.Plan{Commands: []string{"set server be/nope state ready"}}); err == nil {
		t.Error("Update with a server that does not exist: no error")
	}

	// A good reload soon after the start.
	before := procStateOf(t, m)
	if started, err := m.Reload(ctx, files(config("\nbackend be2\n  server s1 127.0.0.1:1 disabled\n"))); err != nil || started {
		t.Fatalf("Reload with a good configuration: started %v, %v", started, err)
	}
	after := procStateOf(t, m)
	if after.reloads != before.reloads+1 || after.failed != 0 || len(after.workers) != 1 {
		t.Errorf("after a good reload: %v, before it %v", after, before)
	}
	if got, _ := get(t, https, "a.example"); got != "one" {
		t.Errorf("GET https://a.example/ after the reload = %q, want %q (the map file)", got, "one")
	}

	// A configuration that `haproxy -c` passes but that cannot load: its port is taken.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	refused := config(fmt.Sprintf("\nfrontend taken\n  bind %s\n  default_backend be\n", taken.Addr()))
	_, err = m.Reload(ctx, files(refused))
	if err == nil || errors.Is(err, haproxy.ErrInvalid) || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("Reload with a port that is taken: %v, want a rejected reload", err)
	}
	if got, _ := get(t, https, "a.example"); got != "one" {
		t.Errorf("GET https://a.example/ after a refused reload = %q, want %q from the previous configuration", got, "one")
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "cfg", haproxy.ConfigFile))
	if err != nil || strings.Contains(string(cfg), "frontend taken") {
		t.Errorf("the refused configuration was left installed (%v)", err)
	}

	// The next good reload is taken.
	if _, err := m.Reload(ctx, files(config(""))); err != nil {
		t.Fatalf("Reload after a refused one: %v", err)
	}
	if st := procStateOf(t, m); st.failed != 0 || len(st.workers) != 1 {
		t.Errorf("after a good reload following a refused one: %v", st)
	}

	m.Stop()
	if m.Running() {
		t.Error("haproxy still runs after Stop")
	}
}

// procStateOf reads m's `show proc`.
func procStateOf(t *testing.T, m *Master) procState {
	t.Helper()
	st, err := m.cli.showProc(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// get sends GET / with host as SNI and Host header over TLS on a unix socket and returns the
// body and the subject of the certificate served.
func get(t *testing.T, socket, host string) (body, served string) {
	t.Helper()
	conn, err := tls.Dial("unix", socket, &tls.Config{ServerName: host, InsecureSkipVerify: true}) //nolint:gosec // self-signed test certificates
	if err != nil {
		t.Fatalf("connecting for %s: %v", host, err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host); err != nil {
		t.Fatalf("sending for %s: %v", host, err)
	}
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	_, body, ok := strings.Cut(b.String(), "\r\n\r\n")
	if !ok || !strings.HasPrefix(b.String(), "HTTP/1.1 200") {
		t.Fatalf("GET for %s: %q", host, b.String())
	}
	if certs := conn.ConnectionState().PeerCertificates; len(certs) > 0 {
		served = certs[0].Subject.CommonName
	}
	return body, served
}

// selfSigned returns a PEM bundle (certificate and key) for host.
func selfSigned(t *testing.T, host string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})...)
}
