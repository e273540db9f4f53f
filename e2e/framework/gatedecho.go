package framework

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// GatedEcho is an echo backend that holds the requests for the path HoldPath until Release:
// a test can keep requests in progress without timing anything.
type GatedEcho struct {
	*Echo
	// Arrived receives once for each held request, when it reaches the backend.
	Arrived chan struct{}
	gate    chan struct{}
	once    sync.Once
}

// HoldPath is the path whose requests a GatedEcho holds; it answers others at once.
const HoldPath = "/hold"

// StartGatedEcho starts a GatedEcho on a fresh address, like StartSlowEcho's; it is closed when
// the test ends (held requests are released first).
func StartGatedEcho(t testing.TB, name string) *GatedEcho {
	t.Helper()
	g := &GatedEcho{Echo: &Echo{Name: name, IP: nextSlowEchoIP(), Port: EchoPort}, Arrived: make(chan struct{}, 64), gate: make(chan struct{})}
	l, err := net.Listen("tcp", g.Addr())
	if err != nil {
		t.Fatalf("starting gated echo %s: %v", name, err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == HoldPath {
			g.Arrived <- struct{}{}
			select {
			case <-g.gate:
			case <-r.Context().Done():
				return
			}
		}
		g.ServeHTTP(w, r)
	})
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("gated echo %s: %v", name, err)
		}
	}()
	t.Cleanup(func() {
		g.Release()
		server.Close()
	})
	return g
}

// Release lets every held request, and every later one, through.
func (g *GatedEcho) Release() { g.once.Do(func() { close(g.gate) }) }
