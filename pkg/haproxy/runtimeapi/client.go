// Package runtimeapi is a small client for HAProxy's runtime API on the stats socket: it sends
// batches of commands and reports every error HAProxy answers with. It is written for HAProxy 2.6
// and later; it never talks to the master socket, where 2.6 cannot report errors.
package runtimeapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Client talks to one stats socket.
type Client struct {
	// Socket is the path of the stats socket.
	Socket string
	// Timeout bounds one exchange when ctx has no deadline.
	Timeout time.Duration
}

// maxBatch is how many commands share one connection and one line; HAProxy's line buffer is
// large enough for this many server or map commands.
const maxBatch = 50

// Execute runs the commands in order, batched, and returns every error HAProxy reported, each
// with the command that caused it. A command that fails does not stop the ones after it.
func (c Client) Execute(ctx context.Context, cmds []string) error {
	var errs []error
	for len(cmds) > 0 {
		n := min(len(cmds), maxBatch)
		if err := c.batch(ctx, cmds[:n]); err != nil {
			errs = append(errs, err)
		}
		cmds = cmds[n:]
	}
	return errors.Join(errs...)
}

// ExecutePayload runs one command with a multi-line payload ("cmd <<" then the payload, ended by
// an empty line), as `set ssl cert` and `add ssl crt-list` take. An empty payload runs the command
// alone.
func (c Client) ExecutePayload(ctx context.Context, cmd, payload string) error {
	if separated(cmd) {
		return fmt.Errorf("refusing runtime command with a separator: %q", cmd)
	}
	if payload == "" {
		return c.batch(ctx, []string{cmd})
	}
	if strings.Contains(payload, "\n\n") || strings.ContainsRune(payload, '\r') {
		return fmt.Errorf("%s: the payload must not hold an empty line", cmd)
	}
	payload = strings.TrimSuffix(payload, "\n")
	out, err := c.exchange(ctx, "set severity-output number;"+cmd+" <<\n"+payload+"\n")
	if err != nil {
		return err
	}
	for _, a := range splitAnswers(out) {
		if msg, bad := failure(a); bad {
			return fmt.Errorf("%s: %s", cmd, msg)
		}
	}
	return nil
}

// Query runs one command and returns its output.
func (c Client) Query(ctx context.Context, cmd string) (string, error) {
	out, err := c.exchange(ctx, cmd)
	if err != nil {
		return "", err
	}
	if msg, bad := failure(out); bad {
		return "", fmt.Errorf("%s: %s", cmd, msg)
	}
	return out, nil
}

// Escape makes s one argument of a runtime command that cannot end it: the CLI reads `\;` as a
// semicolon within an argument and `\\` as a backslash.
func Escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `;`, `\;`).Replace(s)
}

// separated reports a command holding a line break or a semicolon that is not escaped.
func separated(cmd string) bool {
	if strings.ContainsAny(cmd, "\n\r") {
		return true
	}
	for i := 0; i < len(cmd); i++ {
		switch cmd[i] {
		case '\\':
			i++ // the escaped character, whatever it is
		case ';':
			return true
		}
	}
	return false
}

// batch sends "cmd1;cmd2;..." after `set severity-output number`, so each answer that matters
// starts with "[severity]:". HAProxy separates the answers of a batch with empty lines.
func (c Client) batch(ctx context.Context, cmds []string) error {
	for _, cmd := range cmds {
		if separated(cmd) {
			return fmt.Errorf("refusing runtime command with a separator: %q", cmd)
		}
	}
	out, err := c.exchange(ctx, "set severity-output number;"+strings.Join(cmds, ";"))
	if err != nil {
		return err
	}
	// The first answer is the (empty) one to `set severity-output`; then one per command.
	answers := splitAnswers(out)
	if len(answers) > 0 {
		answers = answers[1:]
	}
	var errs []error
	for i, a := range answers {
		if msg, bad := failure(a); bad {
			cmd := "?"
			if i < len(cmds) {
				cmd = cmds[i]
			}
			errs = append(errs, fmt.Errorf("%s: %s", cmd, msg))
		}
	}
	return errors.Join(errs...)
}

func (c Client) exchange(ctx context.Context, line string) (string, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Socket)
	if err != nil {
		return "", fmt.Errorf("connecting to runtime API: %w", err)
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		timeout := c.Timeout
		if timeout == 0 {
			timeout = 10 * time.Second
		}
		deadline = time.Now().Add(timeout)
	}
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte(line + "\n")); err != nil {
		return "", fmt.Errorf("sending to runtime API: %w", err)
	}
	var b strings.Builder
	r := bufio.NewReader(conn)
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			if errors.Is(err, net.ErrClosed) || err.Error() == "EOF" {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return "", fmt.Errorf("reading from runtime API: %w", err)
			}
			break
		}
	}
	return b.String(), nil
}

// splitAnswers splits a non-interactive reply into the answers of the individual commands of a
// batch. Every answer ends with an empty line; an empty answer is just that line.
func splitAnswers(out string) []string {
	var answers []string
	var cur strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "\n" {
			answers = append(answers, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		answers = append(answers, cur.String())
	}
	return answers
}

// failure reports whether an answer is an error: severity 0 to 3 in number format, or an unknown
// command (which HAProxy answers with its help text).
func failure(answer string) (string, bool) {
	a := strings.TrimSpace(answer)
	if len(a) >= 4 && a[0] == '[' && a[2] == ']' && a[3] == ':' && a[1] >= '0' && a[1] <= '3' {
		return strings.TrimSpace(a[4:]), true
	}
	if i := strings.Index(a, "Unknown command"); i >= 0 && i <= 5 {
		first, _, _ := strings.Cut(a[i:], "\n")
		return first, true
	}
	return "", false
}
