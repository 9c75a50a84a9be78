package api_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"html"
	"io"
	"mime/multipart"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/specs"
)

// accountsBundle is accounts v2 split over two files; owner is where schemas/account.yaml's
// owner property points.
func accountsBundle(tb testing.TB, owner string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, content := range map[string]string{
		"openapi.yaml": `openapi: 3.0.3
info: {title: Accounts, version: ''}
paths:
  /accounts:
    get:
      summary: List accounts
      responses:
        '200':
          description: The accounts.
          content:
            application/json:
              schema: {type: array, items: {$ref: 'schemas/account.yaml'}}
`,
		"schemas/account.yaml": "type: object\nproperties:\n  id: {type: string}\n  owner: {$ref: '" + owner + "'}\n",
		"schemas/owner.yaml":   "type: object\nproperties:\n  name: {type: string}\n",
	} {
		f, err := w.Create(name)
		if err == nil {
			_, err = f.Write([]byte(content))
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// multipartBody is a form with fields and, when file is not nil, the file.
func multipartBody(tb testing.TB, fields map[string]string, file []byte) (io.Reader, string) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	if file != nil {
		f, err := w.CreateFormFile("file", "accounts.zip")
		if err == nil {
			_, err = f.Write(file)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return &buf, w.FormDataContentType()
}

// The admin API takes a bundle as a multipart file: it publishes with its files and findings,
// and a bundle whose $ref leaves it is refused with the place it is written.
func TestAdminPublishesABundle(t *testing.T) {
	h := MustHarness(t, true)
	auth := []string{"Authorization", "Bearer " + adminToken}
	body, ctype := multipartBody(t, map[string]string{"version": "v2", "dry_run": "false"}, accountsBundle(t, "https://schemas.example.com/owner.yaml"))
	rec := h.do(t, "POST", "/admin/api/v1/products/accounts/versions", body, append(auth, "Content-Type", ctype)...)
	p := mustProblem(t, rec, 400, "invalid-request")
	if len(p.Errors) != 1 || p.Errors[0].Location != "schemas/account.yaml:properties.owner.$ref" || !strings.Contains(p.Errors[0].Message, "URL") {
		t.Fatalf("errors = %+v, want the URL $ref located in schemas/account.yaml", p.Errors)
	}

	body, ctype = multipartBody(t, map[string]string{"version": "v2", "release_notes": "Split."}, accountsBundle(t, "owner.yaml"))
	rec = h.do(t, "POST", "/admin/api/v1/products/accounts/versions", body, append(auth, "Content-Type", ctype)...)
	if rec.Code != 201 {
		t.Fatalf("publish = %d %s", rec.Code, rec.Body)
	}
	var out catalog.Published
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if strings.Join(out.Files, ",") != "openapi.yaml,schemas/account.yaml,schemas/owner.yaml" || out.Version.Operations[0].ID != "getAccounts" {
		t.Errorf("published files %v, operations %+v", out.Files, out.Version.Operations)
	}
	rules := map[string]bool{}
	for _, f := range out.Findings {
		rules[f.Rule] = true
	}
	if !rules["info-version-empty"] || !rules["operation-id-missing"] || len(out.Findings) != len(out.Version.Findings) {
		t.Errorf("findings = %+v, want the empty version and the derived operationId", out.Findings)
	}
}

// The JSON API takes a bundle base64-encoded and refuses spec and bundle together.
func TestAdminPublishJSONBundle(t *testing.T) {
	h := MustHarness(t, true)
	auth := []string{"Authorization", "Bearer " + adminToken, "Content-Type", "application/json"}
	send := func(body map[string]any) *httptest.ResponseRecorder {
		b, _ := json.Marshal(body)
		return h.do(t, "POST", "/admin/api/v1/products/accounts/versions", bytes.NewReader(b), auth...)
	}
	if rec := send(map[string]any{"version": "v2", "bundle": accountsBundle(t, "owner.yaml"), "dry_run": true}); rec.Code != 200 {
		t.Errorf("bundle dry run = %d %s", rec.Code, rec.Body)
	}
	mustProblem(t, send(map[string]any{"version": "v2", "bundle": accountsBundle(t, "owner.yaml"), "spec": "openapi: 3.0.3"}), 400, "invalid-request")
	mustProblem(t, send(map[string]any{"version": "v2", "bundle": "bm90IGFuIGFyY2hpdmU="}), 400, "invalid-request")
}

// The admin page previews a bundle with its files and documentation quality, the confirmation
// publishes the same bundle, and the product page then lists the version's findings.
func TestAdminPublishPageShowsDocumentationQuality(t *testing.T) {
	h := MustHarness(t, true)
	cookie := []string{"Cookie", "onramp_admin=" + adminToken}
	body, ctype := multipartBody(t, map[string]string{"version": "v2", "status": "current"}, accountsBundle(t, "owner.yaml"))
	rec := h.do(t, "POST", "/admin/products/accounts/publish", body, append(cookie, "Content-Type", ctype)...)
	page := rec.Body.String()
	if rec.Code != 200 || !strings.Contains(page, "merged from 3 files") || !strings.Contains(page, "info-version-empty") || !strings.Contains(page, "2 warnings") {
		t.Fatalf("preview = %d, want the files and the findings:\n%s", rec.Code, page)
	}
	m := regexp.MustCompile(`name="bundle" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the confirmation form does not carry the bundle:\n%s", page)
	}
	body, ctype = multipartBody(t, map[string]string{"version": "v2", "status": "current", "bundle": html.UnescapeString(m[1]), "confirm": "1"}, nil)
	if rec := h.do(t, "POST", "/admin/products/accounts/publish", body, append(cookie, "Content-Type", ctype)...); rec.Code != 303 {
		t.Fatalf("confirm = %d %s", rec.Code, rec.Body)
	}
	rec = h.do(t, "GET", "/admin/products/accounts", nil, cookie...)
	page = rec.Body.String()
	quality := page[strings.Index(page, `aria-label="Documentation quality"`):]
	if !strings.Contains(quality, `data-version="v2"`) || !strings.Contains(quality, `data-version="v1"`) || strings.Index(quality, `data-version="v2"`) > strings.Index(quality, `data-version="v1"`) {
		t.Errorf("the product page's quality section does not list v2 then v1:\n%s", quality)
	}
	if !strings.Contains(quality, "info.version") || !strings.Contains(quality, onramp.SeverityWarning) {
		t.Errorf("v2's findings are not listed:\n%s", quality)
	}
}

// An upload over the limit is refused before it is stored anywhere, in the API and the UI.
func TestAdminPublishRefusesAnOversizedUpload(t *testing.T) {
	h := MustHarness(t, true)
	huge := bytes.Repeat([]byte("#"), 2*specs.MaxDocumentBytes+1)
	for path, auth := range map[string][]string{
		"/admin/api/v1/products/accounts/versions": {"Authorization", "Bearer " + adminToken},
		"/admin/products/accounts/publish":         {"Cookie", "onramp_admin=" + adminToken},
	} {
		body, ctype := multipartBody(t, map[string]string{"version": "v2"}, huge)
		rec := h.do(t, "POST", path, body, append(auth, "Content-Type", ctype)...)
		if rec.Code != 413 || !strings.Contains(rec.Body.String(), "up to 24 MiB") {
			t.Errorf("%s: %d %.300s, want 413 saying the upload is too large", path, rec.Code, rec.Body)
		}
	}
	body, ctype := multipartBody(t, map[string]string{"version": "v2", "dry_run": "true"}, bytes.Repeat([]byte("#"), specs.MaxDocumentBytes))
	if rec := h.do(t, "POST", "/admin/api/v1/products/accounts/versions", body, "Authorization", "Bearer "+adminToken, "Content-Type", ctype); rec.Code != 400 || !strings.Contains(rec.Body.String(), "not an OpenAPI document") {
		t.Errorf("a file of exactly 12 MiB: %d %.300s, want it read (and refused for what it holds)", rec.Code, rec.Body)
	}
	body, ctype = multipartBody(t, map[string]string{"version": "v2", "dry_run": "true"}, bytes.Repeat([]byte("#"), specs.MaxDocumentBytes+1))
	if rec := h.do(t, "POST", "/admin/api/v1/products/accounts/versions", body, "Authorization", "Bearer "+adminToken, "Content-Type", ctype); rec.Code != 400 || !strings.Contains(rec.Body.String(), "larger than 12 MiB") {
		t.Errorf("a file one byte over: %d %.300s, want 400", rec.Code, rec.Body)
	}
}
