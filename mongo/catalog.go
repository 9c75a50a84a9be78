package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/onramp-dev/onramp"
)

// Catalog stores products, versions, plans and assignments (collections products,
// product_versions, plans, assignments). Versions are documents of their own, keyed
// "<product>/<version>", so publishing is a single insert: nothing is ever half-published.
type Catalog struct{ db *DB }

var (
	_ onramp.CatalogStore    = (*Catalog)(nil)
	_ onramp.AssignmentStore = (*Catalog)(nil)
)

// NewCatalog returns the store on db; it panics on a nil db.
func NewCatalog(db *DB) *Catalog {
	if db == nil {
		panic("mongo.NewCatalog: nil db")
	}
	return &Catalog{db: db}
}

// SaveProduct upserts p by slug.
func (s *Catalog) SaveProduct(ctx context.Context, p onramp.Product) error {
	p.UpdatedAt = p.UpdatedAt.UTC().Truncate(time.Millisecond)
	if _, err := s.db.Collection("products").ReplaceOne(ctx, bson.M{"_id": p.Slug}, p, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeProduct, p.Slug)
}

// FindProduct returns ENOTFOUND when no product has the slug.
func (s *Catalog) FindProduct(ctx context.Context, slug string) (onramp.Product, error) {
	return findByID[onramp.Product](ctx, s.db.Collection("products"), slug, "product")
}

// ListProducts returns every product by name.
func (s *Catalog) ListProducts(ctx context.Context) ([]onramp.Product, error) {
	return findAll[onramp.Product](ctx, s.db.Collection("products"), bson.M{}, bson.D{{Key: "name", Value: 1}, {Key: "_id", Value: 1}}, 0)
}

// PublishVersion inserts v; ECONFLICT when the product already has that version.
func (s *Catalog) PublishVersion(ctx context.Context, v onramp.ProductVersion) error {
	v.ID = onramp.VersionID(v.Product, v.Version)
	v.PublishedAt = v.PublishedAt.UTC().Truncate(time.Millisecond)
	_, err := s.db.Collection("product_versions").InsertOne(ctx, v)
	if mongo.IsDuplicateKeyError(err) {
		return onramp.Errorf(onramp.ECONFLICT, "%s %s is already published; publish a new version instead (published specs never change)", v.Product, v.Version)
	} else if err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeProduct, v.Product)
}

// UpdateVersion changes status, sunset, when it was deprecated and release notes; ENOTFOUND when
// absent.
func (s *Catalog) UpdateVersion(ctx context.Context, v onramp.ProductVersion) error {
	set, unset := bson.M{"status": v.Status, "release_notes": v.ReleaseNotes}, bson.M{}
	for field, t := range map[string]*time.Time{"sunset": v.Sunset, "deprecated_at": v.DeprecatedAt} {
		if t != nil {
			set[field] = t.UTC().Truncate(time.Millisecond)
		} else {
			unset[field] = ""
		}
	}
	update := bson.M{"$set": set}
	if len(unset) > 0 {
		update["$unset"] = unset
	}
	res, err := s.db.Collection("product_versions").UpdateOne(ctx, bson.M{"_id": onramp.VersionID(v.Product, v.Version)}, update)
	if err == nil && res.MatchedCount == 0 {
		return onramp.Errorf(onramp.ENOTFOUND, "%s has no version %q", v.Product, v.Version)
	} else if err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeProduct, v.Product)
}

// FindVersion returns ENOTFOUND when the product has no such version.
func (s *Catalog) FindVersion(ctx context.Context, product, version string) (onramp.ProductVersion, error) {
	return findByID[onramp.ProductVersion](ctx, s.db.Collection("product_versions"), onramp.VersionID(product, version), "version")
}

// ListVersions returns the product's versions in publication order.
func (s *Catalog) ListVersions(ctx context.Context, product string) ([]onramp.ProductVersion, error) {
	return findAll[onramp.ProductVersion](ctx, s.db.Collection("product_versions"), bson.M{"product": product}, bson.D{{Key: "number", Value: 1}, {Key: "published_at", Value: 1}}, 0)
}

// SavePlan upserts p by name.
func (s *Catalog) SavePlan(ctx context.Context, p onramp.Plan) error {
	_, err := s.db.Collection("plans").ReplaceOne(ctx, bson.M{"_id": p.Name}, p, options.Replace().SetUpsert(true))
	return err
}

// ListPlans returns every plan by name.
func (s *Catalog) ListPlans(ctx context.Context) ([]onramp.Plan, error) {
	return findAll[onramp.Plan](ctx, s.db.Collection("plans"), bson.M{}, bson.D{{Key: "_id", Value: 1}}, 0)
}

// SaveAssignment upserts a by organisation and product.
func (s *Catalog) SaveAssignment(ctx context.Context, a onramp.Assignment) error {
	a.ID = onramp.AssignmentID(a.OrgID, a.Product)
	a.UpdatedAt = a.UpdatedAt.UTC().Truncate(time.Millisecond)
	if _, err := s.db.Collection("assignments").ReplaceOne(ctx, bson.M{"_id": a.ID}, a, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeAssignments, a.OrgID)
}

// DeleteAssignment returns ENOTFOUND when there is nothing to delete.
func (s *Catalog) DeleteAssignment(ctx context.Context, orgID, product string) error {
	res, err := s.db.Collection("assignments").DeleteOne(ctx, bson.M{"_id": onramp.AssignmentID(orgID, product)})
	if err == nil && res.DeletedCount == 0 {
		return onramp.Errorf(onramp.ENOTFOUND, "the organisation has no assignment of %q", product)
	} else if err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeAssignments, orgID)
}

// DeleteAssignments removes every assignment of the organisation.
func (s *Catalog) DeleteAssignments(ctx context.Context, orgID string) error {
	if _, err := s.db.Collection("assignments").DeleteMany(ctx, bson.M{"org_id": orgID}); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeAssignments, orgID)
}

// AssignedTo reads the product's assignments' organisation ids (one query: an index on MongoDB,
// a scan of the assignments on FerretDB).
func (s *Catalog) AssignedTo(ctx context.Context, product string) ([]string, error) {
	cur, err := s.db.Collection("assignments").Find(ctx, bson.M{"product": product}, options.Find().SetProjection(bson.M{"org_id": 1}).SetSort(bson.D{{Key: "org_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var rows []struct {
		OrgID string `bson:"org_id"`
	}
	if err := cur.All(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.OrgID
	}
	return out, nil
}

// AssignmentsOf returns the organisation's assignments ordered by product.
func (s *Catalog) AssignmentsOf(ctx context.Context, orgID string) ([]onramp.Assignment, error) {
	return findAll[onramp.Assignment](ctx, s.db.Collection("assignments"), bson.M{"org_id": orgID}, bson.D{{Key: "product", Value: 1}}, 0)
}
