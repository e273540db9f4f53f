package framework

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TCPEcho is a raw TCP backend on its own address: it greets each connection with
// "hello from <name>\n", then sends back every byte it receives. A connection that starts with a
// PROXY protocol v1 header (within 200 ms of connecting) has it read first and recorded (see
// ProxyHeaders).
type TCPEcho struct {
	Echo // Name, IP and Port (EchoPort), so that EndpointSlices can hold it like an HTTP echo

	mu      sync.Mutex
	headers []string
}

// StartTCPEcho starts a TCP echo named name on a fresh address; it is closed when the test ends.
func StartTCPEcho(t testing.TB, name string) *TCPEcho {
	t.Helper()
	e := &TCPEcho{Echo: Echo{Name: name, IP: nextEchoIP(), Port: EchoPort}}
	l, err := net.Listen("tcp", e.Addr())
	if err != nil {
		t.Fatalf("starting TCP echo %s: %v", name, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go e.serve(c)
		}
	}()
	return e
}

func (e *TCPEcho) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	// A PROXY header comes at once, before the client waits for the greeting.
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	b, err := r.Peek(6)
	_ = c.SetReadDeadline(time.Time{})
	if err == nil && string(b) == "PROXY " {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		e.mu.Lock()
		e.headers = append(e.headers, strings.TrimSpace(line))
		e.mu.Unlock()
	}
	if _, err := fmt.Fprintf(c, "hello from %s\n", e.Name); err != nil {
		return
	}
	_, _ = io.Copy(c, r)
}

// ProxyHeaders returns the PROXY protocol v1 headers received so far.
func (e *TCPEcho) ProxyHeaders() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.headers...)
}

// TCPGreeting connects to addr, reads the greeting line of a TCP echo, sends payload and reads it
// back. It returns the name of the echo that answered.
func TCPGreeting(addr, payload string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(3 * time.Second))
	r := bufio.NewReader(c)
	greeting, err := r.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("reading the greeting: %w", err)
	}
	name, ok := strings.CutPrefix(strings.TrimSpace(greeting), "hello from ")
	if !ok {
		return "", fmt.Errorf("unexpected greeting %q", greeting)
	}
	if _, err := io.WriteString(c, payload); err != nil {
		return "", err
	}
	back := make([]byte, len(payload))
	if _, err := io.ReadFull(r, back); err != nil {
		return "", fmt.Errorf("reading the echo: %w", err)
	}
	if string(back) != payload {
		return "", errors.New("the echo sent back " + fmt.Sprintf("%q", back) + ", not the payload")
	}
	return name, nil
}
