package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/gateway"
)

// Every list of the API and the UI is read a page at a time, by a cursor that keeps its place
// while items are added. These tests drive the pages as a client would: follow next_cursor (or a
// page's "Next" link), add items in between, come back with prev_cursor.

var p0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// signedInAs is a Kratos stand-in with one session, by token or browser cookie.
type signedInAs struct {
	signedOut
	id, email string
}

func (s signedInAs) Whoami(_ context.Context, token string) (onramp.Session, error) {
	if token != "ory_st_ok" {
		return onramp.Session{}, errSignedOut
	}
	return onramp.Session{IdentityID: s.id, Email: s.email, ExpiresAt: p0.Add(24 * time.Hour)}, nil
}

func (s signedInAs) SessionFromCookie(_ context.Context, cookie string) (onramp.Session, error) {
	if !strings.Contains(cookie, "ory_kratos_session=ok") {
		return onramp.Session{}, errSignedOut
	}
	return onramp.Session{IdentityID: s.id, Email: s.email, ExpiresAt: p0.Add(24 * time.Hour)}, nil
}

var (
	admin   = []string{"Authorization", "Bearer " + adminToken}
	adminUI = []string{"Cookie", "onramp_admin=" + adminToken}
	member  = []string{"X-Session-Token", "ory_st_ok"}
	browser = []string{"Cookie", "ory_kratos_session=ok"}
)

// page is a JSON page: its items (raw) under any name and its cursors.
type page struct {
	Items      []json.RawMessage
	Next, Prev string
}

func mustPage(tb testing.TB, h *harness, path, name string, header ...string) page {
	tb.Helper()
	rec := h.do(tb, "GET", path, nil, header...)
	if rec.Code != 200 {
		tb.Fatalf("GET %s = %d %s", path, rec.Code, rec.Body)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		tb.Fatal(err)
	}
	var p page
	if err := json.Unmarshal(body[name], &p.Items); err != nil {
		tb.Fatalf("GET %s: %s: %v", path, name, err)
	}
	_ = json.Unmarshal(body["next_cursor"], &p.Next)
	_ = json.Unmarshal(body["prev_cursor"], &p.Prev)
	return p
}

// ids are the items' "id" (or "org_id") fields.
func (p page) ids() []string {
	out := []string{}
	for _, raw := range p.Items {
		var v struct {
			ID    string `json:"id"`
			OrgID string `json:"org_id"`
		}
		_ = json.Unmarshal(raw, &v)
		if v.ID == "" {
			v.ID = v.OrgID
		}
		out = append(out, v.ID)
	}
	return out
}

// walk follows next_cursor from path's first page and returns every id.
func walk(tb testing.TB, h *harness, path, name string, header ...string) []string {
	tb.Helper()
	var out []string
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for p := mustPage(tb, h, path, name, header...); ; p = mustPage(tb, h, path+sep+"cursor="+url.QueryEscape(p.Next), name, header...) {
		out = append(out, p.ids()...)
		if p.Next == "" {
			return out
		}
	}
}

