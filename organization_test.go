package onramp_test

import (
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
)

func TestSSOConfigRefusesDomainsNoCompanyOwns(t *testing.T) {
	valid := func(domains ...string) *onramp.SSOConfig {
		return &onramp.SSOConfig{Issuer: "https://login.partner.example", ClientID: "c", ClientSecret: "s", Domains: domains}
	}
	for _, d := range []string{"gmail.com", "Outlook.com", " proton.me "} {
		err := valid("partner.example", d).Validate()
		if onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(err.Error(), "public mail service") {
			t.Errorf("domain %q: %v, want EINVALID naming a public mail service", d, err)
		}
	}
	for _, d := range []string{"not a domain", "partner", "-x.example"} {
		if err := valid(d).Validate(); onramp.ErrorCode(err) != onramp.EINVALID {
			t.Errorf("domain %q: %v, want EINVALID", d, err)
		}
	}
	sso := valid("Partner.Example", " eu.partner.example")
	if err := sso.Validate(); err != nil || sso.Domains[0] != "partner.example" || sso.Domains[1] != "eu.partner.example" {
		t.Errorf("company domains: %v, %v; want them accepted, lower-cased and trimmed", err, sso.Domains)
	}
}
