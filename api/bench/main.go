// Command bench measures the portal at a provider's size: it starts `onramp dev`'s stack
// (embedded FerretDB, Temporal and Kratos) on a fresh data directory, seeds it with package seed
// (as `onramp seed` does), invites one partner through the admin API and signs its contact in
// through Kratos (the API's code flow for a session token, the browser flow for the cookie),
// then times the partner's and the provider's pages one request at a time and prints p50, p95 and
// p99 of each as a Markdown table (docs/benchmarks.md). Run it with `make bench-portal`.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials"
	"github.com/onramp-dev/onramp/devenv"
	"github.com/onramp-dev/onramp/mongo"
	"github.com/onramp-dev/onramp/policies"
	"github.com/onramp-dev/onramp/seed"
	"github.com/onramp-dev/onramp/stack"
)

type options struct {
	size    seed.Size
	samples int
	budget  time.Duration
	data    string
	bin     string
	out     string
	keep    bool
}

func main() {
	var o options
	flag.IntVar(&o.size.Products, "products", 500, "products to publish")
	flag.IntVar(&o.size.Versions, "versions", 5, "versions of each product")
	flag.IntVar(&o.size.Operations, "operations", 50, "operations of each product's first version")
	flag.IntVar(&o.size.Orgs, "orgs", 10000, "partner organisations")
	flag.IntVar(&o.size.KeysPerOrg, "keys-per-org", 10, "keys of each signed-in partner")
	flag.IntVar(&o.size.Calls, "calls", 1000000, "calls recorded (a tenth of them the benchmark partner's)")
	flag.IntVar(&o.samples, "samples", 50, "requests timed per page, at most")
	flag.DurationVar(&o.budget, "budget", 60*time.Second, "time spent timing one page, at most (a slow page gets fewer samples)")
	flag.StringVar(&o.data, "data", "", "data directory (default: a fresh temporary one, removed at the end)")
	flag.StringVar(&o.bin, "bin", "bin", "where the devstack and kratos binaries are (make build-deps)")
	flag.StringVar(&o.out, "out", "", "also write the Markdown report to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary data directory")
	flag.Parse()
	if err := run(o); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(o options) error {
	ctx := context.Background()
	if err := o.size.Validate(); err != nil {
		return err
	}
	dir := o.data
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "onramp-bench-portal-"); err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(dir)
		}
	}
	logFile, err := os.Create(filepath.Join(dir, "bench.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	started := time.Now()
	st, err := stack.Start(ctx, stack.Config{
		Roles: stack.Roles{Portal: true, Gateway: true, Worker: true}, Dev: true, Data: dir, BinDir: o.bin,
		PortalAddr: "127.0.0.1:0", SandboxAddr: "127.0.0.1:0", ProductionAddr: "127.0.0.1:0", DevHost: "127.0.0.1",
		SignInPerClient: 1000000, Logger: slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn})), Progress: os.Stdout,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Stop(context.Background()); err != nil {
			log.Print("stopping the stack: ", err)
		}
	}()
	fmt.Printf("Stack ready in %s (data in %s)\n", time.Since(started).Round(100*time.Millisecond), dir)
	sd, err := seedAll(ctx, o, st, dir)
	if err != nil {
		return err
	}
	seeded := time.Since(started)
	rows, err := timePages(o, st, sd.partner, sd.admin)
	if err != nil {
		return err
	}
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	report := markdown(o, sd.report, sd.phases, seeded, rows, mem)
	fmt.Println()
	fmt.Print(report)
	if o.out != "" {
		return os.WriteFile(o.out, []byte(report), 0o644)
	}
	return nil
}

// seeding is what seedAll did: the partner whose pages are timed, the admin token, the seed's
// report and how long each phase took.
type seeding struct {
	partner *partner
	admin   string
	report  seed.Report
	phases  map[string]time.Duration
}

