package framework

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// h2cEchoIPs hands out addresses for cleartext HTTP/2 echoes, in 198.18.220.0/24, apart from the
// other echoes' ranges.
var h2cEchoIPs atomic.Uint32

// EchoProtoHeader is the response header in which the TLS and h2c echoes report the protocol of
// the request they received ("HTTP/1.1", "HTTP/2.0").
const EchoProtoHeader = "X-Echo-Proto"

// StartH2CEcho starts an echo backend that speaks HTTP/1.1 and HTTP/2 in cleartext with prior
// knowledge (what HAProxy's "proto h2" sends), on a fresh address; it reports the protocol of
// each request in EchoProtoHeader and otherwise answers like StartEcho's backends, so
// EchoService and SetEndpoints take it. It is closed when the test ends.
func StartH2CEcho(t testing.TB, name string) *Echo {
	t.Helper()
	n := h2cEchoIPs.Add(1)
	if n > 250 {
		t.Fatalf("starting h2c echo %s: more than 250 in one test binary", name)
	}
	e := &Echo{Name: name, IP: fmt.Sprintf("198.18.220.%d", n), Port: EchoPort}
	l, err := net.Listen("tcp", e.Addr())
	if err != nil {
		t.Fatalf("starting h2c echo %s: %v", name, err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(EchoProtoHeader, r.Proto)
		e.ServeHTTP(w, r)
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second, Protocols: new(http.Protocols)}
	server.Protocols.SetHTTP1(true)
	server.Protocols.SetUnencryptedHTTP2(true)
	go func() {
		if err := server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("h2c echo %s: %v", name, err)
		}
	}()
	t.Cleanup(func() { server.Close() })
	return e
}
