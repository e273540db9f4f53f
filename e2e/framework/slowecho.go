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

// slowEchoIPs counts the addresses of slow echoes. They come from 198.18.200.0 upwards, a range
// StartEcho does not reach before its 49,750th echo.
var slowEchoIPs atomic.Uint32

// nextSlowEchoIP returns a fresh address: 198.18.200.1 ... 198.18.200.250, 198.18.201.1, ...
func nextSlowEchoIP() string {
	n := slowEchoIPs.Add(1) - 1
	return fmt.Sprintf("198.18.%d.%d", 200+n/250, 1+n%250)
}

// StartSlowEcho starts an echo backend that waits delay before it answers each request (after
// reading the request head), on a fresh address; it is closed when the test ends. It answers
// like StartEcho's backends, so EchoService and SetEndpoints take it.
func StartSlowEcho(t testing.TB, name string, delay time.Duration) *Echo {
	t.Helper()
	e := &Echo{Name: name, IP: nextSlowEchoIP(), Port: EchoPort}
	l, err := net.Listen("tcp", e.Addr())
	if err != nil {
		t.Fatalf("starting slow echo %s: %v", name, err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done(): // the proxy gave up
			return
		}
		e.ServeHTTP(w, r)
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("slow echo %s: %v", name, err)
		}
	}()
	t.Cleanup(func() { server.Close() })
	return e
}

// StartFailingEcho starts a backend that accepts connections and answers every request with
// status, on a fresh address like StartSlowEcho's; it is closed when the test ends. A TCP health
// check finds it up, an HTTP one down.
func StartFailingEcho(t testing.TB, name string, status int) *Echo {
	t.Helper()
	e := &Echo{Name: name, IP: nextSlowEchoIP(), Port: EchoPort}
	l, err := net.Listen("tcp", e.Addr())
	if err != nil {
		t.Fatalf("starting failing echo %s: %v", name, err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(EchoNameHeader, e.Name)
		http.Error(w, http.StatusText(status), status)
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("failing echo %s: %v", name, err)
		}
	}()
	t.Cleanup(func() { server.Close() })
	return e
}

// DeadEcho returns an echo address, fresh like StartSlowEcho's, on which nothing listens:
// connections to it are refused.
func DeadEcho(name string) *Echo {
	return &Echo{Name: name, IP: nextSlowEchoIP(), Port: EchoPort}
}
