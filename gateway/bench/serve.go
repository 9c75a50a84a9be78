package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/policies"
)

// benchOrg is the organisation every Onramp participant is called as.
const benchOrg = "org_bench"

// tuned is a transport with keep-alive pools sized to the load (the default keeps 2 idle
// connections per host and churns under load), as every Go participant uses.
func tuned() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 1024, 512
	return t
}

// serveParticipant runs one Go participant in this (child) process until SIGTERM, printing its
// addresses on stdout and then READY.
func serveParticipant(kind, upstream, key, profile string) error {
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var h http.Handler
	switch kind {
	case "bare":
		h, err = bareProxy(upstream, key)
		fmt.Printf("URL http://%s\n", l.Addr())
	case "inmem":
		h, err = inMemoryGateway(upstream)
		fmt.Printf("URL http://%s\n", l.Addr())
	default:
		err = fmt.Errorf("-serve %q: want bare or inmem", kind)
	}
	if err != nil {
		return err
	}
	fmt.Println("READY")
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	<-ctx.Done()
	return srv.Shutdown(context.Background())
}

// bareProxy is the baseline: a reverse proxy that only checks the API-key header, tuned as
// Onramp's is (a transport sized to the load, pooled copy buffers), so the two differ only by
// Onramp's pipeline.
func bareProxy(upstream, key string) (http.Handler, error) {
	target, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	proxy := &httputil.ReverseProxy{Transport: tuned(), BufferPool: buffers{}, Rewrite: func(p *httputil.ProxyRequest) {
		p.SetURL(target)
		p.Out.URL.Path = "/payments"
		p.Out.Header.Del("X-Api-Key")
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}), nil
}

// inMemoryGateway is the production gateway pipeline on in-memory stores with the demo catalog:
// what Onramp costs without its document store. Its own answers are counted apart from the
// usage pipeline, and /bench/accounting compares the two.
func inMemoryGateway(upstream string) (http.Handler, error) {
	ctx := context.Background()
	engine, err := policies.New(ctx, policies.Embedded())
	if err != nil {
		return nil, err
	}
	store, creds := catalogtest.NewMemory(), credentialstest.NewMemory()
	cat, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://s", ProductionURL: "http://p"})
	if err != nil {
		return nil, err
	}
	files, _ := fs.Sub(deploy.Catalog, "catalog")
	if _, err := cat.LoadFiles(ctx, files); err != nil {
		return nil, err
	}
	key, err := benchCredential(ctx, store, store, creds, credentialsKeyring(), upstream)
	if err != nil {
		return nil, err
	}
	fmt.Printf("KEY %s\n", key)
	quiet, node := slog.New(slog.DiscardHandler), gateway.NewNodeID()
	reg := prometheus.NewRegistry()
	metrics := gateway.NewMetrics(reg)
	recorder := gateway.NewRecorder(gateway.RecorderConfig{Store: creds, Node: node, Logger: quiet, Metrics: metrics})
	quota := gateway.NewQuota(gateway.QuotaConfig{Store: creds, Node: node, Logger: quiet, Metrics: metrics})
	svc, err := credentials.New(credentials.Config{Store: creds, Assignments: store, Keys: credentialsKeyring(), PortalURL: "http://portal"})
	if err != nil {
		return nil, err
	}
	gw, err := gateway.New(gateway.Config{Environment: onramp.Production, PortalURL: "http://portal", Credentials: svc, Organizations: activeOrgs{}, Catalog: store, Assignments: store,
		Policy: engine, Recorder: recorder, Quota: quota, Metrics: metrics, Logger: quiet})
	if err != nil {
		return nil, err
	}
	var served atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("GET /bench/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /bench/accounting", func(w http.ResponseWriter, r *http.Request) {
		_ = recorder.Flush(r.Context())
		counted, degraded, _ := recorder.Counts()
		stored := storedCalls(r.Context(), creds, time.Now())
		_ = json.NewEncoder(w).Encode(accounting{Served: served.Load(), Counted: counted, Stored: stored, Degraded: degraded})
	})
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw.ServeHTTP(w, r)
		served.Add(1)
	}))
	return mux, nil
}

// buffers lends the bare proxy the 32 KiB buffers it copies answers through.
type buffers struct{}

var bufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (buffers) Get() []byte  { return *bufferPool.Get().(*[]byte) }
func (buffers) Put(b []byte) { bufferPool.Put(&b) }

// accounting compares what a gateway answered with what its usage pipeline stored.
type accounting struct {
	Served   int64 `json:"served"`   // calls the gateway answered (its own count, apart from usage)
	Counted  int64 `json:"counted"`  // calls the usage pipeline counted
	Stored   int64 `json:"stored"`   // calls in the store's usage totals
	Degraded int64 `json:"degraded"` // calls counted but not in the recent-calls log
}

// storedCalls is the bench organisation's production calls of this month in the usage totals.
func storedCalls(ctx context.Context, r onramp.UsageReader, now time.Time) int64 {
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	t, err := r.UsageTotals(ctx, benchOrg, "payments", onramp.Production, start, now.Add(time.Hour))
	if err != nil {
		return -1
	}
	var n int64
	for _, d := range t.Days {
		n += d.Calls
	}
	return n
}

func credentialsKeyring() *credentials.Keyring {
	k, _ := credentials.ParseKeyring("b:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	return k
}

// activeOrgs says every organisation exists and is active.
type activeOrgs struct{}

func (activeOrgs) FindOrganization(_ context.Context, id string) (onramp.Organization, error) {
	return onramp.Organization{ID: id, Name: id, Tier: "standard", Status: onramp.OrgActive}, nil
}