// seedAll seeds the catalog, signs the benchmark partner in through the admin API and Kratos,
// seeds the other partners, then the calls (a tenth of them the benchmark partner's).
func seedAll(ctx context.Context, o options, st *stack.Stack, dir string) (seeding, error) {
	sd := seeding{phases: map[string]time.Duration{}}
	secrets, err := devenv.LoadSecrets(dir)
	if err != nil {
		return sd, err
	}
	keys, err := credentials.ParseKeyring(secrets.CredentialKeys)
	if err != nil {
		return sd, err
	}
	policy, err := policies.New(ctx, policies.Embedded())
	if err != nil {
		return sd, err
	}
	creds := mongo.NewCredentials(st.Mongo)
	seeder, err := seed.New(seed.Config{Orgs: mongo.NewOrganizations(st.Mongo, keys), Catalog: mongo.NewCatalog(st.Mongo), Credentials: creds,
		Onboarding: mongo.NewOnboarding(st.Mongo), Rotations: creds, Usage: mongo.NewUsage(st.Mongo), Keys: keys, Policy: policy, Progress: os.Stdout})
	if err != nil {
		return sd, err
	}
	timed := func(name string, f func() error) error {
		fmt.Printf("==> %s\n", name)
		start := time.Now()
		err := f()
		sd.phases[name] = time.Since(start)
		fmt.Printf("    %s: %s\n", name, sd.phases[name].Round(time.Second))
		return err
	}
	if err := timed("seed the catalog", func() error { return seeder.Catalog(ctx, o.size, &sd.report) }); err != nil {
		return sd, err
	}
	sd.admin = strings.TrimSpace(string(must(os.ReadFile(st.AdminTokenPath))))
	if err := timed("invite and sign in the benchmark partner", func() (err error) {
		sd.partner, err = signInPartner(ctx, st, sd.admin, seed.PlanName(0), o.size.KeysPerOrg)
		return err
	}); err != nil {
		return sd, err
	}
	if err := timed("seed the partners", func() error { return seeder.Partners(ctx, o.size, &sd.report) }); err != nil {
		return sd, err
	}
	p := sd.partner
	benchKeys, err := creds.CredentialsOf(ctx, p.org.ID)
	if err != nil {
		return sd, err
	}
	seeder.Orgs = append(seeder.Orgs, seed.Seeded{Org: p.org, Products: p.products, Keys: benchKeys})
	err = timed("seed the calls", func() error { return seeder.Calls(ctx, o.size.Calls, p.org.ID, 0.1, &sd.report) })
	return sd, err
}

// timePages times the partner's and the provider's pages, one request at a time.
func timePages(o options, st *stack.Stack, p *partner, admin string) ([]result, error) {
	fmt.Println("==> timing the pages")
	org, product := url.QueryEscape(p.org.ID), p.products[0]
	v := fmt.Sprintf("v%d", max(1, o.size.Versions))
	api := []string{"X-Session-Token", p.token}
	adminAPI := []string{"Authorization", "Bearer " + admin}
	pages := []page{
		{"Partner dashboard (page)", st.PortalURL + "/dashboard", p.browser, nil, 100},
		{"Catalog (API)", st.PortalURL + "/api/v1/orgs/" + org + "/catalog", http.DefaultClient, api, 100},
		{"Catalog (page)", st.PortalURL + "/catalog?org=" + org, p.browser, nil, 100},
		{"Product page", st.PortalURL + "/catalog/" + product + "?org=" + org, p.browser, nil, 100},
		{"Spec download (JSON)", st.PortalURL + "/api/v1/orgs/" + org + "/catalog/" + product + "/versions/" + v + "/openapi.json", http.DefaultClient, api, 100},
		{"Changelog (API)", st.PortalURL + "/api/v1/orgs/" + org + "/catalog/" + product + "/versions/" + v + "/changelog", http.DefaultClient, api, 100},
		{"Usage page", st.PortalURL + "/usage?org=" + org, p.browser, nil, 150},
		{"Call history (API)", st.PortalURL + "/api/v1/orgs/" + org + "/calls", http.DefaultClient, api, 150},
		{"Call history, next page (API)", "", http.DefaultClient, api, 150},
		{"Admin partner list, first page (API)", st.PortalURL + "/admin/api/v1/partners", http.DefaultClient, adminAPI, 200},
		{"Admin partner list, search \"acme\" (API)", st.PortalURL + "/admin/api/v1/partners?q=acme", http.DefaultClient, adminAPI, 200},
		{"Admin partner list, search and status (API)", st.PortalURL + "/admin/api/v1/partners?q=muller&status=active", http.DefaultClient, adminAPI, 200},
		{"Admin partner list (page)", st.PortalURL + "/admin/partners", p.admin, nil, 200},
		{"Review queue (API)", st.PortalURL + "/admin/api/v1/production-requests", http.DefaultClient, adminAPI, 200},
		{"Reviews (page)", st.PortalURL + "/admin/reviews", p.admin, nil, 200},
		{"Funnel (API)", st.PortalURL + "/admin/api/v1/funnel", http.DefaultClient, adminAPI, 200},
	}
	var first struct {
		Next string `json:"next_cursor"`
	}
	if err := getJSON(pages[7].url, api, &first); err != nil {
		return nil, err
	}
	pages[8].url = pages[7].url + "?cursor=" + url.QueryEscape(first.Next)
	var rows []result
	for _, pg := range pages {
		res := pg.time(o.samples, o.budget)
		fmt.Printf("    %-46s n=%-3d p50 %8s  p95 %8s  p99 %8s  %s\n", pg.name, len(res.samples), ms(res.p(50)), ms(res.p(95)), ms(res.p(99)), strings.Join(res.failures, "; "))
		rows = append(rows, res)
	}
	pub := timePublish(st.PortalURL, adminAPI, product, o.size)
	fmt.Printf("    %-46s n=%-3d p50 %8s  p95 %8s  p99 %8s  %s\n", pub.name, len(pub.samples), ms(pub.p(50)), ms(pub.p(95)), ms(pub.p(99)), strings.Join(pub.failures, "; "))
	return append(rows, pub), nil
}

