package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

// The version lifecycle at the gateway: payments v1 of the demo catalog, deprecated at deprAt
// with a sunset at sunsetAt and one brownout window, called on the injected clock.
var (
	deprAt   = time.Date(2027, 1, 4, 9, 30, 0, 0, time.UTC)
	sunsetAt = time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	brownout = onramp.BrownoutWindow{Start: time.Date(2027, 6, 8, 10, 0, 0, 0, time.UTC), End: time.Date(2027, 6, 8, 10, 15, 0, 0, time.UTC)}
	before   = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC) // deprecated, nothing gone
)

const (
	migration = "http://portal.test/catalog/payments?version=v1#lifecycle"
	v1Call    = "/payments/v1/payments"
)

// lifecycleHarness is the harness with v1 as above and keys of org_1 in both environments.
func lifecycleHarness(t *testing.T) (h *harness, sk, pk string) {
	t.Helper()
	h = MustHarness(t)
	h.clock.Set(before)
	both := []string{onramp.Sandbox, onramp.Production}
	sk = h.MustOrg(t, "org_1", both, 100, onramp.Sandbox)
	pk = h.MustOrg(t, "org_1", both, 100, onramp.Production)
	v1, err := h.catalog.FindVersion(t.Context(), "payments", "v1")
	if err != nil {
		t.Fatal(err)
	}
	v1.Sunset, v1.DeprecatedAt = &sunsetAt, &deprAt
	if err := h.catalog.UpdateVersion(t.Context(), v1); err != nil {
		t.Fatal(err)
	}
	if err := h.catalog.SetBrownouts(t.Context(), "payments", "v1", []onramp.BrownoutWindow{brownout}); err != nil {
		t.Fatal(err)
	}
	return h, sk, pk
}

// mustDeprecationHeaders checks v1's headers on an answer.
func mustDeprecationHeaders(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	if got, want := h.Values("Deprecation"), []string{"@" + strconv.FormatInt(deprAt.Unix(), 10)}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("%s: Deprecation = %q, want %q (RFC 9745 structured date)", what, got, want)
	}
	if got, want := h.Get("Sunset"), "Wed, 30 Jun 2027 00:00:00 GMT"; got != want {
		t.Errorf("%s: Sunset = %q, want the HTTP-date %q (RFC 8594)", what, got, want)
	}
	links := strings.Join(h.Values("Link"), ", ")
	for _, want := range []string{"<" + migration + `>; rel="deprecation"; type="text/html"`, "<" + migration + `>; rel="sunset"; type="text/html"`, `</payments/v2>; rel="successor-version"`} {
		if !strings.Contains(links, want) {
			t.Errorf("%s: Link = %q, want %s", what, links, want)
		}
	}
}

func TestDeprecatedVersionCarriesHeadersOnEveryAnswer(t *testing.T) {
	h, sk, pk := lifecycleHarness(t)
	for _, env := range []struct {
		name string
		g    http.Handler
		key  string
	}{{"sandbox", h.sandbox, sk}, {"production", h.production, pk}} {
		ok := call(t, env.g, "GET", v1Call, env.key, "")
		if ok.Code != 200 {
			t.Fatalf("%s: GET v1 = %d %s", env.name, ok.Code, ok.Body)
		}
		mustDeprecationHeaders(t, env.name+" 200", ok)
		for _, c := range []struct {
			method, path, body string
			status             int
			slug               string
		}{
			{"GET", "/payments/v1/nowhere", "", 404, "no-such-operation"},
			{"DELETE", v1Call, "", 405, "method-not-allowed"},
			{"POST", v1Call, `{"amount":"ten"}`, 400, "invalid-request"},
		} {
			rec := call(t, env.g, c.method, c.path, env.key, c.body)
			mustProblem(t, rec, c.status, c.slug)
			mustDeprecationHeaders(t, env.name+" "+c.slug, rec)
		}
		current := call(t, env.g, "GET", "/payments/v2/payments", env.key, "")
		if current.Code != 200 || current.Header().Get("Deprecation") != "" || current.Header().Get("Sunset") != "" || current.Header().Get("Link") != "" {
			t.Errorf("%s: current v2 = %d with %v, want no lifecycle headers", env.name, current.Code, current.Header())
		}
	}
}

func TestDeprecatedVersionWithoutSuccessor(t *testing.T) {
	h, sk, _ := lifecycleHarness(t)
	v2, _ := h.catalog.FindVersion(t.Context(), "payments", "v2")
	v2.Status = onramp.VersionBeta
	if err := h.catalog.UpdateVersion(t.Context(), v2); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(sunsetAt)
	rec := call(t, h.sandbox, "GET", v1Call, sk, "")
	p := mustProblem(t, rec, 410, "version-gone")
	if strings.Contains(rec.Header().Get("Link"), "successor-version") || !strings.Contains(p.Detail, "no current version of payments") {
		t.Errorf("without a current version: Link %q, detail %q", rec.Header().Get("Link"), p.Detail)
	}
}

// gone is a 410's body.
type gone struct {
	Type, Detail, Successor string
	MigrationURL            string `json:"migration_url"`
	Sunset                  string
	BrownoutEnds            string `json:"brownout_ends"`
}

