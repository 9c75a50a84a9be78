package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// openResult is one open-loop measurement: latencies from each call's scheduled start, so a slow
// answer delays no later call's measurement (no coordinated omission).
type openResult struct {
	rate     float64
	sent     int
	failed   int
	p50, p99 time.Duration
}

// openConnections is how many keep-alive connections the open-loop generator keeps: calls wait
// for a free one, and that wait counts as latency.
const openConnections = 64

// openLoop sends calls to base at a fixed rate for d. It writes each request as prepared bytes and
// reads the answer by its length on raw keep-alive connections: the generator costs about what
// wrk does, so at half of the bare proxy's capacity it is not what saturates the machine.
func openLoop(ctx context.Context, base, key string, rate float64, d time.Duration) openResult {
	host := strings.TrimPrefix(base, "http://")
	req := []byte("GET /payments/v2/payments?limit=3 HTTP/1.1\r\nHost: " + host + "\r\nX-API-Key: " + key + "\r\n\r\n")
	n := int(rate * d.Seconds())
	lat := make([]time.Duration, n)
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now().Add(100 * time.Millisecond)
	work := make(chan int, n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range openConnections {
		wg.Go(func() {
			var c net.Conn
			var br *bufio.Reader
			for i := range work {
				if c == nil {
					var err error
					if c, err = net.Dial("tcp", host); err != nil {
						failed.Add(1)
						c = nil
						continue
					}
					br = bufio.NewReader(c)
				}
				_, err := c.Write(req)
				status := 0
				if err == nil {
					status, err = readAnswer(br)
				}
				lat[i] = time.Since(start.Add(time.Duration(i) * interval))
				if err != nil || status != 200 {
					failed.Add(1)
				}
				if err != nil {
					c.Close()
					c = nil
				}
			}
			if c != nil {
				c.Close()
			}
		})
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		work <- i
	}
	close(work)
	wg.Wait()
	slices.Sort(lat)
	return openResult{rate: rate, sent: n, failed: int(failed.Load()), p50: lat[n/2], p99: lat[n*99/100]}
}

// readAnswer reads one HTTP/1.1 answer (Content-Length or chunked) and returns its status.
func readAnswer(br *bufio.Reader) (int, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, _ := strconv.Atoi(fields[1])
	length, chunked := -1, false
	for {
		h, err := br.ReadString('\n')
		if err != nil {
			return status, err
		}
		h = strings.TrimSpace(h)
		if h == "" {
			break
		}
		name, value, _ := strings.Cut(h, ":")
		switch strings.ToLower(name) {
		case "content-length":
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		case "transfer-encoding":
			chunked = strings.Contains(strings.ToLower(value), "chunked")
		}
	}
	if chunked {
		return status, readChunks(br)
	}
	_, err = io.CopyN(io.Discard, br, int64(max(length, 0)))
	return status, err
}

func readChunks(br *bufio.Reader) error {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		size, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(line, ";", 2)[0]), 16, 64)
		if err != nil {
			return err
		}
		if _, err := io.CopyN(io.Discard, br, size+2); err != nil { // the chunk and its CRLF
			return err
		}
		if size == 0 {
			return nil
		}
	}
}
