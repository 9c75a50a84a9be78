package devenv

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Infra is a running devstack program: Temporal (with Web UI) and FerretDB.
type Infra struct {
	MongoURI        string
	TemporalAddress string
	TemporalUIURL   string
	proc            *process
}

// InfraOptions says where the devstack binary is, where its data goes, and which ports it uses
// (0 picks a free one; a negative UI port disables the Web UI).
type InfraOptions struct {
	Binary       string
	DataDir      string
	Host         string
	TemporalPort int
	UIPort       int
	MongoPort    int
}

// StartInfra starts devstack and waits until it prints READY; it returns the child's log tail
// when it fails. With free-picked ports it tries again when a port it picked was taken before it
// could bind it (another process can grab a free port between the pick and the bind).
func StartInfra(ctx context.Context, o InfraOptions) (*Infra, error) {
	freePicked := o.TemporalPort == 0 && o.MongoPort == 0 && o.UIPort <= 0
	for attempt := 1; ; attempt++ {
		in, err := startInfraOnce(ctx, o)
		if err == nil || !freePicked || attempt == 3 || !strings.Contains(err.Error(), "address already in use") {
			return in, err
		}
	}
}

func startInfraOnce(ctx context.Context, o InfraOptions) (*Infra, error) {
	logPath := filepath.Join(o.DataDir, "devstack.log")
	cmd, logFile, err := newCommand(o.Binary, []string{
		"-data", o.DataDir,
		"-host", o.Host,
		"-temporal-port", strconv.Itoa(o.TemporalPort),
		"-ui-port", strconv.Itoa(o.UIPort),
		"-mongo-port", strconv.Itoa(o.MongoPort),
		"-stop-on-stdin-eof",
	}, o.DataDir, logPath)
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := startProcess("devstack", cmd, logFile, logPath)
	if err != nil {
		return nil, err
	}
	in := &Infra{proc: p}
	values := make(chan map[string]string, 1)
	var other strings.Builder // anything else devstack printed, for the error message
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		vals := map[string]string{}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "READY") {
				values <- vals
				break
			}
			if k, v, ok := strings.Cut(line, "="); ok && !strings.Contains(k, " ") {
				vals[k] = v
			} else {
				other.WriteString(line + "\n")
			}
		}
		// Keep draining so the child never blocks on a full pipe.
		for sc.Scan() {
		}
	}()
	select {
	case vals := <-values:
		in.MongoURI, in.TemporalAddress, in.TemporalUIURL = vals["MONGODB_URI"], vals["TEMPORAL_ADDRESS"], vals["TEMPORAL_UI_URL"]
		return in, nil
	case <-p.done:
		_, err := p.exited()
		printed := ""
		select {
		case <-scanned: // only then is other safe to read
			printed = other.String()
		case <-time.After(time.Second):
		}
		return nil, fmt.Errorf("%w\n%s", p.failure(err), printed)
	case <-time.After(2 * time.Minute):
		_ = p.stop(5 * time.Second)
		return nil, fmt.Errorf("devstack did not become ready within 2 minutes; see %s", logPath)
	case <-ctx.Done():
		_ = p.stop(5 * time.Second)
		return nil, ctx.Err()
	}
}

// Stop ends the devstack process; Temporal and FerretDB flush their SQLite files first.
func (in *Infra) Stop() error { return in.proc.stop(30 * time.Second) }

// Pause freezes the devstack process (SIGSTOP): FerretDB and Temporal stop answering while their
// connections stay open, as an unreachable server's would, until Resume. Outage drills use it.
func (in *Infra) Pause() error { return in.proc.signal(syscall.SIGSTOP) }

// Resume lets a paused devstack process run again (SIGCONT).
func (in *Infra) Resume() error { return in.proc.signal(syscall.SIGCONT) }

// Done is closed when the devstack process has ended.
func (in *Infra) Done() <-chan struct{} { return in.proc.done }
