package gateway_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/gateway"
)

// feed is a change feed the test writes to; while down it fails like an unreachable store.
type feed struct {
	mu      sync.Mutex
	changes []onramp.Change
	down    atomic.Bool
	reads   atomic.Int64
}

func (f *feed) Changes(_ context.Context, since time.Time) ([]onramp.Change, error) {
	f.reads.Add(1)
	if f.down.Load() {
		return nil, errDown
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []onramp.Change
	for _, c := range f.changes {
		if !c.At.Before(since) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *feed) record(kind, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, onramp.Change{ID: kind + key + time.Now().String(), Kind: kind, Key: key, At: time.Now()})
}

// flakyCredentials counts the credential reads by id and fails every read while down.
type flakyCredentials struct {
	gateway.Credentials
	down  *atomic.Bool
	finds atomic.Int64
}

func (c *flakyCredentials) Lookup(ctx context.Context, key string) (onramp.Credential, error) {
	if c.down.Load() {
		return onramp.Credential{}, errDown
	}
	return c.Credentials.Lookup(ctx, key)
}

func (c *flakyCredentials) Find(ctx context.Context, id string) (onramp.Credential, error) {
	c.finds.Add(1)
	if c.down.Load() {
		return onramp.Credential{}, errDown
	}
	return c.Credentials.Find(ctx, id)
}

// With a change feed, nothing cached is re-read unless it changed: a revocation reaches the
// gateway through the feed within about a second, and only the revoked credential is read again.
func TestRevocationReachesTheGatewayThroughTheChangeFeed(t *testing.T) {
	f := &feed{}
	var creds *flakyCredentials
	h := MustHarness(t, func(c *gateway.Config) {
		if creds == nil {
			creds = &flakyCredentials{Credentials: c.Credentials, down: &f.down}
		}
		c.Credentials, c.Changes, c.RefreshEvery = creds, f, time.Hour
	})
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	other := h.MustOrg(t, "org_2", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	for _, k := range []string{key, other} {
		if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", k, ""); rec.Code != 200 {
			t.Fatalf("before revoking: %d %s", rec.Code, rec.Body)
		}
	}
	cred, _ := h.creds.Lookup(t.Context(), key)
	if _, err := h.creds.Revoke(t.Context(), "org_1", cred.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""); rec.Code != 200 {
		t.Fatalf("revoked without a change: %d, want the cached 200 (nothing is re-read unless it changed)", rec.Code)
	}
	finds := creds.finds.Load()
	f.record(onramp.ChangeCredential, cred.ID)
	changed := time.Now()
	waitUntil(t, 2*time.Second, func() bool { return call(t, h.sandbox, "GET", "/payments/v2/payments", key, "").Code == 401 })
	t.Logf("the revocation applied %s after its change", time.Since(changed).Round(time.Millisecond))
	mustProblem(t, call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""), 401, "revoked-credential")
	if n := creds.finds.Load() - finds; n < 1 || n > 2 { // once per listener
		t.Errorf("%d credential reads after one change, want 1 or 2 (the changed credential, per listener)", n)
	}
	if f.reads.Load() < 2 {
		t.Errorf("the feed was read %d times, want it polled", f.reads.Load())
	}
}

// Through a store outage the gateway answers from memory: known keys keep working, a key revoked
// before stays refused, an unknown key is refused at once, and every call is counted and written
// once the store is back.
func TestStoreOutageServesFromMemory(t *testing.T) {
	f := &feed{}
	var creds *flakyCredentials
	h := MustHarness(t, func(c *gateway.Config) {
		if creds == nil {
			creds = &flakyCredentials{Credentials: c.Credentials, down: &f.down}
		}
		c.Credentials, c.Changes, c.RefreshEvery = creds, f, time.Hour
	})
	store := &downStore{Memory: h.usage}
	r, q := h.mustNode(t, store)
	g := h.mustGateway(t, onramp.Sandbox, r, q)
	known := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 1000, onramp.Sandbox)
	revoked := h.MustOrg(t, "org_2", []string{onramp.Sandbox}, 1000, onramp.Sandbox)
	for _, k := range []string{known, revoked} {
		if rec := call(t, g, "GET", "/payments/v2/payments", k, ""); rec.Code != 200 {
			t.Fatalf("before the outage: %d %s", rec.Code, rec.Body)
		}
	}
	cred, _ := h.creds.Lookup(t.Context(), revoked)
	if _, err := h.creds.Revoke(t.Context(), "org_2", cred.ID); err != nil {
		t.Fatal(err)
	}
	f.record(onramp.ChangeCredential, cred.ID)
	waitUntil(t, 2*time.Second, func() bool { return call(t, g, "GET", "/payments/v2/payments", revoked, "").Code == 401 })

	f.down.Store(true)
	store.down.Store(true)
	time.Sleep(2 * 250 * time.Millisecond) // the refresher notices
	served := 0
	for i := range 50 {
		if rec := call(t, g, "GET", "/payments/v2/payments", known, ""); rec.Code != 200 {
			t.Fatalf("known key, call %d during the outage: %d %s", i, rec.Code, rec.Body)
		}
		served++
	}
	mustProblem(t, call(t, g, "GET", "/payments/v2/payments", revoked, ""), 401, "revoked-credential")
	unknown := onramp.SandboxKeyPrefix + strings.Repeat("b", onramp.KeyRandomLength)
	started := time.Now()
	mustProblem(t, call(t, g, "GET", "/payments/v2/payments", unknown, ""), 503, "unavailable")
	if took := time.Since(started); took > 100*time.Millisecond {
		t.Errorf("an unknown key took %s to be refused, want it refused at once", took)
	}

	f.down.Store(false)
	store.down.Store(false)
	r.Stop()
	now := time.Now().UTC()
	totals, err := h.usage.UsageTotals(t.Context(), "org_1", "payments", onramp.Sandbox, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil || len(totals.Days) != 1 || totals.Days[0].Calls != int64(served+1) {
		t.Errorf("org_1's usage after the outage = %+v, %v; want the %d calls (one before, %d during)", totals, err, served+1, served)
	}
}

