package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/gateway"
	"github.com/onramp-dev/onramp/mongo"
)

// overResult is how far past a quota gateway nodes admitted calls.
type overResult struct {
	nodes           int
	limit, admitted int64
	rate            int
	exchange        bool // the nodes sent each other their urgent totals (gateway.Exchange)
	err             error
}

func (o overResult) percent() float64 { return float64(o.admitted-o.limit) * 100 / float64(o.limit) }

// overAdmission runs n quota counters as n gateway nodes, each with a MongoDB client of its own
// on the embedded FerretDB (and, with exchange, a quota exchange on loopback, as `onramp dev`
// starts them), taking calls of one organisation at a steady total rate until well past the
// quota, and counts what they admitted.
func overAdmission(ctx context.Context, uri string, nodes int, limit int64, rate int, exchange bool) overResult {
	res := overResult{nodes: nodes, limit: limit, rate: rate, exchange: exchange}
	key := gateway.ExchangeKey(randomBase32(32))
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	w := gateway.Window{OrgID: "org_overadmission_" + randomBase32(8), Product: "payments", Environment: onramp.Production,
		Quota: onramp.Quota{Limit: limit, Period: "month"}, Start: start, Reset: start.AddDate(0, 1, 0)}
	var quotas []*gateway.Quota
	for range nodes {
		db, err := mongo.OpenWith(ctx, uri, mongo.Options{AppName: "bench-quota", MaxPoolSize: 8, Timeout: 2 * time.Second})
		if err != nil {
			res.err = err
			return res
		}
		defer db.Close(context.Background())
		store, id := mongo.NewUsage(db), gateway.NewNodeID()
		var ex *gateway.Exchange
		addr := ""
		if exchange {
			if ex, res.err = gateway.NewExchange(gateway.ExchangeConfig{Addr: "127.0.0.1:0", Key: key}); res.err != nil {
				return res
			}
			defer ex.Close()
			addr = ex.Addr()
		}
		if res.err = store.SaveNode(ctx, onramp.GatewayNode{ID: id, StartedAt: now, SeenAt: now, Exchange: addr}); res.err != nil {
			return res
		}
		quotas = append(quotas, gateway.NewQuota(gateway.QuotaConfig{Store: store, Node: id, Exchange: ex}))
	}
	var admitted atomic.Int64
	var wg sync.WaitGroup
	per := time.Second * time.Duration(nodes) / time.Duration(rate) // each node's interval between calls
	// Out of phase with the once-a-second flushes, so the quota does not run out just as the
	// nodes read each other's totals (it would, 2 s after a start in phase).
	begin := time.Now().Add(370 * time.Millisecond)
	deadline := begin.Add(time.Duration(float64(limit)/float64(rate)*float64(time.Second)) + 3*time.Second)
	for _, q := range quotas {
		wg.Go(func() {
			defer q.Stop()
			time.Sleep(time.Until(begin))
			next := time.Now()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if ok, _ := q.Take(ctx, w); ok {
					admitted.Add(1)
				}
				next = next.Add(per)
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
			}
		})
	}
	wg.Wait()
	res.admitted = admitted.Load()
	return res
}
