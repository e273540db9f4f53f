package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portcullis-ingress/portcullis/e2e/framework"
)

// keepAliveClient sends HTTP/1.1 requests over one persistent connection, written by hand so that
// nothing is retried behind the caller's back: net/http replays a GET that fails on a reused
// connection, which would hide exactly the keep-alive failures across reloads that the churn
// measurement counts (wrk, used for the competitor's figures, does not retry either). After any
// error, or a response with "Connection: close", the next request opens a new connection.
type keepAliveClient struct {
	addr    string // host:port of haproxy's HTTP bind
	timeout time.Duration
	conn    net.Conn
	br      *bufio.Reader
}

func newKeepAliveClient(c *framework.Controller) *keepAliveClient {
	return &keepAliveClient{addr: strings.TrimPrefix(c.HTTPURL, "http://"), timeout: 5 * time.Second}
}

// reply is what one request got back.
type reply struct {
	status int
	echo   string // the framework.EchoNameHeader value, "" when no echo answered
}

// requestError classifies a failed request; kind is one of connect, write, read, body, timeout.
type requestError struct {
	kind string
	err  error
}

func (e *requestError) Error() string { return e.kind + ": " + e.err.Error() }
func (e *requestError) Unwrap() error { return e.err }

// errorKind returns the kind of a request error, or "other".
func errorKind(err error) string {
	var re *requestError
	if errors.As(err, &re) {
		return re.kind
	}
	return "other"
}

func (k *keepAliveClient) fail(kind string, err error) (reply, error) {
	k.close()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		kind = "timeout"
	}
	return reply{}, &requestError{kind: kind, err: err}
}

// get sends GET path with the given Host header and reads the whole response.
func (k *keepAliveClient) get(host, path string) (reply, error) {
	if k.conn == nil {
		conn, err := net.DialTimeout("tcp", k.addr, k.timeout)
		if err != nil {
			return k.fail("connect", err)
		}
		k.conn, k.br = conn, bufio.NewReaderSize(conn, 8<<10)
	}
	_ = k.conn.SetDeadline(time.Now().Add(k.timeout))
	if _, err := io.WriteString(k.conn, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\nUser-Agent: portcullis-bench\r\n\r\n"); err != nil {
		return k.fail("write", err)
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		return k.fail("read", err)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return k.fail("body", err)
	}
	if resp.Close {
		k.close()
	}
	return reply{status: resp.StatusCode, echo: resp.Header.Get(framework.EchoNameHeader)}, nil
}

func (k *keepAliveClient) close() {
	if k.conn != nil {
		k.conn.Close()
		k.conn, k.br = nil, nil
	}
}

// loadResult sums up a run of the load generator.
type loadResult struct {
	requests  int64
	failed    int64            // transport errors and statuses other than 200
	byKind    map[string]int64 // failures by errorKind, or "status <code>"
	failedAt  []time.Duration  // offsets of the first failures from the start of the run
	latencies []time.Duration
	answers   []answer // every 200 from an echo, in no particular order
	elapsed   time.Duration
}

// answer is one request answered 200 by an echo.
type answer struct {
	sent time.Time
	echo string
}

// maxFailureTimes bounds the failure offsets kept, for the report.
const maxFailureTimes = 100

