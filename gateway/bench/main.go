// Command bench measures Onramp's gateway as users run it, beside real peers, in one run:
//
//   - onramp-dev: `bin/onramp dev` (embedded FerretDB and Temporal via bin/devstack, usage on), fresh;
//   - onramp-dev-seeded: the same after seeding 1 000 000 recorded calls and 500 published products;
//   - onramp-inmem: the same gateway pipeline on in-memory stores;
//   - bare-go: a tuned httputil.ReverseProxy checking the API-key header only;
//   - nginx-gateway: nginx (Debian) as an API-key gateway: key map, limit_req per key, buffered
//     JSON access log;
//
// all in front of one upstream (nginx answering fixed JSON) and loaded by wrk in alternating
// rounds. Then an open-loop run at half the bare proxy's capacity, two gateway nodes' quota
// over-admission on FerretDB, usage freshness, and whether every call was accounted for. The last
// two lines are the throughput ratios scripts read. `make bench` runs it; docs/benchmarks.md
// records the method and results.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"
)

type options struct {
	rounds       int
	duration     time.Duration
	connections  int
	openLoop     time.Duration
	seedCalls    int
	seedProducts int
	bin          string
}

func main() {
	var o options
	serve := flag.String("serve", "", "internal: serve one participant (bare or inmem) and print its address")
	upstream := flag.String("upstream", "", "internal: the upstream URL the served participant proxies to")
	key := flag.String("key", "", "internal: the API key the bare proxy accepts")
	profile := flag.String("cpuprofile", "", "with -serve: write the participant's CPU profile here when it stops")
	flag.IntVar(&o.rounds, "rounds", 3, "alternating rounds of every participant")
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "length of each wrk measurement")
	flag.IntVar(&o.connections, "connections", 64, "wrk connections (one wrk thread, as wrk -t1 -c64)")
	flag.DurationVar(&o.openLoop, "open-loop", 8*time.Second, "length of each open-loop measurement at half the bare proxy's capacity")
	flag.IntVar(&o.seedCalls, "seed-calls", 1_000_000, "recorded calls seeded into the second embedded stack")
	flag.IntVar(&o.seedProducts, "seed-products", 500, "products published into the second embedded stack")
	flag.StringVar(&o.bin, "bin", "bin", "where onramp, devstack and kratos are")
	flag.Parse()
	if *serve != "" {
		if err := serveParticipant(*serve, *upstream, *key, *profile); err != nil {
			log.Fatal(err)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	b, err := newBench(ctx, o)
	defer b.close()
	if err != nil {
		return err
	}
	rounds, err := b.closedLoop(ctx)
	if err != nil {
		return err
	}
	open, err := b.openLoop(ctx, rounds)
	if err != nil {
		return err
	}
	extra := b.afterLoad(ctx)
	report(os.Stdout, o, b, rounds, open, extra)
	return nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}
