package gateway

// SealTotal signs one counter's total from node as the exchange would with key: tests forge
// datagrams with it.
func SealTotal(key []byte, node, counter string, total int64) []byte {
	d, _ := (&Exchange{key: key}).seal(node, []exchangedTotal{{counter, total}})
	return d
}
