package gateway

import (
	"bytes"
	"testing"
)

// Whatever arrives on the exchange's port, open never panics, and accepts only what seal wrote
// with the same key: a datagram it reads back seals to the same bytes.
func FuzzExchangeOpen(f *testing.F) {
	e := &Exchange{key: ExchangeKey("fuzz")}
	sealed, _ := e.seal("gw-0123456789ab", []exchangedTotal{{"org_1:payments:production:1764547200", 42}, {"org_2:maps:sandbox:1764547200", 7}})
	f.Add(sealed)
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 80))
	f.Fuzz(func(t *testing.T, d []byte) {
		node, totals, ok := e.open(d)
		if !ok {
			return
		}
		again, rest := e.seal(node, totals)
		if len(rest) != 0 || !bytes.Equal(again, d) {
			t.Errorf("open accepted %x, which seal writes as %x", d, again)
		}
	})
}

// The exchange keeps the addresses of the nodes it sends to now, not of every node it ever sent
// to: in a deployment whose nodes restart on new ports the cache would grow for the process's life.
func TestExchangeForgetsTheAddressesOfGoneNodes(t *testing.T) {
	e, err := NewExchange(ExchangeConfig{Addr: "127.0.0.1:0", Key: ExchangeKey("test")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	totals := []exchangedTotal{{"org_1:payments:production:1764547200", 1}}
	for _, to := range [][]string{{"127.0.0.1:9", "127.0.0.1:10"}, {"127.0.0.1:10", "127.0.0.1:11"}, {"127.0.0.1:12"}} {
		e.send("gw-a", totals, to)
		e.mu.Lock()
		got := len(e.addrs)
		_, kept := e.addrs[to[0]]
		e.mu.Unlock()
		if got != len(to) || !kept {
			t.Errorf("after sending to %v the exchange holds %d addresses (has the first: %v), want exactly those %d", to, got, kept, len(to))
		}
	}
}
