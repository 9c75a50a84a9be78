package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// participant is one gateway (or proxy) under load.
type participant struct {
	name string
	url  string // where the load goes
	key  string
	dev  *devStack // for onramp dev: its store and metrics
	self bool      // a child of this bench serving /bench/accounting
}

// bench holds every process of a run.
type bench struct {
	o        options
	dir      string
	procs    []*proc
	devs     []*devStack
	parts    []*participant
	loadAvg  [2]string // /proc/loadavg before and after
	upstream string
}

func (b *bench) part(name string) *participant {
	for _, p := range b.parts {
		if p.name == name {
			return p
		}
	}
	return nil
}

// newBench starts the upstream and every participant, the embedded stacks set up (one seeded).
func newBench(ctx context.Context, o options) (*bench, error) {
	b := &bench{o: o, loadAvg: [2]string{loadAvg(), ""}}
	for _, tool := range []string{"wrk", "nginx"} {
		if _, err := exec.LookPath(tool); err != nil {
			return b, fmt.Errorf("%s is not installed: run `make bench-deps` (Debian packages wrk and nginx-light)", tool)
		}
	}
	var err error
	if b.dir, err = os.MkdirTemp("", "onramp-bench-"); err != nil {
		return b, err
	}
	up, upURL, err := startNginx(ctx, "upstream", filepath.Join(b.dir, "upstream"), upstreamConf, nginxSettings{Body: upstreamBody})
	if err != nil {
		return b, err
	}
	b.procs, b.upstream = append(b.procs, up), upURL
	if err := b.startPeers(ctx); err != nil {
		return b, err
	}
	return b, b.startOnramp(ctx)
}

// startPeers starts nginx as an API-key gateway and the bare Go proxy, sharing one key.
func (b *bench) startPeers(ctx context.Context) error {
	key := "onr_live_" + randomBase32(52)
	u, _ := url.Parse(b.upstream)
	upPort, _ := strconv.Atoi(u.Port())
	ngx, ngxURL, err := startNginx(ctx, "nginx-gateway", filepath.Join(b.dir, "nginx-gateway"), gatewayConf, nginxSettings{Key: key, Upstream: upPort})
	if err != nil {
		return err
	}
	b.procs = append(b.procs, ngx)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	bare, lines, err := startProc(ctx, "bare-go", filepath.Join(b.dir, "bare-go.log"), "READY", 30*time.Second, self, "-serve", "bare", "-upstream", b.upstream, "-key", key)
	if err != nil {
		return err
	}
	b.procs = append(b.procs, bare)
	b.parts = append(b.parts, &participant{name: "bare-go", url: field(lines, "URL"), key: key}, &participant{name: "nginx-gateway", url: ngxURL, key: key})
	return nil
}

// startOnramp starts the in-memory pipeline and the two embedded stacks, seeding the second.
func (b *bench) startOnramp(ctx context.Context) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	inmem, lines, err := startProc(ctx, "onramp-inmem", filepath.Join(b.dir, "onramp-inmem.log"), "READY", time.Minute, self, "-serve", "inmem", "-upstream", b.upstream)
	if err != nil {
		return err
	}
	b.procs = append(b.procs, inmem)
	b.parts = append([]*participant{{name: "onramp-inmem", url: field(lines, "URL"), key: field(lines, "KEY"), self: true}}, b.parts...)
	for _, name := range []string{"onramp-dev-seeded", "onramp-dev"} {
		progress("starting %s (bin/onramp dev)", name)
		d, err := startDev(ctx, b.o.bin, filepath.Join(b.dir, name))
		if err != nil {
			return err
		}
		b.devs = append(b.devs, d)
		if name == "onramp-dev-seeded" {
			if err := d.seed(ctx, b.o.seedProducts, b.o.seedCalls); err != nil {
				return err
			}
		}
		key, err := d.setup(ctx, b.upstream)
		if err != nil {
			return err
		}
		b.parts = append([]*participant{{name: name, url: d.production, key: key, dev: d}}, b.parts...)
	}
	return nil
}

func (b *bench) close() {
	for _, d := range b.devs {
		d.stop()
	}
	for _, p := range b.procs {
		p.stop(10 * time.Second)
	}
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

func randomBase32(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
