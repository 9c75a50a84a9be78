package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/stack"
)

// nodeCall is one answer a client got from a gateway node.
type nodeCall struct {
	node          int
	status        int
	start, answer time.Time
}

// Six clients on two gateway nodes, some calling a path that does not exist: the usage page counts
// every call exactly once and exactly the calls admitted against the quota; the nodes admit at
// least the quota and at most the documented bound more; a node that refused once never admits
// again; each alert is raised once.
func TestE2EUsageExactAcrossNodes(t *testing.T) {
	st := MustSharedStack(t)
	org, token := MustPartnerSession(t, st, "Exact", "standard")
	_, key := MustFirstSandboxKey(t, st, org, token)
	second := MustSecondGateway(t, st)
	const limit, clients, calls = 120, 6, 40
	probes := mustQuotaOf(t, st, org, key, limit, st.SandboxURL, second.SandboxURL)

	var mu sync.Mutex
	var got []nodeCall
	var wg sync.WaitGroup
	for c := range clients {
		node, base := c%2, st.SandboxURL
		if node == 1 {
			base = second.SandboxURL
		}
		wg.Go(func() {
			for i := range calls {
				path := "/payments/v2/payments"
				if i%8 == 7 {
					path = "/payments/v2/nowhere"
				}
				start := time.Now()
				status, _, _ := gatewayCall(t, "GET", base+path, key, "")
				mu.Lock()
				got = append(got, nodeCall{node, status, start, time.Now()})
				mu.Unlock()
				time.Sleep(15 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	statuses := map[int]int{}
	for _, c := range got {
		statuses[c.status]++
	}
	// Three clients per node, each pausing 15 ms after a call: at most 200 calls/s per node.
	bound := quotaBound(limit, 2, 200)
	t.Logf("statuses: %v (quota %d, bound %d)", statuses, limit, bound)
	if statuses[404] != clients*calls/8 || statuses[200] < limit || int64(statuses[200]) > bound || statuses[200]+statuses[429]+statuses[404] != clients*calls {
		t.Fatalf("statuses = %v, want %d 404s, at least %d and at most %d admitted, the rest 429", statuses, clients*calls/8, limit, bound)
	}
	for node := range 2 {
		refused := time.Time{}
		for _, c := range got {
			if c.node == node && c.status == 429 && (refused.IsZero() || c.answer.Before(refused)) {
				refused = c.answer
			}
		}
		for _, c := range got {
			if c.node == node && c.status == 200 && c.start.After(refused) && !refused.IsZero() {
				t.Errorf("node %d admitted a call started %s after it first refused one", node, c.start.Sub(refused))
			}
		}
	}
	// The nodes sent each other their totals near the end (the quota exchange), and refused none.
	sent, received, refused := 0.0, 0.0, 0.0
	for _, node := range []*stack.Stack{st, second} {
		metrics := mustGetText(t, node.GatewayOpsURL+"/metrics")
		sent += promValue(metrics, `onramp_gateway_quota_exchange_datagrams_total{result="sent"}`)
		received += promValue(metrics, `onramp_gateway_quota_exchange_datagrams_total{result="received"}`)
		refused += promValue(metrics, `onramp_gateway_quota_exchange_datagrams_total{result="refused"}`)
	}
	if sent == 0 || received == 0 || refused != 0 {
		t.Errorf("quota exchange datagrams: %v sent, %v received, %v refused; want some sent and received, none refused", sent, received, refused)
	}
	var l usageLine
	waitFor(t, 3*time.Second, "every call on the usage page", func() bool {
		l = usageLineOf(t, mustUsage(t, st, org, token), "payments")
		return l.Calls == int64(clients*calls+probes) && l.Used == int64(statuses[200])
	})
	if l.Errors != int64(statuses[404]+statuses[429]+probes) {
		t.Errorf("usage errors = %d, want the %d 404s and 429s and the %d probes of the quota", l.Errors, statuses[404]+statuses[429], probes)
	}
	var ids []string
	waitFor(t, 10*time.Second, "the 80 % and 95 % alerts", func() bool {
		ids = notificationIDs(t, st, org, token, "quota-alert-")
		return len(ids) >= 2
	})
	time.Sleep(2 * time.Second) // a duplicate from the other node would arrive by now
	ids = notificationIDs(t, st, org, token, "quota-alert-")
	slices.Sort(ids)
	if len(ids) != 2 || !strings.HasSuffix(ids[0], "-80") || !strings.HasSuffix(ids[1], "-95") {
		t.Errorf("alerts = %v, want one at 80 %% and one at 95 %%", ids)
	}
}

// MustOwnStack starts a stack of its own (not the shared one), for a test that breaks it.
func MustOwnStack(tb testing.TB) *stack.Stack {
	tb.Helper()
	dir, err := os.MkdirTemp("", "onramp-e2e-own-")
	if err != nil {
		tb.Fatal(err)
	}
	st, err := stack.Start(context.Background(), DevConfig(tb, dir))
	if err != nil {
		tb.Fatalf("starting a stack: %v", err)
	}
	tb.Cleanup(func() {
		_ = st.Stop(context.Background())
		os.RemoveAll(dir)
	})
	return st
}

// The store (with Temporal: one embedded process) stops answering for 30 s under load: every call
// with a known key keeps working, a key revoked before stays refused, a key the gateway never saw
// is refused, and when the store is back the usage page counts every call made meanwhile. Freezing
// devstack freezes Temporal too (workflows, alerts and the worker wait) and the portal, whose
// one connection hangs: the stack is this test's own.
func TestE2EDataPlaneSurvivesStoreOutage(t *testing.T) {
	st := MustOwnStack(t)
	org, token := MustPartnerSession(t, st, "Outage", "standard")
	_, known := MustFirstSandboxKey(t, st, org, token)
	probes := mustQuotaOf(t, st, org, known, 1_000_000)
	var created struct {
		Credential credentialBody `json:"credential"`
		Key        string         `json:"key"`
	}
	MustDo(t, "POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]any{"environment": "sandbox", "label": "to revoke"}, http.StatusCreated, &created, "X-Session-Token", token)
	revoked := created.Key
	if status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", revoked, ""); status != 200 {
		t.Fatalf("the second key before revoking: %d %s", status, body)
	}
	MustDo(t, "DELETE", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials/"+created.Credential.ID, nil, http.StatusOK, nil, "X-Session-Token", token)
	admittedBefore := int64(1) // the second key's calls admitted before its revocation reached the gateway
	waitFor(t, 1500*time.Millisecond, "the revocation at the gateway (about a second)", func() bool {
		status, _, _ := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", revoked, "")
		if status == 200 {
			admittedBefore++
		}
		return status == 401
	})

	var sent, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var load sync.WaitGroup
	for range 2 {
		load.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", known, "")
				sent.Add(1)
				if status != 200 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, string(body))
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	time.Sleep(time.Second)
	if err := st.PauseInfra(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if err := st.ResumeInfra(); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(resume)
	paused := time.Now()
	unknown := onramp.SandboxKeyPrefix + strings.Repeat("q", onramp.KeyRandomLength)
	for time.Since(paused) < 30*time.Second {
		time.Sleep(3 * time.Second)
		status, header, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", revoked, "")
		mustGatewayProblem(t, status, header, body, 401, "revoked-credential")
		asked := time.Now()
		if status, _, body := gatewayCall(t, "GET", st.SandboxURL+"/payments/v2/payments", unknown, ""); status != 401 && status != 503 {
			t.Fatalf("an unknown key during the outage = %d %s, want it refused", status, body)
		}
		if took := time.Since(asked); took > time.Second {
			t.Errorf("an unknown key took %s to be refused", took)
		}
	}
	resume()
	t.Logf("%d calls with the known key, %d failed, over %s of outage", sent.Load(), failed.Load(), time.Since(paused).Round(time.Second))
	time.Sleep(time.Second)
	close(stop)
	load.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d of %d calls with a known key failed during the outage, first: %v", failed.Load(), sent.Load(), firstFailure.Load())
	}
	var l usageLine
	waitFor(t, 20*time.Second, "the calls made during the outage on the usage page", func() bool {
		l = usageLineOf(t, mustUsage(t, st, org, token), "payments")
		return l.Calls >= sent.Load()+admittedBefore+int64(probes) && l.Used >= sent.Load()+admittedBefore // usage and quota are flushed apart
	})
	if want := sent.Load() + admittedBefore; l.Calls != want+int64(probes) || l.Used != want {
		t.Errorf("usage after the outage: %d calls, %d used; want the %d calls with the known key, the second key's %d before its revocation and the %d probes of the quota (calls, not used)", l.Calls, l.Used, sent.Load(), admittedBefore, probes)
	}
}

func mustGetText(tb testing.TB, url string) string {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// promValue is the value of the Prometheus text line that starts with series (0 when none).
func promValue(text, series string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}
