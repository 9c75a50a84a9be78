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

// ProductPage returns a page of the products, by name, each with its versions. EINVALID for a
// bad page.
func (c *Catalog) ProductPage(ctx context.Context, page onramp.PageRequest) (onramp.Page[ProductAdmin], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[ProductAdmin]{}, err
	}
	ps, err := c.cfg.Store.ProductPage(ctx, page)
	if err != nil {
		return onramp.Page[ProductAdmin]{}, err
	}
	out := onramp.Page[ProductAdmin]{Items: make([]ProductAdmin, 0, len(ps.Items)), Next: ps.Next, Prev: ps.Prev}
	for _, p := range ps.Items {
		pa, err := c.withVersions(ctx, p)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, pa)
	}
	return out, nil
}

// ProductList lists every product, without its versions, by name: what a form offers.
func (c *Catalog) ProductList(ctx context.Context) ([]onramp.Product, error) {
	return c.cfg.Store.ListProducts(ctx)
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
