// Command bench compares the gateway's production pipeline (authenticate, route, policy, quota,
// validate, usage recording, proxy) with a tuned bare httputil.ReverseProxy to the same local
// upstream, alternating A/B rounds, and prints the throughput ratio as its last line. Run it with
// `make bench`; docs/benchmarks.md records the method and results.
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/policies"
)

func main() {
	rounds := flag.Int("rounds", 3, "A/B rounds")
	duration := flag.Duration("duration", 3*time.Second, "length of each measurement")
	workers := flag.Int("workers", 64, "concurrent clients")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			log.Fatal(err)
		}
		_ = pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*rounds, *duration, *workers); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func transport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = conns*2, conns*2 // sized to the load on both sides
	return t
}

func run(rounds int, duration time.Duration, workers int) error {
	ctx := context.Background()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"payments":[{"id":"pay_1","amount":2500,"currency":"EUR","status":"settled","created_at":"2026-11-27T09:30:00Z"}]}`))
	}))
	defer upstream.Close()

	engine, err := policies.New(ctx, policies.Embedded())
	if err != nil {
		return err
	}
	store, creds := catalogtest.NewMemory(), credentialstest.NewMemory()
	cat, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://s", ProductionURL: "http://p"})
	if err != nil {
		return err
	}
	files, _ := fs.Sub(deploy.Catalog, "catalog")
	if _, err := cat.LoadFiles(ctx, files); err != nil {
		return err
	}
	grant := onramp.Grant{Scopes: []string{"payments:read"}, Environments: []string{onramp.Production}, Quota: onramp.Quota{Limit: 1 << 40, Period: "month"}}
	if err := store.SaveAssignment(ctx, onramp.Assignment{OrgID: "org_bench", Product: "payments", Plan: "standard", Grant: grant}); err != nil {
		return err
	}
	keys, _ := credentials.ParseKeyring("b:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	svc, err := credentials.New(credentials.Config{Store: creds, Assignments: store, Keys: keys, PortalURL: "http://portal"})
	if err != nil {
		return err
	}
	_, key, err := svc.Issue(ctx, credentials.Request{OrgID: "org_bench", Environment: onramp.Production})
	if err != nil {
		return err
	}
	quiet := slog.New(slog.DiscardHandler)
	recorder := gateway.NewRecorder(creds, creds, quiet)
	quota := gateway.NewQuota(gateway.QuotaConfig{Store: creds, Logger: quiet})
	defer recorder.Stop()
	defer quota.Stop()
	gw, err := gateway.New(gateway.Config{Environment: onramp.Production, PortalURL: "http://portal", Credentials: svc, Organizations: benchOrgs{}, Catalog: store, Assignments: store,
		Policy: engine, Recorder: recorder, Quota: quota, ExampleUpstream: upstream.URL, Transport: transport(workers), Logger: quiet})
	if err != nil {
		return err
	}
	gwServer := httptest.NewServer(gw)
	defer gwServer.Close()
	target, _ := url.Parse(upstream.URL)
	bare := &httputil.ReverseProxy{Rewrite: func(p *httputil.ProxyRequest) { p.SetURL(target); p.Out.URL.Path = "/payments" }, Transport: transport(workers)}
	bareServer := httptest.NewServer(bare)
	defer bareServer.Close()

	client := &http.Client{Transport: transport(workers)}
	measure := func(base string) (float64, error) {
		var n, failed atomic.Int64
		deadline := time.Now().Add(duration)
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					req, _ := http.NewRequest("GET", base+"/payments/v2/payments?limit=3", nil)
					req.Header.Set("X-API-Key", key)
					resp, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						failed.Add(1)
						continue
					}
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			return 0, fmt.Errorf("%s: %d requests failed", base, failed.Load())
		}
		return float64(n.Load()) / duration.Seconds(), nil
	}
	// Warm both paths (connections, caches) before measuring.
	for _, base := range []string{gwServer.URL, bareServer.URL} {
		if _, err := measure(base); err != nil {
			return err
		}
	}
	var gwTotal, bareTotal float64
	for i := 1; i <= rounds; i++ {
		g, err := measure(gwServer.URL)
		if err != nil {
			return err
		}
		b, err := measure(bareServer.URL)
		if err != nil {
			return err
		}
		gwTotal, bareTotal = gwTotal+g, bareTotal+b
		fmt.Printf("round %d: gateway %.0f req/s, bare proxy %.0f req/s, ratio %.2f\n", i, g, b, g/b)
	}
	fmt.Fprintf(os.Stdout, "workers %d, %s per measurement, usage events dropped: %d\n", workers, duration, recorder.Dropped())
	fmt.Printf("gateway/bare throughput ratio: %.2f\n", gwTotal/bareTotal)
	return nil
}

// benchOrgs says every organisation exists and is active.
type benchOrgs struct{}

func (benchOrgs) FindOrganization(_ context.Context, id string) (onramp.Organization, error) {
	return onramp.Organization{ID: id, Name: id, Tier: "standard", Status: onramp.OrgActive}, nil
}