func mustCreateOrgs(tb testing.TB, f *fakes, n int, name func(i int) string) []onramp.Organization {
	tb.Helper()
	var out []onramp.Organization
	for i := range n {
		o := onramp.Organization{ID: fmt.Sprintf("org_%03d", i), Name: name(i), Tier: "standard", Status: onramp.OrgInvited,
			ContactEmail: fmt.Sprintf("dev%d@%s.example", i, strings.ToLower(strings.Fields(name(i))[0])), InvitedAt: p0.Add(time.Duration(i) * time.Minute)}
		if err := f.orgs.CreateOrganization(tb.Context(), o); err != nil {
			tb.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

// The admin partner list pages newest first, keeps its place while partners are invited,
// searches by name and contact e-mail and filters by status — in the API and on the page.
func TestAdminPartnerListPagesAndSearches(t *testing.T) {
	f := &fakes{}
	h := MustHarnessOn(t, testConfig(t, f))
	words := []string{"Acme Payments", "Globex Corp", "Initech", "Müller Logistik"}
	orgs := mustCreateOrgs(t, f, 120, func(i int) string { return fmt.Sprintf("%s %d", words[i%4], i) })
	for _, o := range orgs[:30] {
		_ = f.orgs.SetOrganizationStatus(t.Context(), o.ID, onramp.OrgActive, nil)
	}

	first := mustPage(t, h, "/admin/api/v1/partners", "partners", admin...)
	if len(first.Items) != onramp.DefaultPageLimit || first.Next == "" || first.Prev != "" || first.ids()[0] != "org_119" {
		t.Fatalf("first page = %d partners from %v (next %q, prev %q), want the newest %d", len(first.Items), first.ids()[:1], first.Next, first.Prev, onramp.DefaultPageLimit)
	}
	// Three invitations arrive between two pages: they are the newest, so they sit before the
	// cursor and the second page goes on exactly where the first ended.
	for i := range 3 {
		rec := h.do(t, "POST", "/admin/api/v1/partners", strings.NewReader(fmt.Sprintf(`{"name":"Newcomer %d","contact_email":"n%d@new.example","tier":"standard"}`, i, i)),
			append([]string{"Content-Type", "application/json"}, admin...)...)
		if rec.Code != 201 {
			t.Fatalf("invite = %d %s", rec.Code, rec.Body)
		}
	}
	second := mustPage(t, h, "/admin/api/v1/partners?cursor="+url.QueryEscape(first.Next), "partners", admin...)
	if got := second.ids(); len(got) != 50 || got[0] != "org_069" || second.Prev == "" {
		t.Fatalf("second page starts %v (prev %q), want org_069 right after the first page's org_070", got[:1], second.Prev)
	}
	back := mustPage(t, h, "/admin/api/v1/partners?cursor="+url.QueryEscape(second.Prev), "partners", admin...)
	if !slices.Equal(back.ids(), first.ids()) || back.Prev == "" {
		t.Errorf("back from the second page = %v… (prev %q), want the first page as seen, the newcomers before it", back.ids()[:2], back.Prev)
	}
	if all := walk(t, h, "/admin/api/v1/partners?limit=200", "partners", admin...); len(all) != 123 {
		t.Errorf("walking every page at limit 200 gave %d partners, want 123", len(all))
	}
	one := mustPage(t, h, "/admin/api/v1/partners?limit=1", "partners", admin...)
	if len(one.Items) != 1 || one.Next == "" {
		t.Errorf("limit 1 = %d partners (next %q)", len(one.Items), one.Next)
	}
	for _, bad := range []string{"?limit=201", "?limit=0x", "?limit=-1", "?status=sleeping"} { // outside the document too
		mustProblem(t, h.doInvalid(t, "GET", "/admin/api/v1/partners"+bad, nil, admin...), 400, "invalid-request")
	}
	mustProblem(t, h.do(t, "GET", "/admin/api/v1/partners?cursor=not-a-cursor", nil, admin...), 400, "invalid-request")

	// Search: words of the name (accents ignored) or the contact address and its domain.
	for q, want := range map[string]int{"müller": 30, "MULLER logis": 30, "acme": 30, "globex.example": 30, "dev7@": 11, "initech 1": 8, "nobody": 0} {
		got := walk(t, h, "/admin/api/v1/partners?limit=7&q="+url.QueryEscape(q), "partners", admin...)
		if len(got) != want || len(got) != len(slices.Compact(slices.Sorted(slices.Values(got)))) {
			t.Errorf("search %q found %d (%d distinct), want %d", q, len(got), len(slices.Compact(slices.Sorted(slices.Values(got)))), want)
		}
	}
	active := walk(t, h, "/admin/api/v1/partners?status=active", "partners", admin...)
	activeAcme := walk(t, h, "/admin/api/v1/partners?status=active&q=acme", "partners", admin...)
	if len(active) != 30 || len(activeAcme) != 8 {
		t.Errorf("active: %d, active Acme: %d; want 30 and 8", len(active), len(activeAcme))
	}

	// The page: the same list, a search form that keeps its words, Next and Previous links.
	rec := h.do(t, "GET", "/admin/partners", nil, adminUI...)
	next := link(t, rec, "next")
	if rec.Code != 200 || strings.Count(rec.Body.String(), `<tr data-org=`) != 50 || link(t, rec, "prev") != "" {
		t.Fatalf("partners page = %d with %d rows", rec.Code, strings.Count(rec.Body.String(), `<tr data-org=`))
	}
	firstRows := rows(rec.Body.String(), "data-org")
	rec = h.do(t, "GET", next, nil, adminUI...)
	if got := rows(rec.Body.String(), "data-org"); len(got) != 50 || got[0] != fmt.Sprintf("org_%03d", 119-47) || firstRows[49] != "org_073" || link(t, rec, "prev") == "" {
		t.Errorf("the Next page starts at %v after %v, want org_072 after org_073", got[:1], firstRows[49])
	}
	rec = h.do(t, "GET", "/admin/partners?q=initech&status=active", nil, adminUI...)
	if n := strings.Count(rec.Body.String(), `<tr data-org=`); n != 7 || !strings.Contains(rec.Body.String(), `value="initech"`) {
		t.Errorf("the page's search found %d rows, want 7 with the words kept in the form", n)
	}
	if rec := h.do(t, "GET", "/admin/partners?q=nobody", nil, adminUI...); !strings.Contains(rec.Body.String(), "No partner matches") {
		t.Errorf("an empty search does not say so")
	}
	// A link keeps the list's filters, never other text of the address.
	rec = h.do(t, "GET", "/admin/partners?q=acme&limit=10&notice=Call+555-0100&error=Call+555-0100", nil, adminUI...)
	if next := link(t, rec, "next"); !strings.Contains(next, "q=acme") || strings.Contains(rec.Body.String(), "555-0100") {
		t.Errorf("the search's Next link is %q; the page has the address's text: %v", next, strings.Contains(rec.Body.String(), "555-0100"))
	}
}

// rows are the values of a page's table rows' attr (data-org, data-call…), in order.
func rows(body, attr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr `+attr+`="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

var linkPattern = regexp.MustCompile(`<a href="([^"]+)" rel="(next|prev)">`)

// link returns the page's first Next or Previous link ("" when none), without its fragment (a
// browser does not send it).
func link(tb testing.TB, rec *httptest.ResponseRecorder, rel string) string {
	tb.Helper()
	for _, m := range linkPattern.FindAllStringSubmatch(rec.Body.String(), -1) {
		if m[2] == rel {
			l, _, _ := strings.Cut(html.UnescapeString(m[1]), "#")
			return l
		}
	}
	return ""
}

// A member's lists page too: members, invitations, the audit log, notifications and the call
// history, whose cursor keeps its place while calls are recorded.
func TestPartnerListsPage(t *testing.T) {
	f := &fakes{}
	cfg := testConfig(t, f)
	cfg.Identity = signedInAs{id: "id-owner", email: "owner@acme.example"}
	h := MustHarnessOn(t, cfg)
	ctx := t.Context()
	mustCreateOrgs(t, f, 1, func(int) string { return "Acme" })
	org := "org_000"
	for i := range 60 {
		role := onramp.RoleDeveloper
		id := fmt.Sprintf("id-%02d", i)
		if i == 0 {
			role, id = onramp.RoleOwner, "id-owner"
		}
		if err := f.orgs.SaveMember(ctx, onramp.Member{OrgID: org, IdentityID: id, Email: id + "@acme.example", Role: role, JoinedAt: p0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		_ = f.orgs.AppendAudit(ctx, onramp.AuditEvent{ID: fmt.Sprintf("ev_%02d", i), OrgID: org, Actor: "owner@acme.example", Action: "member.invited", At: p0.Add(time.Duration(i) * time.Second)})
		_ = f.onboarding.Notify(ctx, onramp.Notification{ID: fmt.Sprintf("n_%02d", i), OrgID: org, Title: "t", Body: "b", At: p0.Add(time.Duration(i) * time.Second)})
		_ = f.orgs.SaveInvitation(ctx, onramp.MemberInvitation{ID: fmt.Sprintf("inv_%02d", i), OrgID: org, Email: fmt.Sprintf("x%d@acme.example", i), Role: onramp.RoleViewer,
			Status: onramp.InvitationPending, CreatedAt: p0.Add(time.Duration(i) * time.Second), ExpiresAt: p0.Add(time.Hour)})
	}
	base := "/api/v1/orgs/" + org
	if got := walk(t, h, base+"/members?limit=25", "members", member...); len(got) != 60 {
		t.Errorf("members in pages of 25: %d, want 60", len(got))
	}
	if got := walk(t, h, base+"/invitations?limit=200", "invitations", member...); len(got) != 60 || got[0] != "inv_59" {
		t.Errorf("invitations: %d from %v, want 60 newest first", len(got), got[:1])
	}
	audit := mustPage(t, h, base+"/audit?limit=25", "events", member...)
	_ = f.orgs.AppendAudit(ctx, onramp.AuditEvent{ID: "ev_new", OrgID: org, Actor: "owner@acme.example", Action: "x", At: p0.Add(time.Hour)})
	rest := mustPage(t, h, base+"/audit?limit=25&cursor="+url.QueryEscape(audit.Next), "events", member...)
	if audit.ids()[0] != "ev_59" || rest.ids()[0] != "ev_34" {
		t.Errorf("audit pages start %v and %v, want ev_59 then ev_34 whatever was appended since", audit.ids()[:1], rest.ids()[:1])
	}
	if n := mustPage(t, h, base+"/notifications", "notifications", member...); len(n.Items) != 50 || n.Next == "" {
		t.Errorf("notifications = %d (next %q), want the newest 50 and more", len(n.Items), n.Next)
	}
	mustProblem(t, h.doInvalid(t, "GET", base+"/notifications?limit=500", nil, member...), 400, "invalid-request")

	// 120 calls; 30 newer ones arrive between two pages.
	record := func(from, n int) {
		var es []onramp.UsageEvent
		for i := from; i < from+n; i++ {
			es = append(es, onramp.UsageEvent{ID: fmt.Sprintf("call_%03d", i), OrgID: org, At: p0.Add(time.Duration(i/2) * time.Second), // pairs share a time
				Environment: onramp.Sandbox, Product: "payments", Operation: "listPayments", Method: "GET", Path: "/payments", Status: 200})
		}
		// As a gateway node of their own stores them.
		node := fmt.Sprintf("node-%d", from)
		if err := f.usage.SaveNode(ctx, onramp.GatewayNode{ID: node, StartedAt: p0, SeenAt: p0.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for _, fl := range gateway.UsageFlushes(es, p0.Add(time.Hour), 0) {
			if err := f.usage.SaveUsage(ctx, node, fl); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(0, 120)
	calls := mustPage(t, h, base+"/calls?limit=45", "calls", member...)
	record(120, 30)
	var seen []string
	for p := calls; ; p = mustPage(t, h, base+"/calls?limit=45&cursor="+url.QueryEscape(p.Next), "calls", member...) {
		seen = append(seen, p.ids()...)
		if p.Next == "" {
			break
		}
	}
	if len(seen) != 120 || seen[0] != "call_118" || seen[119] != "call_001" || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != 120 {
		t.Errorf("the history in pages of 45 gave %d calls (%v … %v), want the 120 there were when it was opened, each once", len(seen), seen[0], seen[len(seen)-1])
	}
	mustProblem(t, h.do(t, "GET", base+"/calls?limit=201", nil, member...), 400, "invalid-request")
	mustProblem(t, h.do(t, "GET", base+"/calls?cursor=bogus", nil, member...), 400, "invalid-request")

	// The pages: the team's lists and the call history have their links.
	team := h.do(t, "GET", "/team?org="+org, nil, browser...)
	if team.Code != 200 || strings.Count(team.Body.String(), `<tr data-member=`) != 50 {
		t.Fatalf("team page = %d with %d members", team.Code, strings.Count(team.Body.String(), `<tr data-member=`))
	}
	more := h.do(t, "GET", link(t, team, "next"), nil, browser...)
	if strings.Count(more.Body.String(), `<tr data-member=`) != 10 {
		t.Errorf("the team's next page of members has %d, want the last 10", strings.Count(more.Body.String(), `<tr data-member=`))
	}
	usage := h.do(t, "GET", "/usage?org="+org, nil, browser...)
	older := link(t, usage, "next")
	if usage.Code != 200 || strings.Count(usage.Body.String(), `<tr data-call=`) != 50 || older == "" || link(t, usage, "prev") != "" {
		t.Fatalf("usage page = %d with %d calls (older %q)", usage.Code, strings.Count(usage.Body.String(), `<tr data-call=`), older)
	}
	page2 := h.do(t, "GET", older, nil, browser...)
	if !strings.Contains(page2.Body.String(), `data-call="call_099"`) || strings.Contains(page2.Body.String(), `data-call="call_100"`) || link(t, page2, "prev") == "" {
		t.Errorf("the older calls do not follow the first page, or offer no way back to the newest")
	}
}

// The review queues page: production requests soonest due first, rotations and quota requests
// oldest first, each with its own cursor on the admin page; the funnel's partners and the
// products page too.
func TestAdminQueuesPage(t *testing.T) {
	f := &fakes{}
	h := MustHarnessOn(t, testConfig(t, f))
	ctx := t.Context()
	mustCreateOrgs(t, f, 3, func(i int) string { return fmt.Sprintf("Partner %d", i) })
	for i := range 70 {
		due := p0.Add(time.Duration(i) * time.Minute)
		r := onramp.ProductionRequest{ID: fmt.Sprintf("prq_%02d", i), OrgID: fmt.Sprintf("org_%03d", i%3), Status: onramp.RequestReceived, SLADue: &due, CreatedAt: p0,
			History: []onramp.StatusChange{{Status: onramp.RequestReceived, At: p0}}, Products: []onramp.RequestedProduct{}, WebhookURLs: []string{}}
		if i >= 60 { // decided, half of them on time
			r.Status = onramp.RequestApproved
			r.History = append(r.History, onramp.StatusChange{Status: onramp.RequestApproved, At: due.Add(time.Duration(i%2) * time.Hour)})
		}
		if err := f.onboarding.SaveProductionRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		_ = f.rotations.SaveRotation(ctx, onramp.Rotation{ID: fmt.Sprintf("rot_%02d", i), OrgID: "org_000", Status: onramp.RotationPendingReview, Label: "CI", CreatedAt: due, UpdatedAt: due})
		_ = f.onboarding.SaveQuotaRequest(ctx, onramp.QuotaRequest{ID: fmt.Sprintf("qr_%02d", i), OrgID: "org_001", Status: onramp.QuotaPending, Product: "payments", CreatedAt: due, UpdatedAt: due})
		_ = f.onboarding.ReachStage(ctx, fmt.Sprintf("org_%03d", i), onramp.StageInvited, p0)
	}
	queue := mustPage(t, h, "/admin/api/v1/production-requests?limit=25", "requests", admin...)
	if got := queue.ids(); len(got) != 25 || got[0] != "prq_00" || queue.Next == "" {
		t.Fatalf("queue page = %v…", got[:1])
	}
	if all := walk(t, h, "/admin/api/v1/production-requests?limit=25", "requests", admin...); len(all) != 60 {
		t.Errorf("the open queue in pages: %d, want 60", len(all))
	}
	var body struct {
		SLA struct {
			Decided int64 `json:"decided"`
			OnTime  int64 `json:"on_time"`
		} `json:"sla_compliance"`
	}
	_ = json.Unmarshal(h.do(t, "GET", "/admin/api/v1/production-requests", nil, admin...).Body.Bytes(), &body)
	if body.SLA.Decided != 10 || body.SLA.OnTime != 5 {
		t.Errorf("compliance = %+v, want 5 of 10", body.SLA)
	}
	if all := walk(t, h, "/admin/api/v1/rotations?limit=30", "rotations", admin...); len(all) != 70 || all[0] != "rot_00" {
		t.Errorf("rotations: %d from %v, want 70 oldest first", len(all), all[:1])
	}
	if all := walk(t, h, "/admin/api/v1/quota-requests?limit=30", "quota_requests", admin...); len(all) != 70 {
		t.Errorf("quota requests: %d, want 70", len(all))
	}
	if all := walk(t, h, "/admin/api/v1/funnel?limit=30", "partners", admin...); len(all) != 70 {
		t.Errorf("the funnel's journeys: %d, want 70", len(all))
	}

	reviews := h.do(t, "GET", "/admin/reviews", nil, adminUI...)
	if reviews.Code != 200 || strings.Count(reviews.Body.String(), `<tr data-request=`) != 50 || strings.Count(reviews.Body.String(), `<tr data-rotation=`) != 50 {
		t.Fatalf("reviews page = %d", reviews.Code)
	}
	next := link(t, reviews, "next") // the production queue's
	if !strings.Contains(next, "queue_cursor=") {
		t.Fatalf("the first Next link is %q, want the queue's", next)
	}
	more := h.do(t, "GET", next, nil, adminUI...)
	if n := strings.Count(more.Body.String(), `<tr data-request=`); n != 10 || strings.Count(more.Body.String(), `<tr data-rotation=`) != 50 {
		t.Errorf("the queue's next page shows %d requests (want 10) and keeps the first page of rotations", n)
	}
	if rec := h.do(t, "GET", "/admin/funnel", nil, adminUI...); strings.Count(rec.Body.String(), `<tr data-org=`) != 50 || link(t, rec, "next") == "" {
		t.Errorf("the funnel page lists %d journeys", strings.Count(rec.Body.String(), `<tr data-org=`))
	}
}