// publishesTimed is how many versions timePublish publishes, one after the other.
const publishesTimed = 5

// timePublish publishes new versions of product through the admin API, as a provider's CI would,
// once the catalog holds the seeded versions (the changelog compares each with the one before).
func timePublish(portal string, admin []string, product string, size seed.Size) result {
	res := result{page: page{name: fmt.Sprintf("Publish one version (admin API), at %d versions", size.Products*size.Versions), target: 1000}}
	for i := range publishesTimed {
		n := size.Versions + 1 + i
		in := map[string]any{"version": fmt.Sprintf("v%d", n), "release_notes": "Timed by the benchmark.", "spec": string(seed.Spec(product, product, n, size.Operations))}
		start := time.Now()
		err := doJSON("POST", portal+"/admin/api/v1/products/"+url.PathEscape(product)+"/versions", in, admin, http.StatusCreated, nil)
		res.samples = append(res.samples, time.Since(start))
		if err != nil {
			res.failures = append(res.failures, err.Error())
		}
	}
	return res
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

// partner is the benchmark's signed-in partner: an API session token, a browser (Kratos cookie)
// and the admin's browser (admin cookie).
type partner struct {
	org      onramp.Organization
	products []string
	token    string
	browser  *http.Client
	admin    *http.Client
}

// signInPartner invites a partner on plan through the admin API, as an admin would, and signs its
// contact in as a person would: a session token through /api/v1/auth/login and a browser session
// through Kratos's browser flow (the login page's forms, with the codes from the dev mailbox).
func signInPartner(ctx context.Context, st *stack.Stack, admin, plan string, keys int) (*partner, error) {
	email := fmt.Sprintf("bench+%d@bench-partner.example", time.Now().UnixNano())
	var org onramp.Organization
	if err := doJSON("POST", st.PortalURL+"/admin/api/v1/partners", map[string]string{"name": "Bench Partner", "contact_email": email, "tier": plan},
		[]string{"Authorization", "Bearer " + admin}, http.StatusCreated, &org); err != nil {
		return nil, err
	}
	if _, err := waitForMail(st.PortalURL, email, func(m mail) bool { return strings.Contains(m.Subject, "invited") }, nil); err != nil {
		return nil, err
	}
	p := &partner{org: org}
	var err error
	if p.token, err = apiSignIn(st.PortalURL, email); err != nil {
		return nil, err
	}
	if p.browser, err = browserSignIn(st.PortalURL, email); err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(st.PortalURL + "/admin")
	jar.SetCookies(u, []*http.Cookie{{Name: "onramp_admin", Value: admin, Path: "/admin"}})
	p.admin = &http.Client{Jar: jar, Timeout: 3 * time.Minute}
	// The first sign-in issued a sandbox key; the partner makes the rest of its keys.
	api := []string{"X-Session-Token", p.token}
	for i := 1; i < keys; i++ {
		if err := doJSON("POST", st.PortalURL+"/api/v1/orgs/"+org.ID+"/credentials", map[string]string{"environment": "sandbox", "label": fmt.Sprintf("CI %d", i)}, api, http.StatusCreated, nil); err != nil {
			return nil, err
		}
	}
	var me struct {
		Memberships []onramp.Membership `json:"memberships"`
	}
	if err := getJSON(st.PortalURL+"/api/v1/me", api, &me); err != nil {
		return nil, err
	}
	var assignments struct {
		Assignments []onramp.Assignment `json:"assignments"`
	}
	if err := getJSON(st.PortalURL+"/admin/api/v1/partners/"+org.ID+"/assignments", []string{"Authorization", "Bearer " + admin}, &assignments); err != nil {
		return nil, err
	}
	for _, a := range assignments.Assignments {
		p.products = append(p.products, a.Product)
	}
	if len(me.Memberships) == 0 || len(p.products) == 0 {
		return nil, fmt.Errorf("the benchmark partner has %d memberships and %d products", len(me.Memberships), len(p.products))
	}
	return p, nil
}

type mail struct {
	ID           string            `json:"id"`
	Subject      string            `json:"subject"`
	TemplateData map[string]string `json:"template_data"`
}

func waitForMail(portal, to string, match func(mail) bool, seen map[string]bool) (mail, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var box struct {
			Messages []mail `json:"messages"`
		}
		if err := getJSON(portal+"/dev/mail.json?to="+url.QueryEscape(to), nil, &box); err != nil {
			return mail{}, err
		}
		for _, m := range box.Messages {
			if !seen[m.ID] && match(m) {
				return m, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return mail{}, fmt.Errorf("no matching e-mail to %s", to)
}

func seenMail(portal, to string) map[string]bool {
	var box struct {
		Messages []mail `json:"messages"`
	}
	_ = getJSON(portal+"/dev/mail.json?to="+url.QueryEscape(to), nil, &box)
	seen := map[string]bool{}
	for _, m := range box.Messages {
		seen[m.ID] = true
	}
	return seen
}

func isCode(m mail) bool { return m.TemplateData["login_code"] != "" }

func apiSignIn(portal, email string) (string, error) {
	seen := seenMail(portal, email)
	var flow struct {
		FlowID string `json:"flow_id"`
	}
	if err := doJSON("POST", portal+"/api/v1/auth/login", map[string]string{"email": email}, nil, http.StatusAccepted, &flow); err != nil {
		return "", err
	}
	m, err := waitForMail(portal, email, isCode, seen)
	if err != nil {
		return "", err
	}
	var sess struct {
		Token string `json:"session_token"`
	}
	err = doJSON("POST", portal+"/api/v1/auth/login/"+flow.FlowID, map[string]string{"email": email, "code": m.TemplateData["login_code"]}, nil, http.StatusOK, &sess)
	return sess.Token, err
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"[^>]*id="(email-form|code-form)"`)
	csrfField  = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// browserSignIn goes through Kratos's browser flow as the login page's forms do, with a cookie
// jar, and returns the signed-in browser.
func browserSignIn(portal, email string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 3 * time.Minute}
	form := func(body []byte, id string) (string, string, error) {
		for _, m := range formAction.FindAllSubmatch(body, -1) {
			if string(m[2]) == id {
				csrf := csrfField.FindSubmatch(body)
				if csrf == nil {
					return "", "", errors.New("the login page has no csrf_token")
				}
				return html.UnescapeString(string(m[1])), html.UnescapeString(string(csrf[1])), nil
			}
		}
		return "", "", fmt.Errorf("the login page has no #%s: %.300s", id, body)
	}
	post := func(action string, values url.Values) ([]byte, *http.Response, error) {
		target, err := url.Parse(portal)
		if err != nil {
			return nil, nil, err
		}
		ref, err := url.Parse(action)
		if err != nil {
			return nil, nil, err
		}
		resp, err := c.PostForm(target.ResolveReference(ref).String(), values)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return body, resp, err
	}
	resp, err := c.Get(portal + "/login?email=" + url.QueryEscape(email))
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action, csrf, err := form(page, "email-form")
	if err != nil {
		return nil, err
	}
	seen := seenMail(portal, email)
	page, _, err = post(action, url.Values{"csrf_token": {csrf}, "identifier": {email}, "method": {"code"}})
	if err != nil {
		return nil, err
	}
	m, err := waitForMail(portal, email, isCode, seen)
	if err != nil {
		return nil, err
	}
	if action, csrf, err = form(page, "code-form"); err != nil {
		return nil, err
	}
	page, resp, err = post(action, url.Values{"csrf_token": {csrf}, "identifier": {email}, "code": {m.TemplateData["login_code"]}, "method": {"code"}})
	if err != nil {
		return nil, err
	}
	if resp.Request.URL.Path != "/dashboard" || !bytes.Contains(page, []byte(`id="whoami"`)) {
		return nil, fmt.Errorf("the browser sign-in ended at %s: %.300s", resp.Request.URL, page)
	}
	return c, nil
}

func doJSON(method, u string, in any, header []string, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s = %d, want %d: %.300s", method, u, resp.StatusCode, want, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func getJSON(u string, header []string, out any) error {
	return doJSON("GET", u, nil, header, http.StatusOK, out)
}

// page is one request timed: its client carries the session (cookie jar) or header does.
type page struct {
	name   string
	url    string
	client *http.Client
	header []string
	target time.Duration // the p95 target, in ms
}

type result struct {
	page
	samples  []time.Duration // failed requests too, with how long they took before they failed
	failures []string
}

func (r result) p(q float64) time.Duration {
	if len(r.samples) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(r.samples))
	i := int(float64(len(s))*q/100+0.999999) - 1 // nearest rank
	return s[min(max(i, 0), len(s)-1)]
}

// time requests the page once to warm up, then until samples or budget, sequentially (at least
// 3 times, once when the warm-up alone took a quarter of the budget). A request that fails (the
// portal's two-minute write timeout ends the slowest) counts with the time it took.
func (pg page) time(samples int, budget time.Duration) result {
	res := result{page: pg}
	get := func() (time.Duration, error) {
		req, err := http.NewRequest("GET", pg.url, nil)
		if err != nil {
			return 0, err
		}
		for i := 0; i+1 < len(pg.header); i += 2 {
			req.Header.Set(pg.header[i], pg.header[i+1])
		}
		start := time.Now()
		resp, err := pg.client.Do(req)
		if err != nil {
			return time.Since(start), err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return took, err
	}
	warm, err := get()
	if err != nil {
		res.failures = append(res.failures, "warm-up: "+err.Error())
	}
	least := 3
	if warm > budget/4 {
		least = 1
	}
	deadline := time.Now().Add(budget)
	for len(res.samples) < samples && (len(res.samples) < least || time.Now().Before(deadline)) {
		took, err := get()
		if err != nil {
			res.failures = append(res.failures, err.Error())
		}
		res.samples = append(res.samples, took)
	}
	return res
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func markdown(o options, r seed.Report, phases map[string]time.Duration, seeded time.Duration, rows []result, mem runtime.MemStats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Dataset: %d products × %d versions × %d operations (%d versions, %d plans), %d partners (+1 benchmark partner) with %d keys, %d calls (a tenth the benchmark partner's). ",
		r.Products, o.size.Versions, o.size.Operations, r.Versions, r.Plans, r.Orgs, r.Keys, r.Calls)
	fmt.Fprintf(&b, "Stack start and seeding took %s: catalog %s, partners %s, calls %s.\n\n", seeded.Round(time.Second),
		phases["seed the catalog"].Round(time.Second), phases["seed the partners"].Round(time.Second), phases["seed the calls"].Round(time.Second))
	fmt.Fprintf(&b, "| Request | n | p50 | p95 | p99 | target p95 | |\n|---|---:|---:|---:|---:|---:|---|\n")
	for _, row := range rows {
		verdict := "met"
		if row.p(95) > row.target*time.Millisecond {
			verdict = "**missed**"
		}
		if len(row.failures) > 0 {
			verdict += fmt.Sprintf(" (%d failed: %s)", len(row.failures), row.failures[0])
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %d ms | %s |\n", row.name, len(row.samples), ms(row.p(50)), ms(row.p(95)), ms(row.p(99)), row.target, verdict)
	}
	fmt.Fprintf(&b, "\nOne request at a time after one warm-up request, at most %d samples or %s per request (at least 3). The bench process (portal, gateway, worker and the seeder) held %d MiB of Go heap at the end (%d MiB obtained from the system).\n",
		o.samples, o.budget, mem.HeapInuse>>20, mem.Sys>>20)
	return b.String()
}
