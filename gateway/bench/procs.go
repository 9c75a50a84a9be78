package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// proc is a child process of the bench: every participant runs in its own, so none shares a
// heap or scheduler with another or with the load generator.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// spawn starts a child in its own process group, which dies with the bench; its stderr goes to
// logPath, its stdout is returned.
func spawn(name, logPath, bin string, args ...string) (*proc, io.ReadCloser, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() { // Pdeathsig follows the forking thread: keep it until the child is gone
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, out, nil
}

// startProc spawns a child and waits for the stdout line that starts with ready; the lines
// before it come back.
func startProc(ctx context.Context, name, logPath, ready string, timeout time.Duration, bin string, args ...string) (*proc, []string, error) {
	p, out, err := spawn(name, logPath, bin, args...)
	if err != nil {
		return nil, nil, err
	}
	values := make(chan []string, 1)
	go func() {
		var vals []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, ready) {
				values <- vals
				break
			}
			vals = append(vals, line)
		}
		for sc.Scan() { // keep draining so the child never blocks on a full pipe
		}
	}()
	select {
	case v := <-values:
		return p, v, nil
	case <-p.done:
		return nil, nil, fmt.Errorf("%s exited before it was ready; see %s", name, logPath)
	case <-time.After(timeout):
		p.stop(5 * time.Second)
		return nil, nil, fmt.Errorf("%s was not ready within %s; see %s", name, timeout, logPath)
	case <-ctx.Done():
		p.stop(5 * time.Second)
		return nil, nil, ctx.Err()
	}
}

// field is the last word of the first line that starts with prefix ("" if none): "URL http://…",
// or `onramp dev`'s "Gateway (production)  http://…".
func field(lines []string, prefix string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			words := strings.Fields(l)
			return words[len(words)-1]
		}
	}
	return ""
}

// waitListening waits until url's host accepts connections.
func waitListening(ctx context.Context, url string, limit time.Duration) error {
	host := strings.TrimPrefix(url, "http://")
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("nothing listens on %s after %s: %w", host, limit, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop asks the child to end (SIGTERM) and kills its process group after grace.
func (p *proc) stop(grace time.Duration) {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// freePort returns a loopback port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}