func mustGone(t *testing.T, what string, rec *httptest.ResponseRecorder) gone {
	t.Helper()
	mustProblem(t, rec, 410, "version-gone")
	mustDeprecationHeaders(t, what, rec)
	var g gone
	if err := json.Unmarshal(rec.Body.Bytes(), &g); err != nil {
		t.Fatal(err)
	}
	if g.Successor != "v2" || g.MigrationURL != migration || g.Sunset != "2027-06-30T00:00:00Z" || !strings.Contains(g.Detail, "Move to v2") || !strings.Contains(g.Detail, migration) {
		t.Errorf("%s: 410 = %+v, want the successor v2, the migration page and the sunset", what, g)
	}
	return g
}

func TestSunsetAndBrownoutBoundsInBothEnvironments(t *testing.T) {
	h, sk, pk := lifecycleHarness(t)
	ns := time.Nanosecond
	for _, c := range []struct {
		name string
		at   time.Time
		gone string // "": answers; else brownout or retired
	}{
		{"1 ns before the brownout", brownout.Start.Add(-ns), ""},
		{"at the brownout's start", brownout.Start, "brownout"},
		{"1 ns before the brownout's end", brownout.End.Add(-ns), "brownout"},
		{"at the brownout's end", brownout.End, ""},
		{"1 ns before the sunset", sunsetAt.Add(-ns), ""},
		{"at the sunset", sunsetAt, "retired"},
		{"1 ns after the sunset", sunsetAt.Add(ns), "retired"},
		{"a year after the sunset", sunsetAt.AddDate(1, 0, 0), "retired"},
	} {
		h.clock.Set(c.at)
		var details []string
		for _, env := range []struct {
			name string
			g    http.Handler
			key  string
		}{{"sandbox", h.sandbox, sk}, {"production", h.production, pk}} {
			what := c.name + " in " + env.name
			rec := call(t, env.g, "GET", v1Call, env.key, "")
			if c.gone == "" {
				if rec.Code != 200 {
					t.Errorf("%s: %d %s, want 200", what, rec.Code, rec.Body)
				}
				mustDeprecationHeaders(t, what, rec)
				if env.name == "production" {
					<-h.upstreamSaw
				}
				continue
			}
			g := mustGone(t, what, rec)
			if rec.Header().Get("RateLimit-Remaining") == "" {
				t.Errorf("%s: 410 without the quota headers", what)
			}
			switch c.gone {
			case "brownout":
				if g.BrownoutEnds != "2027-06-08T10:15:00Z" || !strings.Contains(g.Detail, "brownout until 2027-06-08T10:15:00Z") {
					t.Errorf("%s: %+v, want the brownout and its end", what, g)
				}
			case "retired":
				if g.BrownoutEnds != "" || !strings.Contains(g.Detail, "was retired at its sunset (Wed, 30 Jun 2027 00:00:00 GMT)") {
					t.Errorf("%s: %+v, want the retirement", what, g)
				}
			}
			details = append(details, g.Detail)
		}
		if len(details) == 2 && details[0] != details[1] {
			t.Errorf("%s: sandbox and production differ:\n%s\n%s", c.name, details[0], details[1])
		}
		select {
		case r := <-h.upstreamSaw:
			t.Errorf("%s: a gone version reached the upstream: %s", c.name, r.URL)
		default:
		}
	}
}

func TestGoneCallsUseNoQuotaAndAreRecorded(t *testing.T) {
	h, sk, _ := lifecycleHarness(t)
	h.clock.Set(brownout.Start)
	first := call(t, h.sandbox, "GET", v1Call, sk, "")
	mustGone(t, "first", first)
	for range 3 {
		mustGone(t, "again", call(t, h.sandbox, "GET", "/payments/v1/payments/pay_1", sk, ""))
	}
	if got := call(t, h.sandbox, "GET", v1Call, sk, "").Header().Get("RateLimit-Remaining"); got != "100" {
		t.Errorf("RateLimit-Remaining after 5 gone calls = %s, want all 100 left", got)
	}
	h.clock.Set(brownout.End)
	if rec := call(t, h.sandbox, "GET", v1Call, sk, ""); rec.Code != 200 || rec.Header().Get("RateLimit-Remaining") != "99" {
		t.Errorf("after the brownout = %d remaining %s, want 200 with 99 left", rec.Code, rec.Header().Get("RateLimit-Remaining"))
	}
	h.recorder.Stop()
	events, _ := h.usage.Calls(t.Context(), "org_1", onramp.CallFilter{Limit: 10})
	gone := map[string]int{}
	for _, e := range events {
		if e.Status == 410 {
			if e.Product != "payments" || e.Version != "v1" || e.Environment != onramp.Sandbox {
				t.Errorf("410 event = %+v", e)
			}
			gone[e.Operation]++
		}
	}
	if len(gone) != 2 || gone["listPayments"] != 2 || gone["getPayment"] != 3 {
		t.Errorf("410 calls by operation = %v, want listPayments 2 and getPayment 3 (the migration dashboard's data)", gone)
	}
}

func TestGoneVersionIsNoSuchProductForOthers(t *testing.T) {
	h, _, _ := lifecycleHarness(t)
	other := h.MustOrg(t, "org_2", []string{onramp.Sandbox}, 100, onramp.Sandbox)
	if err := h.catalog.DeleteAssignment(t.Context(), "org_2", "payments"); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(sunsetAt)
	rec := call(t, h.sandbox, "GET", v1Call, other, "")
	mustProblem(t, rec, 404, "no-such-product")
	if rec.Header().Get("Deprecation") != "" {
		t.Errorf("an organisation without the product learns of its deprecation: %v", rec.Header())
	}
}