// runLoad sends GET / with the given Host from clients keep-alive connections, each at rate
// requests per second on a fixed schedule (a late request does not cause a burst: missed slots
// are skipped), until duration has passed or ctx ends.
func runLoad(ctx context.Context, c *framework.Controller, host string, clients int, rate float64, duration time.Duration) loadResult {
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	end := start.Add(duration)
	res := loadResult{byKind: map[string]int64{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			client := newKeepAliveClient(c)
			defer client.close()
			var (
				requests  int64
				failed    []time.Duration
				kinds     = map[string]int64{}
				latencies []time.Duration
				answers   []answer
			)
			// Spread the clients over one interval.
			next := start.Add(interval * time.Duration(w) / time.Duration(clients))
			for ctx.Err() == nil {
				now := time.Now()
				if next.After(now) {
					time.Sleep(next.Sub(now))
				}
				if !time.Now().Before(end) {
					break
				}
				sent := time.Now()
				r, err := client.get(host, "/")
				latencies = append(latencies, time.Since(sent))
				requests++
				switch {
				case err != nil:
					kinds[errorKind(err)]++
					failed = append(failed, sent.Sub(start))
				case r.status != http.StatusOK:
					kinds[fmt.Sprintf("status %d", r.status)]++
					failed = append(failed, sent.Sub(start))
				case r.echo != "":
					answers = append(answers, answer{sent: sent, echo: r.echo})
				}
				next = next.Add(interval)
				if behind := time.Since(next); behind > interval {
					next = next.Add(behind.Truncate(interval))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.requests += requests
			for k, n := range kinds {
				res.byKind[k] += n
				res.failed += n
			}
			res.failedAt = append(res.failedAt, failed...)
			res.latencies = append(res.latencies, latencies...)
			res.answers = append(res.answers, answers...)
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	slices.Sort(res.failedAt)
	if len(res.failedAt) > maxFailureTimes {
		res.failedAt = res.failedAt[:maxFailureTimes]
	}
	return res
}

// pollErrors counts the failed requests of polls by errorKind; a poll only reopens the
// connection after one.
type pollErrors map[string]int

func (p pollErrors) add(err error) {
	if p != nil {
		p[errorKind(err)]++
	}
}

// pollFirst polls GET host/ until echo wantEcho answers 200, and returns when that answer
// arrived. Failed requests (a connection closed by a reload) are counted in errs (may be nil) and
// reopen the connection.
func pollFirst(k *keepAliveClient, host, wantEcho string, every, timeout time.Duration, errs pollErrors) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		sent := time.Now()
		r, err := k.get(host, "/")
		now := time.Now()
		if err == nil && r.status == http.StatusOK && r.echo == wantEcho {
			return now, nil
		}
		if err != nil {
			errs.add(err)
			last = fmt.Sprintf("%v after %s", err, now.Sub(sent).Round(time.Millisecond))
		} else {
			last = fmt.Sprintf("status %d from echo %q", r.status, r.echo)
		}
		if now.After(deadline) {
			return time.Time{}, fmt.Errorf("GET %s/: no 200 from echo %s within %s (last: %s)", host, wantEcho, timeout, last)
		}
		time.Sleep(every)
	}
}

// convergence is how an endpoint change went, seen from a client.
type convergence struct {
	at     time.Time // when the first answer of the final clean run arrived
	stale  int       // answers from outside the new set after the first one from inside it
	errors int       // failed requests while polling
}

// pollOnly polls GET host/ until streak answers in a row come from echoes in want, and returns
// when the first of them arrived. An answer from outside the set starts the count again.
func pollOnly(k *keepAliveClient, host string, want map[string]bool, streak int, every, timeout time.Duration) (convergence, error) {
	deadline := time.Now().Add(timeout)
	var cv convergence
	run, sawNew := 0, false
	var last string
	for {
		r, err := k.get(host, "/")
		now := time.Now()
		switch {
		case err != nil:
			cv.errors++
			run = 0
			last = err.Error()
		case r.status == http.StatusOK && want[r.echo]:
			if run == 0 {
				cv.at = now
			}
			run++
			sawNew = true
			if run >= streak {
				return cv, nil
			}
		default:
			if sawNew {
				cv.stale++
			}
			run = 0
			last = fmt.Sprintf("status %d from echo %q", r.status, r.echo)
		}
		if now.After(deadline) {
			return cv, fmt.Errorf("GET %s/: not %d answers in a row from %v within %s (last other: %s)", host, streak, keys(want), timeout, last)
		}
		time.Sleep(every)
	}
}

// pollAll polls GET host/ until every echo in want has answered since the call, and returns when
// the last of them did.
func pollAll(k *keepAliveClient, host string, want map[string]bool, every, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	seen := map[string]bool{}
	for {
		r, err := k.get(host, "/")
		now := time.Now()
		if err == nil && r.status == http.StatusOK && want[r.echo] {
			seen[r.echo] = true
			if len(seen) == len(want) {
				return now, nil
			}
		}
		if now.After(deadline) {
			return time.Time{}, fmt.Errorf("GET %s/: only %v of %v answered within %s", host, keys(seen), keys(want), timeout)
		}
		time.Sleep(every)
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// endpointChange is one EndpointSlice update made during a load: when the update call started
// and the echoes it left in the slice.
type endpointChange struct {
	at  time.Time
	set map[string]bool
}

// removalLags returns, for every change that removed echoes from the slice, how long after the
// update call requests were still sent to a removed echo (the last one before it came back, if
// it did; zero if none was). changes[0] is the initial state.
func removalLags(changes []endpointChange, answers []answer) []time.Duration {
	byEcho := map[string][]time.Time{}
	for _, a := range answers {
		byEcho[a.echo] = append(byEcho[a.echo], a.sent)
	}
	var lags []time.Duration
	for k := 1; k < len(changes); k++ {
		removed := false
		var lag time.Duration
		for e := range changes[k-1].set {
			if changes[k].set[e] {
				continue
			}
			removed = true
			end := time.Time{} // when e comes back; zero if never
			for m := k + 1; m < len(changes); m++ {
				if changes[m].set[e] {
					end = changes[m].at
					break
				}
			}
			for _, at := range byEcho[e] {
				if at.Before(changes[k].at) || !end.IsZero() && !at.Before(end) {
					continue
				}
				lag = max(lag, at.Sub(changes[k].at))
			}
		}
		if removed {
			lags = append(lags, lag)
		}
	}
	return lags
}
