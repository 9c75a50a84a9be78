package gateway_test

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/gateway"
)

// blindStore keeps every node's counts but reads back none of the other nodes': what a node
// learns of them, it learns through the exchange.
type blindStore struct {
	*credentialstest.Memory
	self string
}

func (s blindStore) QuotaCounts(ctx context.Context, ids, nodes []string) (map[string]int64, error) {
	return s.Memory.QuotaCounts(ctx, ids, slices.DeleteFunc(slices.Clone(nodes), func(n string) bool { return n != s.self }))
}

type exchangeNode struct {
	id string
	ex *gateway.Exchange
	q  *gateway.Quota
}

// exchangeNodes starts n nodes on one store, each reading only its own counts back from it; with
// exchange, each has one, signed with key.
func exchangeNodes(t *testing.T, n int, key []byte, exchange bool, reg prometheus.Registerer) []exchangeNode {
	t.Helper()
	mem := credentialstest.NewMemory()
	nodes := make([]exchangeNode, n)
	for i := range nodes {
		nodes[i].id = gateway.NewNodeID()
		addr := ""
		if exchange {
			var m *gateway.Metrics
			if i == 0 && reg != nil {
				m = gateway.NewMetrics(reg)
			}
			ex, err := gateway.NewExchange(gateway.ExchangeConfig{Addr: "127.0.0.1:0", Key: key, Metrics: m})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ex.Close() })
			nodes[i].ex, addr = ex, ex.Addr()
		}
		if err := mem.SaveNode(t.Context(), onramp.GatewayNode{ID: nodes[i].id, StartedAt: time.Now(), SeenAt: time.Now(), Exchange: addr}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range nodes {
		nodes[i].q = gateway.NewQuota(gateway.QuotaConfig{Store: blindStore{mem, nodes[i].id}, Node: nodes[i].id, Exchange: nodes[i].ex})
		t.Cleanup(nodes[i].q.Stop)
	}
	return nodes
}

func exchangeWindow() gateway.Window {
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return gateway.Window{OrgID: "org_1", Product: "payments", Environment: onramp.Production, Quota: onramp.Quota{Limit: 100, Period: "month"}, Start: start, Reset: start.AddDate(0, 1, 0)}
}

// A node about to run out of a quota sends its total to the other nodes: they count it without
// the store. Datagrams not signed with the deployment's key, malformed, or claiming to come from
// the node itself change nothing.
func TestExchangeCarriesUrgentTotalsAndRefusesForgedOnes(t *testing.T) {
	key := gateway.ExchangeKey("dev1:c2VjcmV0IHNlZWQgb2YgdGhpcnR5LXR3byBieXRlcyE=")
	reg := prometheus.NewRegistry()
	nodes := exchangeNodes(t, 2, key, true, reg)
	a, b := nodes[0], nodes[1]
	w := exchangeWindow()
	counter := onramp.CounterID(w.OrgID, w.Product, w.Environment, w.Start)
	if got := a.q.Remaining(t.Context(), w); got != 100 {
		t.Fatalf("remaining on a = %d, want 100", got)
	}

	// An attacker who reaches a's exchange address, without the key.
	conn, err := net.Dial("udp", a.ex.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	valid := gateway.SealTotal(key, b.id, counter, 99)
	forged := [][]byte{
		gateway.SealTotal(gateway.ExchangeKey("another deployment"), b.id, counter, 99), // wrong key
		valid[:len(valid)-1],                           // cut short
		append(slices.Clone(valid), 0),                 // a byte more
		gateway.SealTotal(key[:31], b.id, counter, 99), // a key that differs at the end
		gateway.SealTotal(key, a.id, counter, 99),      // from a itself (its own count is its own)
		[]byte("not a datagram at all, just some bytes to refuse"),
	}
	for _, d := range forged {
		if _, err := conn.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 2*time.Second, func() bool { return datagrams(t, reg, "refused") == float64(len(forged)) })
	if got := a.q.Remaining(t.Context(), w); got != 100 {
		t.Fatalf("remaining on a after forged datagrams = %d, want 100 (nothing heard)", got)
	}

	// b uses 98 of the quota at once: urgent, it sends its total, which a counts.
	for range 98 {
		if ok, _ := b.q.Take(t.Context(), w); !ok {
			t.Fatal("b refused a call under the quota")
		}
	}
	waitUntil(t, 2*time.Second, func() bool { return a.q.Remaining(t.Context(), w) <= 5 })
	waitUntil(t, 2*time.Second, func() bool { return a.q.Remaining(t.Context(), w) == 2 })
	// An old total, replayed, lowers nothing.
	before := datagrams(t, reg, "received")
	if _, err := conn.Write(gateway.SealTotal(key, b.id, counter, 50)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 2*time.Second, func() bool { return datagrams(t, reg, "received") > before })
	if got := a.q.Remaining(t.Context(), w); got != 2 {
		t.Errorf("remaining on a after a replayed lower total = %d, want still 2", got)
	}
	ok1, _ := a.q.Take(t.Context(), w)
	ok2, _ := a.q.Take(t.Context(), w)
	ok3, _ := a.q.Take(t.Context(), w)
	if !ok1 || !ok2 || ok3 {
		t.Errorf("a's last calls admitted %v %v %v, want the 2 left and then a refusal", ok1, ok2, ok3)
	}
}

// Without the exchange, the same store tells a nothing of b's calls: the test above would fail
// without it.
func TestWithoutExchangeTheBlindStoreTellsNothing(t *testing.T) {
	nodes := exchangeNodes(t, 2, nil, false, nil)
	w := exchangeWindow()
	for range 98 {
		nodes[1].q.Take(t.Context(), w)
	}
	time.Sleep(200 * time.Millisecond) // several urgent and hot flushes
	if got := nodes[0].q.Remaining(t.Context(), w); got != 100 {
		t.Errorf("remaining on a = %d, want 100: the store reads back no other node's count", got)
	}
}

// datagrams is the exchange's datagram count of one result, from the metrics.
func datagrams(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "onramp_gateway_quota_exchange_datagrams_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
