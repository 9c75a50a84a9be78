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
//	products/<slug>/<spec file>    each version's OpenAPI document; its relative $refs may name
//	                               other files of the product's directory (e.g. v3/openapi.yaml
//	                               referring to v3/schemas/*.yaml), never files outside it
type productFile struct {
	onramp.Product `yaml:",inline"`
	Versions       []fileVersion `yaml:"versions"`
}

type fileVersion struct {
	Version      string `yaml:"version"`
	Status       string `yaml:"status"`
	Sunset       string `yaml:"sunset"` // YYYY-MM-DD
	ReleaseNotes string `yaml:"release_notes"`
	Spec         string `yaml:"spec"` // relative to the product's directory
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
	productDir, err := fs.Sub(fsys, dir)
	if err != nil {
		return fmt.Errorf("catalog files: %w", err)
	}
	for _, fv := range pf.Versions {
		changed, err := c.loadVersion(ctx, productDir, path.Join(dir, fv.Spec), pf.Slug, fv, published)
		if err != nil {
			return err
		}
		if changed {
			r.Published++
		} else {
			r.Unchanged++
		}
	}
	return nil
}

// loadVersion publishes fv's document (its relative $refs resolve inside productDir) unless it
// is published already, and reports whether it did; a published version's status, sunset and
// notes follow the file, its document may not change.
// Errors name the document as specName.
func (c *Catalog) loadVersion(ctx context.Context, productDir fs.FS, specName, product string, fv fileVersion, published []onramp.ProductVersion) (bool, error) {
	var sunset *time.Time
	if fv.Sunset != "" {
		t, err := time.Parse(time.DateOnly, fv.Sunset)
		if err != nil {
			return false, fmt.Errorf("catalog files: %s, version %s: sunset %q is not YYYY-MM-DD", specName, fv.Version, fv.Sunset)
		}
		sunset = &t
	}
	spec, err := specs.ParseFS(ctx, productDir, fv.Spec)
	if err != nil {
		return false, fmt.Errorf("catalog files: %s: %s%s", specName, errorText(err), detailText(err))
	}
	i := slices.IndexFunc(published, func(v onramp.ProductVersion) bool { return v.Version == fv.Version })
	if i < 0 {
		v, err := c.newVersion(ctx, Publish{Product: product, Version: fv.Version, Status: fv.Status, Sunset: sunset, ReleaseNotes: fv.ReleaseNotes})
		if err == nil {
			_, err = c.publish(ctx, v, spec, false)
		}
		if err != nil {
			return false, fmt.Errorf("catalog files: %s, version %s: %s", specName, fv.Version, errorText(err))
		}
		return true, nil
	}
	if spec.SHA256() != published[i].SpecSHA256 {
		return false, fmt.Errorf("catalog files: %s changed after %s %s was published; published versions never change: give the new document a new version", specName, product, fv.Version)
	}
	if _, err := c.UpdateVersion(ctx, product, fv.Version, fv.Status, sunset, fv.ReleaseNotes); err != nil {
		return false, fmt.Errorf("catalog files: %s, version %s: %s", specName, fv.Version, errorText(err))
	}
	return false, nil
}

// errorText is err's caller-safe message, or the error itself when it is not an onramp.Error
// (a missing file): the operator reading the catalog files needs to see it.
func errorText(err error) string {
	if onramp.ErrorCode(err) == onramp.EINTERNAL {
		return err.Error()
	}
	return onramp.ErrorMessage(err)
}

func detailText(err error) string {
	s := ""
	for _, d := range onramp.ErrorDetails(err) {
		s += "\n  " + d.Location + ": " + d.Message
	}
	return s
}
