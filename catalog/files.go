package catalog

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/specs"
)

// Catalog files (the demo catalog in deploy/catalog, or CATALOG_DIR):
//
//	plans.yaml                     a list of plans (name, title, description, products → grant)
//	products/<slug>/product.yaml   the product and its versions (version, status, sunset, release_notes, spec)
//	products/<slug>/<spec file>    each version's OpenAPI document
type productFile struct {
	onramp.Product `yaml:",inline"`
	Versions       []struct {
		Version      string `yaml:"version"`
		Status       string `yaml:"status"`
		Sunset       string `yaml:"sunset"` // YYYY-MM-DD
		ReleaseNotes string `yaml:"release_notes"`
		Spec         string `yaml:"spec"`
	} `yaml:"versions"`
}

// LoadReport says what loading catalog files changed.
type LoadReport struct {
	Products, Plans, Published, Unchanged int
}

// LoadFiles loads catalog files: products and plans are upserted, new versions published,
// already-published versions whose document is unchanged skipped (their status, sunset and
// notes follow the file). A changed document for a published version is refused: versions are
// immutable, publish a new one. It stops at the first problem, naming the file.
func (c *Catalog) LoadFiles(ctx context.Context, fsys fs.FS) (LoadReport, error) {
	var r LoadReport
	dirs, err := fs.ReadDir(fsys, "products")
	if err != nil {
		return r, fmt.Errorf("catalog files: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if err := c.loadProduct(ctx, fsys, path.Join("products", d.Name()), &r); err != nil {
			return r, err
		}
	}
	src, err := fs.ReadFile(fsys, "plans.yaml")
	if err != nil {
		return r, fmt.Errorf("catalog files: %w", err)
	}
	var plans []onramp.Plan
	if err := yaml.Unmarshal(src, &plans); err != nil {
		return r, fmt.Errorf("catalog files: plans.yaml: %w", err)
	}
	for _, p := range plans {
		for slug, g := range p.Products {
			if _, err := c.cfg.Store.FindProduct(ctx, slug); err != nil {
				return r, fmt.Errorf("catalog files: plans.yaml: plan %s names product %q, which has no products/%s/product.yaml", p.Name, slug, slug)
			}
			if err := g.Validate(); err != nil {
				return r, fmt.Errorf("catalog files: plans.yaml: plan %s, product %s: %s", p.Name, slug, onramp.ErrorMessage(err))
			}
		}
		if p.MaxCredentialAge != "" {
			if d, err := time.ParseDuration(p.MaxCredentialAge); err != nil || d <= 0 {
				return r, fmt.Errorf("catalog files: plans.yaml: plan %s: max_credential_age %q must be a duration such as 2160h", p.Name, p.MaxCredentialAge)
			}
		}
		if err := c.cfg.Store.SavePlan(ctx, p); err != nil {
			return r, err
		}
		r.Plans++
	}
	return r, nil
}

func (c *Catalog) loadProduct(ctx context.Context, fsys fs.FS, dir string, r *LoadReport) error {
	name := path.Join(dir, "product.yaml")
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return fmt.Errorf("catalog files: %w", err)
	}
	var pf productFile
	if err := yaml.Unmarshal(src, &pf); err != nil {
		return fmt.Errorf("catalog files: %s: %w", name, err)
	}
	if err := c.SaveProduct(ctx, pf.Product); err != nil {
		return fmt.Errorf("catalog files: %s: %s", name, onramp.ErrorMessage(err))
	}
	r.Products++
	published, err := c.cfg.Store.ListVersions(ctx, pf.Slug)
	if err != nil {
		return err
	}
	for _, fv := range pf.Versions {
		specName := path.Join(dir, fv.Spec)
		doc, err := fs.ReadFile(fsys, specName)
		if err != nil {
			return fmt.Errorf("catalog files: %s, version %s: %w", name, fv.Version, err)
		}
		var sunset *time.Time
		if fv.Sunset != "" {
			t, err := time.Parse(time.DateOnly, fv.Sunset)
			if err != nil {
				return fmt.Errorf("catalog files: %s, version %s: sunset %q is not YYYY-MM-DD", name, fv.Version, fv.Sunset)
			}
			sunset = &t
		}
		i := slices.IndexFunc(published, func(v onramp.ProductVersion) bool { return v.Version == fv.Version })
		if i < 0 {
			if _, err := c.Publish(ctx, Publish{Product: pf.Slug, Version: fv.Version, Status: fv.Status, Sunset: sunset, ReleaseNotes: fv.ReleaseNotes, Spec: doc}); err != nil {
				return fmt.Errorf("catalog files: %s: %s%s", specName, onramp.ErrorMessage(err), detailText(err))
			}
			r.Published++
			continue
		}
		spec, err := specs.Parse(ctx, doc)
		if err != nil {
			return fmt.Errorf("catalog files: %s: %s%s", specName, onramp.ErrorMessage(err), detailText(err))
		}
		if spec.SHA256() != published[i].SpecSHA256 {
			return fmt.Errorf("catalog files: %s changed after %s %s was published; published versions never change: give the new document a new version", specName, pf.Slug, fv.Version)
		}
		if _, err := c.UpdateVersion(ctx, pf.Slug, fv.Version, fv.Status, sunset, fv.ReleaseNotes); err != nil {
			return fmt.Errorf("catalog files: %s, version %s: %s", name, fv.Version, onramp.ErrorMessage(err))
		}
		r.Unchanged++
	}
	return nil
}

func detailText(err error) string {
	s := ""
	for _, d := range onramp.ErrorDetails(err) {
		s += "\n  " + d.Location + ": " + d.Message
	}
	return s
}
