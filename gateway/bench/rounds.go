package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type roundResults map[string][]wrkResult

// closedLoop warms every participant, then measures each with wrk in alternating rounds (each
// round starts with the next participant), so the shared machine's noise falls on all alike.
func (b *bench) closedLoop(ctx context.Context) (roundResults, error) {
	progress("warming up %d participants", len(b.parts))
	for _, p := range b.parts {
		if _, err := runWrk(ctx, p.url, p.key, b.o.connections, 3*time.Second); err != nil {
			return nil, err
		}
	}
	res := roundResults{}
	for r := range b.o.rounds {
		for i := range b.parts {
			p := b.parts[(i+r)%len(b.parts)]
			w, err := runWrk(ctx, p.url, p.key, b.o.connections, b.o.duration)
			if err != nil {
				return nil, err
			}
			res[p.name] = append(res[p.name], w)
			progress("round %d %-18s %8.0f req/s  p50 %-9s p99 %-9s failed %d", r+1, p.name, w.rps, w.p50, w.p99, w.failed)
		}
	}
	return res, nil
}

type openResults map[string][]openResult

// openLoop sends every participant half of the bare proxy's measured capacity, in two
// alternating rounds.
func (b *bench) openLoop(ctx context.Context, rounds roundResults) (openResults, error) {
	rate := meanRPS(rounds["bare-go"]) / 2
	res := openResults{}
	for r := range 2 {
		for i := range b.parts {
			p := b.parts[(i+r)%len(b.parts)]
			o := openLoop(ctx, p.url, p.key, rate, b.o.openLoop)
			res[p.name] = append(res[p.name], o)
			progress("open loop %d %-18s %6.0f req/s  p50 %-9s p99 %-9s failed %d", r+1, p.name, o.rate, o.p50, o.p99, o.failed)
		}
	}
	return res, ctx.Err()
}

func meanRPS(rs []wrkResult) float64 {
	var sum float64
	for _, r := range rs {
		sum += r.rps
	}
	return sum / float64(max(len(rs), 1))
}

// extra is what the bench learns after the load: accounting, freshness, over-admission.
type extra struct {
	acc       map[string]accounting
	freshness time.Duration
	over      []overResult
}

// afterLoad lets the pipelines flush, then compares what each Onramp answered with what it
// stored, times a call's way to the usage totals, and measures over-admission on FerretDB.
func (b *bench) afterLoad(ctx context.Context) extra {
	b.loadAvg[1] = loadAvg()
	time.Sleep(3 * time.Second) // every usage flush (once a second) has run
	x := extra{acc: map[string]accounting{}}
	for _, p := range b.parts {
		switch {
		case p.self:
			var a accounting
			if err := getJSON(ctx, p.url+"/bench/accounting", &a); err != nil {
				progress("%s accounting: %v", p.name, err)
			}
			x.acc[p.name] = a
		case p.dev != nil:
			metrics, err := getText(ctx, p.dev.ops+"/metrics")
			if err != nil {
				progress("%s metrics: %v", p.name, err)
			}
			x.acc[p.name] = accounting{Served: metricSum(metrics, "onramp_gateway_requests_total{", `environment="production"`),
				Stored: p.dev.stored(ctx), Degraded: metricSum(metrics, "onramp_gateway_usage_degraded_total", "")}
		}
	}
	if dev := b.part("onramp-dev"); dev != nil {
		x.freshness = freshness(ctx, dev)
		for r := range 2 * overRounds { // alternating: through the store only, and with the exchange
			o := overAdmission(ctx, dev.dev.mongoURI, 2, 20_000, 10_000, r%2 == 1)
			progress("quota over-admission of two nodes on FerretDB, exchange %v: %.3f %% over", o.exchange, o.percent())
			x.over = append(x.over, o)
		}
	}
	return x
}

// overRounds is how many over-admission runs the bench makes of each kind: one run's result
// depends on where the quota runs out in the nodes' flush cycles.
const overRounds = 3

// freshness is how long one call takes to show in the usage totals the usage page reads.
func freshness(ctx context.Context, p *participant) time.Duration {
	before := p.dev.stored(ctx)
	req, _ := http.NewRequestWithContext(ctx, "GET", p.url+"/payments/v2/payments?limit=3", nil)
	req.Header.Set("X-API-Key", p.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	sent := time.Now()
	for time.Since(sent) < 10*time.Second {
		if p.dev.stored(ctx) > before {
			return time.Since(sent)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return -1
}

// metricSum adds the values of the Prometheus text lines that start with name and contain match.
func metricSum(text, name, match string) int64 {
	var n float64
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, name) && strings.Contains(line, match) {
			fields := strings.Fields(line)
			v, _ := strconv.ParseFloat(fields[len(fields)-1], 64)
			n += v
		}
	}
	return int64(n)
}

func getText(ctx context.Context, url string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func getJSON(ctx context.Context, url string, out any) error {
	text, err := getText(ctx, url)
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(text), out)
}
