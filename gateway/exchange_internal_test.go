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
