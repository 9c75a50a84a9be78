package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The in-memory participant is built from the same constructors as the product; nothing else
// compiles or runs it before `make bench`, so a constructor that gains a required field would
// break the benchmark unnoticed. Here it is built, serves a call of the demo catalog with its
// printed key through to an upstream, and accounts for that call.
func TestInMemoryParticipantServesAndAccounts(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer upstream.Close()
	var h http.Handler
	var err error
	out := captureStdout(t, func() { h, err = inMemoryGateway(upstream.URL) })
	if err != nil {
		t.Fatal(err)
	}
	key := field(strings.Split(out, "\n"), "KEY")
	if key == "" {
		t.Fatalf("no KEY line in %q", out)
	}
	gw := httptest.NewServer(h)
	defer gw.Close()
	base := gw.URL
	req, _ := http.NewRequest("GET", base+"/payments/v2/payments?limit=3", nil)
	req.Header.Set("X-Api-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok":true`) {
		t.Fatalf("a call with the bench key = %d %s, want the upstream's 200", resp.StatusCode, body)
	}
	resp, err = http.Get(base + "/bench/accounting")
	if err != nil {
		t.Fatal(err)
	}
	var a accounting
	err = json.NewDecoder(resp.Body).Decode(&a)
	resp.Body.Close()
	if err != nil || a.Served != 1 || a.Counted != 1 || a.Stored != 1 {
		t.Errorf("accounting = %+v, %v; want the one call served, counted and stored", a, err)
	}
}

// captureStdout runs f and returns what it printed (the participant prints its key).
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	f()
	os.Stdout = old
	w.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}
