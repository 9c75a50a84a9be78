package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"time"
)

// report prints the run's tables, the targets, and last the two ratio lines scripts read.
func report(w io.Writer, o options, b *bench, rounds roundResults, open openResults, x extra) {
	fmt.Fprintf(w, "\nOnramp gateway benchmark: %d CPUs (shared with other work; load average %s before, %s after), %s\n", runtime.NumCPU(), b.loadAvg[0], b.loadAvg[1], runtime.Version())
	fmt.Fprintf(w, "Method: wrk -t1 -c%d -d%s --latency, GET /payments/v2/payments?limit=3 with a production key, %d alternating rounds after a 3 s warm-up; one nginx upstream answering fixed JSON.\n",
		o.connections, o.duration, o.rounds)
	for _, d := range b.devs {
		data := "a fresh data directory (the demo catalog, one organisation)"
		if d.seededCalls > 0 {
			data = fmt.Sprintf("%s recorded calls of 1000 organisations over 30 days and %d published products besides the demo catalog", thousands(float64(d.seededCalls)), d.seededProduct)
		}
		fmt.Fprintf(w, "Data, %s: %s; FerretDB files %.0f MB.\n", strings.TrimPrefix(d.dir[strings.LastIndex(d.dir, "/")+1:], ""), data, float64(dirSize(d.dir+"/mongo"))/1e6)
	}
	bare, ngx := rounds["bare-go"], rounds["nginx-gateway"]
	fmt.Fprintln(w, "\n| participant | req/s (mean) | per round | p50 | p99 | × bare-go req/s | × nginx-gateway req/s | p99 ÷ bare-go p99 | failed |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, p := range b.parts {
		rs := rounds[p.name]
		var per []string
		var failed int64
		for _, r := range rs {
			per = append(per, thousands(r.rps))
			failed += r.failed
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %d |\n", p.name, thousands(meanRPS(rs)), strings.Join(per, " / "),
			ms(meanP(rs, 50)), ms(meanP(rs, 99)), meanRPS(rs)/meanRPS(bare), meanRPS(rs)/meanRPS(ngx), float64(meanP(rs, 99))/float64(meanP(bare, 99)), failed)
	}
	reportOpenLoop(w, o, b, open)
	reportAccounting(w, b, x)
	reportOverAdmission(w, x.over)
	fmt.Fprintf(w, "\nUsage freshness: a call was in the usage totals the usage page reads %s after its answer.\n", x.freshness.Round(time.Millisecond))
	dev, seeded := ratios(rounds, "onramp-dev"), ratios(rounds, "onramp-dev-seeded")
	fmt.Fprintf(w, "\nRatios of the embedded stack (fresh / seeded): × bare-go %.2f / %.2f, × nginx-gateway %.2f / %.2f; the lines below take the lower.\n", dev[0], seeded[0], dev[1], seeded[1])
	fmt.Fprintf(w, "gateway/bare-go throughput ratio: %.2f\n", math.Min(dev[0], seeded[0]))
	fmt.Fprintf(w, "gateway/nginx-gateway throughput ratio: %.2f\n", math.Min(dev[1], seeded[1]))
}

func reportOpenLoop(w io.Writer, o options, b *bench, open openResults) {
	bare := open["bare-go"]
	if len(bare) == 0 {
		return
	}
	fmt.Fprintf(w, "\nOpen loop at half of bare-go's capacity: %s req/s, %d rounds of %s, latency from each call's scheduled start.\n", thousands(bare[0].rate), len(bare), o.openLoop)
	fmt.Fprintln(w, "\n| participant | p50 | p99 | added p50 vs bare-go | added p99 vs bare-go | failed |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, p := range b.parts {
		rs := open[p.name]
		var failed int
		for _, r := range rs {
			failed += r.failed
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d |\n", p.name, ms(meanOpen(rs, 50)), ms(meanOpen(rs, 99)),
			ms(meanOpen(rs, 50)-meanOpen(bare, 50)), ms(meanOpen(rs, 99)-meanOpen(bare, 99)), failed)
	}
}

func reportAccounting(w io.Writer, b *bench, x extra) {
	fmt.Fprintln(w, "\nEvery call accounted for: what each Onramp answered (its own count) against its usage totals in the store.")
	fmt.Fprintln(w, "\n| participant | calls answered | in the usage totals | unaccounted | counted only, not in the call log |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, p := range b.parts {
		if a, ok := x.acc[p.name]; ok {
			fmt.Fprintf(w, "| %s | %s | %s | %d | %s |\n", p.name, thousands(float64(a.Served)), thousands(float64(a.Stored)), a.Served-a.Stored, thousands(float64(a.Degraded)))
		}
	}
}

// ratios are a participant's mean throughput over bare-go's and over nginx-gateway's.
func ratios(rounds roundResults, name string) [2]float64 {
	rs := meanRPS(rounds[name])
	return [2]float64{rs / meanRPS(rounds["bare-go"]), rs / meanRPS(rounds["nginx-gateway"])}
}

func meanP(rs []wrkResult, p int) time.Duration {
	var sum time.Duration
	for _, r := range rs {
		sum += map[int]time.Duration{50: r.p50, 90: r.p90, 99: r.p99}[p]
	}
	return sum / time.Duration(max(len(rs), 1))
}

func meanOpen(rs []openResult, p int) time.Duration {
	var sum time.Duration
	for _, r := range rs {
		if p == 50 {
			sum += r.p50
		} else {
			sum += r.p99
		}
	}
	return sum / time.Duration(max(len(rs), 1))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// thousands formats n rounded, with thin spaces between thousands: 10 300.
func thousands(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	out = append([]string{s}, out...)
	if neg {
		return "-" + strings.Join(out, " ")
	}
	return strings.Join(out, " ")
}

// reportOverAdmission prints each kind's runs and their mean; the exchange's is the gateway's as
// `onramp dev` runs it.
func reportOverAdmission(w io.Writer, runs []overResult) {
	if len(runs) == 0 {
		return
	}
	o := runs[0]
	fmt.Fprintf(w, "\nQuota over-admission, %d gateway nodes on FerretDB (a client each), quota %s at %s calls/s, %d alternating runs of each:\n\n",
		o.nodes, thousands(float64(o.limit)), thousands(float64(o.rate)), overRounds)
	fmt.Fprintln(w, "| nodes learn each other's totals | admitted, per run | over, per run | over (mean) |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, exchange := range []bool{false, true} {
		var admitted, over []string
		var sum float64
		n := 0
		for _, r := range runs {
			if r.exchange != exchange {
				continue
			}
			if r.err != nil {
				over = append(over, "error: "+r.err.Error())
				continue
			}
			admitted, over = append(admitted, thousands(float64(r.admitted))), append(over, fmt.Sprintf("%.3f %%", r.percent()))
			sum += r.percent()
			n++
		}
		how := "through the store only"
		if exchange {
			how = "with the quota exchange (as onramp dev runs)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.3f %% |\n", how, strings.Join(admitted, " / "), strings.Join(over, " / "), sum/float64(max(n, 1)))
	}
}
