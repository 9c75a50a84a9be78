// Package clientnet names the client a per-client limit counts against.
package clientnet

import "net/netip"

// Of is the client an IP address belongs to for limits: the address itself for IPv4, its /64
// for IPv6, where one client holds a whole prefix and would otherwise get a fresh budget per
// address. Anything that is not an IP address is its own client.
func Of(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Unmap().Is4() {
		return ip
	}
	return netip.PrefixFrom(addr.WithZone(""), 64).Masked().String()
}
