// Package devenv starts the embedded development infrastructure as child processes: the devstack
// program (Temporal server, Temporal Web UI, FerretDB) and Kratos. The app then talks to them by
// URI and address only, exactly as it would to production servers.
package devenv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// process is a child that stops when asked, and also when this process dies: it runs in its own
// process group (Ctrl-C reaches only the parent, which stops children in order) and gets SIGTERM
// from the kernel if the parent disappears.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	stdin   io.WriteCloser
	done    chan struct{}
	mu      sync.Mutex
	err     error
}

func newCommand(bin string, args []string, dir, logPath string) (*exec.Cmd, *os.File, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	return cmd, logFile, nil
}

func startProcess(name string, cmd *exec.Cmd, logFile *os.File, logPath string) (*process, error) {
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	if cmd.Stdin == nil {
		w, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		p.stdin = w
	}
	// Pdeathsig fires when the forking *thread* exits (golang/go#27505), so fork from a goroutine
	// that keeps its thread until the child is gone.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		err := cmd.Wait()
		logFile.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	if err := <-started; err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return p, nil
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		p.mu.Lock()
		defer p.mu.Unlock()
		return true, p.err
	default:
		return false, nil
	}
}

// stop asks the process to end (SIGTERM, stdin closed) and kills it after grace.
func (p *process) stop(grace time.Duration) error {
	if ok, _ := p.exited(); ok {
		return nil
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not stop within %s and was killed", p.name, grace)
	}
}

// signal sends sig to the running process.
func (p *process) signal(sig syscall.Signal) error {
	if ok, _ := p.exited(); ok {
		return fmt.Errorf("%s is not running", p.name)
	}
	return p.cmd.Process.Signal(sig)
}

// failure describes an early exit with the tail of the process's log.
func (p *process) failure(err error) error {
	return fmt.Errorf("%s exited: %v\n--- last lines of %s ---\n%s", p.name, err, p.logPath, tail(p.logPath, 20))
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log)"
	}
	return lastLines(string(b), lines)
}

// FindBinary returns the absolute path of name in dir, with a message that says how to build it
// when it is missing.
func FindBinary(dir, name string) (string, error) {
	p, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s not found; run `make build-deps` (or `make dev`) to build it", p)
	} else if err != nil {
		return "", err
	}
	return p, nil
}
