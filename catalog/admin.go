package catalog

import (
	"context"

	"github.com/onramp-dev/onramp"
)

// The provider's listings of the catalog: what the admin pages and the admin API show.

// ProductAdmin is a product as the provider sees it: every version, in publication order, and
// the scopes its operations need.
type ProductAdmin struct {
	Product  onramp.Product
	Versions []onramp.ProductVersion
	Scopes   []string
}

// ProductAdmin returns one product with its versions; ENOTFOUND for an unknown slug.
func (c *Catalog) ProductAdmin(ctx context.Context, slug string) (ProductAdmin, error) {
	p, err := c.cfg.Store.FindProduct(ctx, slug)
	if err != nil {
		return ProductAdmin{}, err
	}
	return c.withVersions(ctx, p)
}

// Products returns every product with its versions.
func (c *Catalog) Products(ctx context.Context) ([]ProductAdmin, error) {
	ps, err := c.cfg.Store.ListProducts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ProductAdmin, 0, len(ps))
	for _, p := range ps {
		pa, err := c.withVersions(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, pa)
	}
	return out, nil
}

func (c *Catalog) withVersions(ctx context.Context, p onramp.Product) (ProductAdmin, error) {
	vs, err := c.cfg.Store.ListVersions(ctx, p.Slug)
	if err != nil {
		return ProductAdmin{}, err
	}
	return ProductAdmin{Product: p, Versions: c.stampedAll(vs), Scopes: ScopesOf(vs)}, nil
}

// Version returns one published version with its phase; ENOTFOUND when there is no such version.
func (c *Catalog) Version(ctx context.Context, slug, version string) (onramp.ProductVersion, error) {
	v, err := c.cfg.Store.FindVersion(ctx, slug, version)
	return c.stamped(v), err
}
