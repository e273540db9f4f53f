package framework

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Load sends requests to a controller's HTTP port from several workers, each with its own
// keep-alive HTTP client, as fast as each one can, until Stop or its time limit. It only ever
// talks to c.HTTPURL, which is on 127.0.0.1.
type Load struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	start  time.Time

	requests, failed, newConns atomic.Int64

	mu      sync.Mutex
	errors  []string // the first few failures
	byEcho  map[string]int64
	end     time.Time
	expired bool
}

// LoadResult is what a Load saw.
type LoadResult struct {
	Requests int64 // answered or failed, excluding requests cut short by Stop
	Failed   int64 // transport errors, non-200 statuses, or 200s that no echo sent
	NewConns int64 // connections opened: one per worker, plus one after each connection haproxy closed
	Errors   []string
	ByEcho   map[string]int64
	Duration time.Duration
	// Expired reports that the load hit its time limit before Stop was called.
	Expired bool
}

func (r LoadResult) String() string {
	rate := float64(r.Requests) / r.Duration.Seconds()
	return fmt.Sprintf("%d requests in %s (%.0f/s), %d failed, %d connections opened, by echo %v",
		r.Requests, r.Duration.Round(time.Millisecond), rate, r.Failed, r.NewConns, r.ByEcho)
}

// maxLoggedErrors bounds LoadResult.Errors.
const maxLoggedErrors = 10

// StartLoad starts workers that POST a small body to host+path through the controller until
// Stop is called or limit has passed. Each request is a POST whose body cannot be rewound, so
// Go's transport cannot retry it on a fresh connection after a keep-alive connection fails: every
// request haproxy drops is counted. Call Stop (it is also called at cleanup).
func StartLoad(t testing.TB, c *Controller, host, path string, workers int, limit time.Duration) *Load {
	t.Helper()
	if !strings.HasPrefix(c.HTTPURL, "http://127.0.0.1:") {
		t.Fatalf("load is only ever sent to 127.0.0.1, not %s", c.HTTPURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	l := &Load{ctx: ctx, cancel: cancel, start: time.Now(), byEcho: map[string]int64{}}
	for range workers {
		l.wg.Add(1)
		go l.work(ctx, c.HTTPURL+path, host)
	}
	t.Cleanup(func() { l.Stop() })
	return l
}

// work is one worker: one client, one connection at a time, kept alive.
func (l *Load) work(ctx context.Context, url, host string) {
	defer l.wg.Done()
	transport := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1, DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{
		Timeout:       5 * time.Second,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if !info.Reused {
			l.newConns.Add(1)
		}
	}}
	const body = `{"load":true}`
	for ctx.Err() == nil {
		// A body type that http.NewRequest does not know leaves GetBody nil: not replayable.
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, url,
			struct{ io.Reader }{strings.NewReader(body)})
		if err != nil {
			l.fail(fmt.Sprintf("building request: %v", err))
			return
		}
		req.ContentLength = int64(len(body))
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return // cut short by Stop or the time limit: not the proxy's doing
			}
			l.fail(err.Error())
			continue
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		echo := resp.Header.Get(EchoNameHeader)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			l.fail(fmt.Sprintf("reading the response: %v", err))
		case resp.StatusCode != http.StatusOK || echo == "":
			l.fail(fmt.Sprintf("status %d from echo %q", resp.StatusCode, echo))
		default:
			l.requests.Add(1)
			l.mu.Lock()
			l.byEcho[echo]++
			l.mu.Unlock()
		}
	}
}

func (l *Load) fail(msg string) {
	l.requests.Add(1)
	l.failed.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.errors) < maxLoggedErrors {
		l.errors = append(l.errors, fmt.Sprintf("%s: %s", time.Since(l.start).Round(time.Millisecond), msg))
	}
}

// Stop ends the load, waits for the workers and returns what they saw. It may be called again.
func (l *Load) Stop() LoadResult {
	l.mu.Lock()
	if l.end.IsZero() {
		l.expired = l.ctx.Err() != nil
		l.end = time.Now()
	}
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	byEcho := make(map[string]int64, len(l.byEcho))
	for k, v := range l.byEcho {
		byEcho[k] = v
	}
	return LoadResult{
		Requests: l.requests.Load(),
		Failed:   l.failed.Load(),
		NewConns: l.newConns.Load(),
		Errors:   append([]string(nil), l.errors...),
		ByEcho:   byEcho,
		Duration: l.end.Sub(l.start),
		Expired:  l.expired,
	}
}
