package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
)

// Exchange carries a node's quota totals straight to the other nodes, as UDP datagrams, while a
// counter is near its limit (hot). Through the store a node learns another's total a write
// and a read late: 3-5 ms on FerretDB under load, 15-25 calls at 5 000 calls/s per node, past
// a quota's end. Through the exchange it learns it within one urgent interval (1 ms). The store
// stays the record and the exchange only makes it fresher: a lost datagram costs freshness,
// never a count, and nodes without an exchange read the store as before.
//
// Datagrams are signed with a key every node of a deployment holds (ExchangeKey) and carry
// running totals, which only grow: a forged one is refused, and one replayed, late or out of
// order changes nothing.
type Exchange struct {
	conn    *net.UDPConn
	key     []byte
	metrics *Metrics
	logger  *slog.Logger

	mu      sync.Mutex
	node    string
	deliver func(node, counter string, total int64)
	addrs   map[string]*net.UDPAddr
	done    chan struct{}
}

// ExchangeConfig configures an exchange; Addr and Key are required.
type ExchangeConfig struct {
	// Addr is where the node takes the others' totals (host:port, UDP): an address every other
	// node reaches, published in the node's heartbeat (127.0.0.1:0 when all run on one machine).
	Addr    string
	Key     []byte // ExchangeKey of the deployment's shared secret
	Metrics *Metrics
	Logger  *slog.Logger
}

// ExchangeKey derives the exchange's signing key from the token signing key, which every
// gateway node of a deployment holds already.
func ExchangeKey(tokenSigningKey string) []byte {
	m := hmac.New(sha256.New, []byte(tokenSigningKey))
	m.Write([]byte("onramp gateway quota exchange v1"))
	return m.Sum(nil)
}

// NewExchange listens on cfg.Addr; a Quota configured with it sends and takes totals.
func NewExchange(cfg ExchangeConfig) (*Exchange, error) {
	if len(cfg.Key) < 32 {
		return nil, errors.New("gateway exchange: the key must be at least 32 bytes (ExchangeKey)")
	}
	addr, err := net.ResolveUDPAddr("udp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if addr.IP == nil || addr.IP.IsUnspecified() {
		return nil, fmt.Errorf("gateway exchange: %q names no host; give the address the other nodes reach this one at, such as 10.0.0.5:4004", cfg.Addr)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Exchange{conn: conn, key: cfg.Key, metrics: cfg.Metrics, logger: cfg.Logger, addrs: map[string]*net.UDPAddr{}}, nil
}

// Addr is the address the other nodes send to.
func (e *Exchange) Addr() string { return e.conn.LocalAddr().String() }

// Close stops taking datagrams.
func (e *Exchange) Close() error {
	err := e.conn.Close()
	e.mu.Lock()
	done := e.done
	e.mu.Unlock()
	if done != nil {
		<-done
	}
	return err
}

// start delivers the totals of valid datagrams from other nodes than node, until Close.
func (e *Exchange) start(node string, deliver func(node, counter string, total int64)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done != nil {
		panic("gateway: an Exchange serves one Quota")
	}
	e.node, e.deliver, e.done = node, deliver, make(chan struct{})
	go e.receive()
}

func (e *Exchange) receive() {
	defer close(e.done)
	buf := make([]byte, 2048)
	for {
		n, _, err := e.conn.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		} else if err != nil {
			continue
		}
		from, totals, ok := e.open(buf[:n])
		if !ok || from == e.node {
			e.metrics.exchanged("refused")
			continue
		}
		e.metrics.exchanged("received")
		for _, t := range totals {
			e.deliver(from, t.id, t.total)
		}
	}
}

type exchangedTotal struct {
	id    string
	total int64
}

// datagramAtMost keeps a datagram under the usual path MTU: more totals go in several.
const datagramAtMost = 1200

// send signs the totals into datagrams from node and sends each to every address.
func (e *Exchange) send(node string, totals []exchangedTotal, to []string) {
	var addrs []*net.UDPAddr
	e.mu.Lock()
	for _, a := range to {
		if _, ok := e.addrs[a]; !ok {
			e.addrs = resolved(e.addrs, to)
			break
		}
	}
	for _, a := range to {
		if ua := e.addrs[a]; ua != nil { // a bad address stays nil and is skipped
			addrs = append(addrs, ua)
		}
	}
	e.mu.Unlock()
	for len(totals) > 0 {
		d, rest := e.seal(node, totals)
		for _, a := range addrs {
			if _, err := e.conn.WriteToUDP(d, a); err != nil {
				e.logger.Debug("quota exchange send", "to", a.String(), "error", err)
				continue
			}
			e.metrics.exchanged("sent")
		}
		totals = rest
	}
}

// resolved is the addresses of to, the ones known taken from known: rebuilt when the nodes
// change, so nodes gone (a restart on a new port) leave nothing behind.
func resolved(known map[string]*net.UDPAddr, to []string) map[string]*net.UDPAddr {
	m := make(map[string]*net.UDPAddr, len(to))
	for _, a := range to {
		ua, ok := known[a]
		if !ok {
			ua, _ = net.ResolveUDPAddr("udp", a)
		}
		m[a] = ua
	}
	return m
}

// A datagram: version 1, the sender's node id (one byte of length), the number of totals (two
// bytes), each total's counter id (two bytes of length) and value (eight bytes), then an
// HMAC-SHA256 of all that.
const exchangeVersion = 1

// seal writes as many totals as fit in one datagram and returns the others.
func (e *Exchange) seal(node string, totals []exchangedTotal) ([]byte, []exchangedTotal) {
	d := append(make([]byte, 0, datagramAtMost+sha256.Size), exchangeVersion, byte(len(node)))
	d = append(d, node...)
	countAt := len(d)
	d = append(d, 0, 0)
	k := 0
	for ; k < len(totals) && k < 0xffff; k++ {
		t := totals[k]
		if len(d)+2+len(t.id)+8 > datagramAtMost && k > 0 {
			break
		}
		d = binary.BigEndian.AppendUint16(d, uint16(len(t.id)))
		d = append(d, t.id...)
		d = binary.BigEndian.AppendUint64(d, uint64(t.total))
	}
	binary.BigEndian.PutUint16(d[countAt:], uint16(k))
	m := hmac.New(sha256.New, e.key)
	m.Write(d)
	return m.Sum(d), totals[k:]
}

// open checks a datagram's signature and reads it; anything short, long, unsigned or
// malformed is refused whole.
func (e *Exchange) open(d []byte) (node string, totals []exchangedTotal, ok bool) {
	if len(d) < 4+sha256.Size {
		return "", nil, false
	}
	body, sum := d[:len(d)-sha256.Size], d[len(d)-sha256.Size:]
	m := hmac.New(sha256.New, e.key)
	m.Write(body)
	if !hmac.Equal(sum, m.Sum(nil)) || body[0] != exchangeVersion {
		return "", nil, false
	}
	n := int(body[1])
	if len(body) < 2+n+2 {
		return "", nil, false
	}
	node, body = string(body[2:2+n]), body[2+n:]
	count := int(binary.BigEndian.Uint16(body))
	body = body[2:]
	for range count {
		if len(body) < 2 {
			return "", nil, false
		}
		l := int(binary.BigEndian.Uint16(body))
		if len(body) < 2+l+8 {
			return "", nil, false
		}
		total := int64(binary.BigEndian.Uint64(body[2+l:]))
		if total < 0 {
			return "", nil, false
		}
		totals = append(totals, exchangedTotal{string(body[2 : 2+l]), total})
		body = body[2+l+8:]
	}
	return node, totals, len(body) == 0
}