// The gateway's metrics count calls by product, operation and status class, cache hits and
// quota refusals, with bounded labels (no organisation, key or path).
func TestMetricsCountCallsWithBoundedLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := gateway.NewMetrics(reg)
	h := MustHarness(t, func(c *gateway.Config) { c.Metrics = m })
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 3, onramp.Sandbox)
	for range 4 {
		call(t, h.sandbox, "GET", "/payments/v2/payments", key, "")
	}
	call(t, h.sandbox, "GET", "/nothing/v1/x", key, "")
	call(t, h.sandbox, "GET", "/payments/v2/payments", "", "")
	got := gathered(t, reg)
	for series, want := range map[string]float64{
		`onramp_gateway_requests_total{class="2xx",environment="sandbox",operation="listPayments",product="payments",version="v2"}`: 3,
		`onramp_gateway_requests_total{class="4xx",environment="sandbox",operation="listPayments",product="payments",version="v2"}`: 1,
		`onramp_gateway_requests_total{class="4xx",environment="sandbox",operation="-",product="-",version="-"}`:                    2,
		`onramp_gateway_quota_refusals_total{environment="sandbox",product="payments"}`:                                             1,
		`onramp_gateway_request_duration_seconds_count{class="2xx",environment="sandbox",product="payments"}`:                       3,
		`onramp_gateway_cache_lookups_total{cache="credentials",result="miss"}`:                                                     1,
		`onramp_gateway_cache_lookups_total{cache="credentials",result="hit"}`:                                                      4,
		`onramp_gateway_cache_lookups_total{cache="decisions",result="miss"}`:                                                       1,
	} {
		if got[series] != want {
			t.Errorf("%s = %v, want %v", series, got[series], want)
		}
	}
	for series := range got {
		if strings.Contains(series, "org_1") || strings.Contains(series, key) {
			t.Errorf("a series names the organisation or the key: %s", series)
		}
	}
}

// gathered flattens a registry into "name{labels}" → value.
func gathered(tb testing.TB, reg *prometheus.Registry) map[string]float64 {
	tb.Helper()
	families, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			name := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				out[name] = m.Counter.GetValue()
			case m.Histogram != nil:
				out[f.GetName()+"_count{"+strings.Join(labels, ",")+"}"] = float64(m.Histogram.GetSampleCount())
			case m.Gauge != nil:
				out[name] = m.Gauge.GetValue()
			}
		}
	}
	return out
}

// A version that passes its sunset is retired (onramp.PhaseAt): no write announces it, yet the
// gateway follows at once, answering 410 Gone.
func TestSunsetReachesTheGatewayWithoutAWrite(t *testing.T) {
	f := &feed{}
	h := MustHarness(t, func(c *gateway.Config) { c.Changes, c.RefreshEvery = f, time.Hour })
	key := h.MustOrg(t, "org_1", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	sunset := time.Now().Add(500 * time.Millisecond)
	versions, err := h.catalog.ListVersions(t.Context(), "payments")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		v.Status, v.Sunset = onramp.VersionDeprecated, &sunset
		if err := h.catalog.UpdateVersion(t.Context(), v); err != nil {
			t.Fatal(err)
		}
	}
	if rec := call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""); rec.Code != 200 {
		t.Fatalf("before the sunset: %d %s", rec.Code, rec.Body)
	}
	waitUntil(t, 2*time.Second, func() bool { return call(t, h.sandbox, "GET", "/payments/v2/payments", key, "").Code == 410 })
	if time.Now().Before(sunset) {
		t.Fatal("refused before the sunset")
	}
	mustProblem(t, call(t, h.sandbox, "GET", "/payments/v2/payments", key, ""), 410, "version-gone")
}
