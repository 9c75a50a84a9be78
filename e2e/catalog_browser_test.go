package e2e

import (
	"archive/zip"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// A standard partner browses the catalog: sees its two products, searches, opens Payments and
// finds the breaking v2 changelog and the refund operation marked as outside its plan.
func TestE2ECatalogBrowserPartner(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Browse Co")
	ctx := MustBrowser(t)
	MustBrowserSignIn(t, st, ctx, org.ContactEmail)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/catalog?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS(`article[data-product="payments"]`)),
	); err != nil {
		t.Fatalf("opening the catalog: %v", err)
	}
	cards := MustRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("article[data-product]")].map(a => a.dataset.product)`))
	if strings.Join(cards, ",") != "accounts,payments" {
		t.Errorf("catalog cards = %v, want accounts and payments only", cards)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#q"), "balance"),
		chromedp.Submit(chromedp.CSS("#q")),
	); err != nil {
		t.Fatal(err)
	}
	if err := waitForPage(ctx, func(search string) bool { return strings.Contains(search, "q=balance") }); err != nil {
		t.Fatal(err)
	}
	cards = MustRun(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("article[data-product]")].map(a => a.dataset.product)`))
	if strings.Join(cards, ",") != "accounts" {
		t.Errorf("search for balance = %v, want accounts", cards)
	}

	if err := chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/catalog/payments?org="+org.ID),
		chromedp.WaitVisible(chromedp.CSS("#changelog")),
	); err != nil {
		t.Fatalf("opening Payments: %v", err)
	}
	maybeScreenshot(t, ctx, "catalog-product")
	changelog := MustRun(t, ctx, chromedp.Text(chromedp.CSS("#changelog")))
	for _, want := range []string{"since v1", "Breaking changes", "Idempotency-Key"} {
		if !strings.Contains(changelog, want) {
			t.Errorf("changelog section lacks %q:\n%s", want, changelog)
		}
	}
	if n := MustRun(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#changelog li.change.breaking").length`)); n < 2 {
		t.Errorf("%d breaking changes highlighted, want at least 2", n)
	}
	refund := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`details[data-operation="refundPayment"] summary`)))
	if !strings.Contains(refund, "not in your plan") || !strings.Contains(refund, "payments:refund") {
		t.Errorf("refund operation summary = %q, want it marked not in your plan with its scope", refund)
	}
	create := MustRun(t, ctx, chromedp.Text(chromedp.CSS(`details[data-operation="createPayment"] summary`)))
	if strings.Contains(create, "not in your plan") {
		t.Errorf("createPayment is marked unavailable on the standard plan: %q", create)
	}
	quality := MustRun(t, ctx, chromedp.Text(chromedp.CSS("#quality details.quality summary")))
	if !strings.Contains(quality, "errors") || !strings.Contains(quality, "warnings") || !strings.Contains(quality, "info") {
		t.Errorf("documentation quality summary = %q, want the counts by severity", quality)
	}
	href := MustRun(t, ctx, chromedp.Evaluate[string](`document.querySelector("a[download]").href`))
	if !strings.HasSuffix(strings.Split(href, "?")[0], "/catalog/payments/versions/v2/openapi.yaml") {
		t.Errorf("download link = %s", href)
	}
	body := MustRun(t, ctx, chromedp.Evaluate[string](`fetch(document.querySelector("a[download]").href).then(r => r.text())`, func(p *runtime.EvaluateParams) { awaitPromise := true; p.AwaitPromise = &awaitPromise }))
	if !strings.Contains(body, "openapi: 3.0.3") || strings.Contains(body, "refundPayment") {
		t.Errorf("the browser download is not the scoped document:\n%.300s", body)
	}
}

