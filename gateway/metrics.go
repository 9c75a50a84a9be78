package gateway

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the data plane's Prometheus metrics. Label values are bounded: environments,
// the published catalog's products, versions and operations ("-" before a call is routed),
// status classes and cache names; never an organisation, a key or a path. A nil *Metrics
// records nothing.
type Metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	decisions    *prometheus.HistogramVec
	cache        *prometheus.CounterVec
	quotaRefused *prometheus.CounterVec
	queueDepth   prometheus.Gauge
	flushSeconds prometheus.Histogram
	flushErrors  prometheus.Counter
	quotaFlush   *prometheus.HistogramVec
	exchange     *prometheus.CounterVec
	degradedCnt  prometheus.Counter
	storeUp      *prometheus.GaugeVec
	ops          sync.Map // opLabels → *opMetrics: the hot path looks its series up once
}

// NewMetrics registers the gateway's metrics with reg; it panics if they are registered already.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	buckets := []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onramp_gateway_requests_total",
			Help: "Calls answered by the gateway, by product, version, operation and status class."}, []string{"environment", "product", "version", "operation", "class"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "onramp_gateway_request_duration_seconds",
			Help: "Time from a call's arrival to its answer, upstream included.", Buckets: buckets}, []string{"environment", "product", "class"}),
		decisions: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "onramp_gateway_policy_decision_seconds",
			Help: "Time of policy evaluations the decision cache did not answer.", Buckets: []float64{.00001, .000025, .00005, .0001, .00025, .001, .01}}, []string{"decision"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onramp_gateway_cache_lookups_total",
			Help: "Cache lookups on the request path, by cache and result (hit or miss)."}, []string{"cache", "result"}),
		quotaRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onramp_gateway_quota_refusals_total",
			Help: "Calls refused because the quota was used."}, []string{"environment", "product"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{Name: "onramp_gateway_usage_queue_depth",
			Help: "Logged calls waiting to be written to the store."}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "onramp_gateway_usage_flush_seconds",
			Help: "Time of one usage flush (heartbeat, totals, call log).", Buckets: buckets}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "onramp_gateway_usage_flush_errors_total",
			Help: "Usage flushes that failed (retried with newer totals at the next one)."}),
		quotaFlush: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "onramp_gateway_quota_flush_seconds",
			Help: "Time to write this node's quota totals and read the other nodes' (kind: full, hot or urgent).", Buckets: buckets}, []string{"kind"}),
		exchange: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "onramp_gateway_quota_exchange_datagrams_total",
			Help: "Quota exchange datagrams between gateway nodes, by result: sent, received, or refused (unsigned, malformed or from this node)."}, []string{"result"}),
		degradedCnt: prometheus.NewCounter(prometheus.CounterOpts{Name: "onramp_gateway_usage_degraded_total",
			Help: "Calls counted in the usage totals but not kept in the recent-calls log (log budget or write buffer full)."}),
		storeUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "onramp_gateway_store_up",
			Help: "1 while the gateway's last background read of the store succeeded."}, []string{"environment"}),
	}
	reg.MustRegister(m.requests, m.latency, m.decisions, m.cache, m.quotaRefused, m.queueDepth, m.flushSeconds, m.flushErrors, m.quotaFlush, m.exchange, m.degradedCnt, m.storeUp)
	return m
}

type opLabels struct{ env, product, version, operation string }

// opMetrics are one operation's series, one per status class (1xx … 5xx).
type opMetrics struct {
	requests [6]prometheus.Counter
	latency  [6]prometheus.Observer
}

// call counts one answered call and its duration.
func (m *Metrics) call(env, product, version, operation string, status int, took time.Duration) {
	if m == nil {
		return
	}
	if product == "" {
		product, version, operation = "-", "-", "-"
	}
	k := opLabels{env, product, version, operation}
	v, ok := m.ops.Load(k)
	if !ok {
		om := &opMetrics{}
		for c := 1; c <= 5; c++ {
			class := strconv.Itoa(c) + "xx"
			om.requests[c] = m.requests.WithLabelValues(env, product, version, operation, class)
			om.latency[c] = m.latency.WithLabelValues(env, product, class)
		}
		v, _ = m.ops.LoadOrStore(k, om)
	}
	c := min(max(status/100, 1), 5)
	om := v.(*opMetrics)
	om.requests[c].Inc()
	om.latency[c].Observe(took.Seconds())
}

func (m *Metrics) decided(decision string, took time.Duration) {
	if m != nil {
		m.decisions.WithLabelValues(decision).Observe(took.Seconds())
	}
}

// cacheCounters are a cache's hit and miss counters (nil without metrics).
func (m *Metrics) cacheCounters(name string) (hit, miss prometheus.Counter) {
	if m == nil {
		return nil, nil
	}
	return m.cache.WithLabelValues(name, "hit"), m.cache.WithLabelValues(name, "miss")
}

func (m *Metrics) quotaRefusal(env, product string) {
	if m != nil {
		m.quotaRefused.WithLabelValues(env, product).Inc()
	}
}

func (m *Metrics) queue(n int) {
	if m != nil {
		m.queueDepth.Set(float64(n))
	}
}

func (m *Metrics) degraded() {
	if m != nil {
		m.degradedCnt.Inc()
	}
}

func (m *Metrics) flushed(took time.Duration, err error) {
	if m == nil {
		return
	}
	m.flushSeconds.Observe(took.Seconds())
	if err != nil {
		m.flushErrors.Inc()
	}
}

func (m *Metrics) quotaFlushed(kind int, took time.Duration) {
	if m != nil {
		m.quotaFlush.WithLabelValues([]string{"full", "hot", "urgent"}[kind]).Observe(took.Seconds())
	}
}

func (m *Metrics) exchanged(result string) {
	if m != nil {
		m.exchange.WithLabelValues(result).Inc()
	}
}

func (m *Metrics) store(env string, up bool) {
	if m == nil {
		return
	}
	v := 0.0
	if up {
		v = 1
	}
	m.storeUp.WithLabelValues(env).Set(v)
}
