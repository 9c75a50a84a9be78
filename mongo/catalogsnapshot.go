package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/onramp-dev/onramp"
)

// AllVersions reads every product's versions in one pass, in publication order within each
// product: the catalog snapshot's first load (catalog.AllVersions), one read instead of one per
// product.
func (s *Catalog) AllVersions(ctx context.Context) ([]onramp.ProductVersion, error) {
	return findAll[onramp.ProductVersion](ctx, s.db.Collection("product_versions"), bson.M{}, bson.D{{Key: "product", Value: 1}, {Key: "number", Value: 1}}, 0)
}
