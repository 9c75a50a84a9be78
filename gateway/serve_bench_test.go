package gateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/deploy"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/policies"
)

// fixedUpstream answers every request in-process with a small JSON listing, so a benchmark
// measures the gateway and the proxy, not a network round trip.
type fixedUpstream struct{}

var fixedBody = []byte(`{"payments":[{"id":"pay_1"},{"id":"pay_2"},{"id":"pay_3"}]}`)

func (fixedUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: r, ContentLength: int64(len(fixedBody)),
		Header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {strconv.Itoa(len(fixedBody))}},
		Body:   io.NopCloser(bytes.NewReader(fixedBody))}, nil
}

// discardWriter is a ResponseWriter a benchmark reuses: it keeps the status and drops the body.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status = 0
}

// MustBenchGateway is the production gateway as gateway/bench's in-memory participant runs it
// (demo catalog, real policies, usage recording, quota and metrics on, default intervals) with
// the payments upstream answered by fixedUpstream; it returns the gateway and a production key.
func MustBenchGateway(tb testing.TB) (*gateway.Gateway, string) {
	tb.Helper()
	ctx := context.Background()
	engine, err := policies.New(ctx, policies.Embedded())
	if err != nil {
		tb.Fatal(err)
	}
	store, creds := catalogtest.NewMemory(), credentialstest.NewMemory()
	cat, err := catalog.New(catalog.Config{Store: store, Assignments: store, Policy: engine, Announcements: &catalogtest.Announcements{}, SandboxURL: "http://s", ProductionURL: "http://p"})
	if err != nil {
		tb.Fatal(err)
	}
	files, _ := fs.Sub(deploy.Catalog, "catalog")
	if _, err := cat.LoadFiles(ctx, files); err != nil {
		tb.Fatal(err)
	}
	p, err := store.FindProduct(ctx, "payments")
	if err != nil {
		tb.Fatal(err)
	}
	p.Upstreams = map[string]string{onramp.Production: "http://upstream.bench"}
	if err := store.SaveProduct(ctx, p); err != nil {
		tb.Fatal(err)
	}
	grant := onramp.Grant{Scopes: []string{"payments:read"}, Environments: []string{onramp.Production}, Quota: onramp.Quota{Limit: 1 << 40, Period: "month"}}
	if err := store.SaveAssignment(ctx, onramp.Assignment{OrgID: "org_bench", Product: "payments", Plan: "standard", Grant: grant, UpdatedAt: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	keys, _ := credentials.ParseKeyring("b:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	svc, err := credentials.New(credentials.Config{Store: creds, Assignments: store, Keys: keys, PortalURL: "http://portal"})
	if err != nil {
		tb.Fatal(err)
	}
	_, key, err := svc.Issue(ctx, credentials.Request{OrgID: "org_bench", Environment: onramp.Production, Label: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	quiet, node := slog.New(slog.DiscardHandler), gateway.NewNodeID()
	metrics := gateway.NewMetrics(prometheus.NewRegistry())
	recorder := gateway.NewRecorder(gateway.RecorderConfig{Store: creds, Node: node, Logger: quiet, Metrics: metrics})
	quota := gateway.NewQuota(gateway.QuotaConfig{Store: creds, Node: node, Logger: quiet, Metrics: metrics})
	tb.Cleanup(func() { recorder.Stop(); quota.Stop() })
	gw, err := gateway.New(gateway.Config{Environment: onramp.Production, PortalURL: "http://portal", Credentials: svc, Organizations: activeOrgs{},
		Catalog: store, Assignments: store, Policy: engine, Recorder: recorder, Quota: quota, Metrics: metrics, Logger: quiet, Transport: fixedUpstream{}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(gw.Close)
	return gw, key
}

// benchServe serves the payments listing through h b.N times, as wrk's bench calls it.
func benchServe(b *testing.B, h http.Handler, key string) {
	req := httptest.NewRequest(http.MethodGet, "/payments/v2/payments?limit=3", nil)
	req.Header.Set("X-API-Key", key)
	req.Header.Set("User-Agent", "wrk")
	w := &discardWriter{h: http.Header{}}
	h.ServeHTTP(w, req) // warm the caches: the first call loads from the stores
	if w.status != http.StatusOK {
		b.Fatalf("status %d, want 200", w.status)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.reset()
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("status %d, want 200", w.status)
		}
	}
}

// BenchmarkServeProductionCall is one production call's cost on the gateway, upstream excluded.
func BenchmarkServeProductionCall(b *testing.B) {
	gw, key := MustBenchGateway(b)
	benchServe(b, gw, key)
}

// benchBuffers lends the bare proxy its copy buffers, as gateway/bench's does.
type benchBuffers struct{}

var benchBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (benchBuffers) Get() []byte  { return *benchBufferPool.Get().(*[]byte) }
func (benchBuffers) Put(b []byte) { benchBufferPool.Put(&b) }

// BenchmarkServeBareProxy is the baseline gateway/bench compares with: a reverse proxy that
// checks the key header only, on the same in-process upstream.
func BenchmarkServeBareProxy(b *testing.B) {
	target, _ := url.Parse("http://upstream.bench")
	const key = "k"
	proxy := &httputil.ReverseProxy{Transport: fixedUpstream{}, BufferPool: benchBuffers{}, Rewrite: func(p *httputil.ProxyRequest) {
		p.SetURL(target)
		p.Out.URL.Path = "/payments"
		p.Out.Header.Del("X-Api-Key")
	}}
	benchServe(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		proxy.ServeHTTP(w, r)
	}), key)
}
