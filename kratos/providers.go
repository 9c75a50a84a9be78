package kratos

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/onramp-dev/onramp"
)

// ProviderEntries is Kratos's selfservice.methods.oidc.config.providers for every organisation
// with SSO: one generic provider each, its id the organisation's id, its claims mapper the
// template (deploy/kratos/oidc-mapper.jsonnet) bound to that organisation's own domains, inline.
func ProviderEntries(orgs []onramp.Organization, mapper []byte) ([]map[string]any, []string) {
	entries, ids := []map[string]any{}, []string{}
	for _, o := range orgs {
		if o.SSO == nil {
			continue
		}
		entries = append(entries, map[string]any{
			"id": o.ID, "provider": "generic", "label": o.Name + " SSO",
			"client_id": o.SSO.ClientID, "client_secret": o.SSO.ClientSecret,
			"issuer_url": o.SSO.Issuer, "mapper_url": MapperURL(o, mapper),
			"scope": []string{"openid", "email", "profile"}, "pkce": "auto",
		})
		ids = append(ids, o.ID)
	}
	return entries, ids
}

// MapperURL is o's claims mapper as a base64:// URL: the template with the organisation's name
// and SSO domains bound (JSON literals are valid Jsonnet).
func MapperURL(o onramp.Organization, template []byte) string {
	name, _ := json.Marshal(o.Name)
	domains, _ := json.Marshal(o.SSO.Domains)
	src := fmt.Sprintf("local organisation = %s;\nlocal domains = %s;\n%s", name, domains, template)
	return "base64://" + base64.StdEncoding.EncodeToString([]byte(src))
}

// WaitForProviders polls a fresh API login flow until Kratos offers every provider id: Kratos
// reloads its configuration files on change, a moment after they are written.
func WaitForProviders(ctx context.Context, publicURL string, ids []string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(publicURL, "/")+"/self-service/login/api", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			missing := false
			for _, id := range ids {
				missing = missing || !strings.Contains(string(body), `"value":"`+id+`"`)
			}
			if !missing {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return onramp.Errorf(onramp.EUNAVAILABLE, "the identity service did not load the SSO providers within 20s; re-send the invitation to retry")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ProvidersFile keeps the providers in a Kratos configuration file of their own, given to Kratos
// as a second `-c` (production: a volume shared by the portal and Kratos).
type ProvidersFile struct {
	Path      string
	Mapper    []byte // deploy/kratos/oidc-mapper.jsonnet
	PublicURL string
}

// SyncProviders writes the file atomically and waits until Kratos offers the providers.
func (p ProvidersFile) SyncProviders(ctx context.Context, orgs []onramp.Organization) error {
	entries, ids := ProviderEntries(orgs, p.Mapper)
	doc := map[string]any{"selfservice": map[string]any{"methods": map[string]any{"oidc": map[string]any{
		"enabled": true, "config": map[string]any{"providers": entries}}}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	tmp := filepath.Join(filepath.Dir(p.Path), "."+filepath.Base(p.Path)+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p.Path, err)
	}
	if err := os.Rename(tmp, p.Path); err != nil {
		return err
	}
	return WaitForProviders(ctx, p.PublicURL, ids)
}
