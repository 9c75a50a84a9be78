package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog"
	"github.com/onramp-dev/onramp/web"
)

// The partner's product page shows the version's documentation quality: counts by severity and
// the findings, collapsed, with no inline style.
func TestProductPageShowsDocumentationQuality(t *testing.T) {
	pages, err := web.Templates()
	if err != nil {
		t.Fatal(err)
	}
	findings := []onramp.Finding{
		{Rule: "example-invalid", Severity: onramp.SeverityWarning, Location: "components.schemas.Payment", Message: "invalid example"},
		{Rule: "security-scheme-undefined", Severity: onramp.SeverityError, Location: "paths./payments.post", Message: "undefined scheme"},
	}
	v := catalog.ProductView{Version: onramp.ProductVersion{Version: "v2", Status: onramp.VersionCurrent, Findings: findings}}
	v.Product = onramp.Product{Slug: "payments", Name: "Payments"}
	var out bytes.Buffer
	if err := pages["product.html"].ExecuteTemplate(&out, "layout", productPageView{View: v, Quality: qualityOf("v2", findings)}); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	i := strings.Index(page, `aria-label="Documentation quality"`)
	if i < 0 {
		t.Fatalf("no documentation quality section:\n%s", page)
	}
	section := page[i : i+strings.Index(page[i:], "</section>")]
	for _, want := range []string{"1 error<", "1 warning<", "0 info<", "<details", "components.schemas.Payment", "security-scheme-undefined"} {
		if !strings.Contains(section, want) {
			t.Errorf("the section lacks %q:\n%s", want, section)
		}
	}
	if strings.Contains(section, "style=") || strings.Contains(section, "<script") {
		t.Errorf("the section has inline style or script:\n%s", section)
	}
}