// The provider publishes from the admin UI: an unusable upload lists every located problem; a
// zip bundle shows its preview with its files and documentation quality and is published on
// confirmation; the product is then assigned to a partner from the partner page. The Policies
// page shows the running version.
func TestE2ECatalogBrowserAdminPublish(t *testing.T) {
	st := MustSharedStack(t)
	org := MustInvitePartner(t, st, "Assigned Co")
	slug := "notes-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	dir := t.TempDir()
	bad, good := filepath.Join(dir, "bad.yaml"), filepath.Join(dir, "notes.zip")
	if err := os.WriteFile(bad, []byte("openapi: 3.0.3\ninfo: {title: Notes, version: '1'}\npaths:\n  /notes:\n    get:\n      x-onramp-scope: notes\n      responses: {'200': {description: ok}}\n    post:\n      x-onramp-scope: Notes:Write\n      responses: {'201': {description: created}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	MustWriteZip(t, good, map[string]string{
		"openapi.yaml":      "openapi: 3.0.3\ninfo: {title: Notes, version: ''}\npaths:\n  /notes:\n    get:\n      operationId: listNotes\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {$ref: 'schemas/note.yaml'}\n",
		"schemas/note.yaml": "type: object\nproperties:\n  text: {type: string}\n",
	})
	ctx := MustBrowser(t)
	err := chromedp.Do(ctx,
		AdminSignIn(t, st),
		chromedp.Navigate(st.PortalURL+"/admin/products"),
		chromedp.WaitVisible(chromedp.CSS("#product-form")),
		chromedp.SendKeys(chromedp.CSS(`#product-form input[name="slug"]`), slug),
		chromedp.SendKeys(chromedp.CSS(`#product-form input[name="name"]`), "Notes"),
		chromedp.Submit(chromedp.CSS(`#product-form input[name="slug"]`)),
		chromedp.WaitVisible(chromedp.CSS("#publish-form")),
		chromedp.SendKeys(chromedp.CSS(`#publish-form input[name="version"]`), "v1"),
		chromedp.SetUploadFiles(chromedp.CSS(`#publish-form input[name="file"]`), []string{bad}),
		chromedp.Submit(chromedp.CSS(`#publish-form input[name="version"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ol.problems`)),
	)
	if err != nil {
		t.Fatalf("uploading an invalid document: %v", err)
	}
	problems := MustRun(t, ctx, chromedp.Text(chromedp.CSS("ol.problems")))
	if !strings.Contains(problems, "paths./notes.get.x-onramp-scope:") || !strings.Contains(problems, "paths./notes.post.x-onramp-scope:") {
		t.Errorf("problems listed = %q, want each with its location", problems)
	}
	err = chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.CSS(`#publish-form input[name="file"]`), []string{good}),
		chromedp.Submit(chromedp.CSS(`#publish-form input[name="version"]`)),
		chromedp.WaitVisible(chromedp.CSS("#confirm-publish")),
	)
	if err != nil {
		t.Fatalf("previewing a bundle: %v", err)
	}
	preview := MustRun(t, ctx, chromedp.TextContent(chromedp.CSS("#preview")))
	for _, want := range []string{"merged from 2 files", "schemas/note.yaml", "1 warning", "info.version"} {
		if !strings.Contains(preview, want) {
			t.Errorf("the preview lacks %q:\n%s", want, preview)
		}
	}
	if rows := MustRun(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr[data-version]").length`)); rows != 0 {
		t.Fatalf("the preview published already (%d versions)", rows)
	}
	maybeScreenshot(t, ctx, "admin-publish-preview")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#confirm-publish")), chromedp.WaitVisible(chromedp.CSS(`tr[data-version="v1"]`))); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	if q := MustRun(t, ctx, chromedp.TextContent(chromedp.CSS(`#quality details[data-version="v1"]`))); !strings.Contains(q, "info-version-empty") {
		t.Errorf("the product page's documentation quality for v1 = %q, want its findings", q)
	}
	// Deprecate it with a sunset date from the version row.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`tr[data-version="v1"] select[name="status"]`), "deprecated"),
		chromedp.SetValue(chromedp.CSS(`tr[data-version="v1"] input[name="sunset"]`), "2027-06-30"),
		chromedp.Submit(chromedp.CSS(`tr[data-version="v1"] select[name="status"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if err != nil {
		t.Fatalf("deprecating v1: %v", err)
	}
	var version struct {
		Versions []struct{ Status, Sunset string } `json:"versions"`
	}
	MustGetJSON(t, st.PortalURL+"/admin/api/v1/products/"+slug, http.StatusOK, &version, "Authorization", "Bearer "+MustAdminToken(t, st))
	if len(version.Versions) != 1 || version.Versions[0].Status != "deprecated" || version.Versions[0].Sunset != "2027-06-30" {
		t.Errorf("after deprecating from the UI: %+v", version.Versions)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(st.PortalURL+"/admin/partners/"+org.ID),
		chromedp.WaitVisible(chromedp.CSS("#assign-form")),
		chromedp.SetValue(chromedp.CSS(`#assign-form select[name="product"]`), slug),
		chromedp.SendKeys(chromedp.CSS(`#assign-form input[name="scopes"]`), slug+":read"),
		chromedp.Submit(chromedp.CSS(`#assign-form input[name="scopes"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-product="`+slug+`"]`)),
	)
	if err != nil {
		t.Fatalf("assigning from the partner page: %v", err)
	}
	token := MustAPISignIn(t, st, org.ContactEmail)
	if got := mustCatalog(t, st, org, token, "").slugs(); !strings.Contains(got, slug) {
		t.Errorf("the partner's catalog = %s, want %s in it", got, slug)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(st.PortalURL+"/admin/policies"), chromedp.WaitVisible(chromedp.CSS("#policy-version"))); err != nil {
		t.Fatal(err)
	}
	if v := MustRun(t, ctx, chromedp.Text(chromedp.CSS("#policy-version"))); len(v) != 64 {
		t.Errorf("policy version shown = %q, want a SHA-256", v)
	}
}

// MustWriteZip writes files (path → content) as a zip archive at name.
func MustWriteZip(tb testing.TB, name string, files map[string]string) {
	tb.Helper()
	f, err := os.Create(name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := zip.NewWriter(f)
	for path, content := range files {
		entry, err := w.Create(path)
		if err == nil {
			_, err = entry.Write([]byte(content))
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}
