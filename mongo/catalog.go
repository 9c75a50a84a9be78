package mongo

import (
	"context"
	"fmt"
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
	old, err := s.FindProduct(ctx, p.Slug)
	var before []listItem
	if err == nil {
		before = []listItem{item("products", old.Position(), nil)}
	} else if onramp.ErrorCode(err) != onramp.ENOTFOUND {
		return err
	}
	if _, err := s.db.Collection("products").ReplaceOne(ctx, bson.M{"_id": p.Slug}, p, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	if err := s.db.syncLists(ctx, before, []listItem{item("products", p.Position(), p)}); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeProduct, p.Slug)
}

// FindProduct returns ENOTFOUND when no product has the slug.
func (s *Catalog) FindProduct(ctx context.Context, slug string) (onramp.Product, error) {
	return findByID[onramp.Product](ctx, s.db.Collection("products"), slug, "product")
}

// ListProducts returns every product by name (from the product list).
func (s *Catalog) ListProducts(ctx context.Context) ([]onramp.Product, error) {
	return allOf[onramp.Product](ctx, s.db, "products")
}

// ProductPage returns a page of the products, by name.
func (s *Catalog) ProductPage(ctx context.Context, page onramp.PageRequest) (onramp.Page[onramp.Product], error) {
	if err := page.Validate(); err != nil {
		return onramp.Page[onramp.Product]{}, err
	}
	return pageOf[onramp.Product](ctx, s.db, pageQuery{lists: []string{"products"}, req: page})
}

// versionItem is v's entry in its product's list of versions (by number; the documents, specs
// and all, are read by _id).
func versionItem(v onramp.ProductVersion) listItem {
	return item("versions/"+v.Product, onramp.Position{Key: fmt.Sprintf("%010d", v.Number), ID: v.Version}, nil)
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
	if err := s.db.syncLists(ctx, nil, []listItem{versionItem(v)}); err != nil {
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

// ListVersions returns the product's versions in publication order: its list, then each
// version by _id.
func (s *Catalog) ListVersions(ctx context.Context, product string) ([]onramp.ProductVersion, error) {
	ps, err := positionsOf(ctx, s.db, "versions/"+product)
	out := make([]onramp.ProductVersion, 0, len(ps))
	for _, p := range ps {
		if err != nil {
			break
		}
		var v onramp.ProductVersion
		if v, err = s.FindVersion(ctx, product, p.ID); onramp.ErrorCode(err) == onramp.ENOTFOUND {
			err = nil
			continue
		}
		out = append(out, v)
	}
	return out, err
}

// SavePlan upserts p by name.
func (s *Catalog) SavePlan(ctx context.Context, p onramp.Plan) error {
	if _, err := s.db.Collection("plans").ReplaceOne(ctx, bson.M{"_id": p.Name}, p, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	return s.db.syncLists(ctx, nil, []listItem{planItem(p)})
}

func planItem(p onramp.Plan) listItem { return item("plans", onramp.Position{ID: p.Name}, p) }

// ListPlans returns every plan by name (the plan list, by _id).
func (s *Catalog) ListPlans(ctx context.Context) ([]onramp.Plan, error) {
	return allOf[onramp.Plan](ctx, s.db, "plans")
}

// assignmentItems are a's entries in its organisation's list (with the assignment) and its
// product's (the organisation's id only).
func assignmentItems(a onramp.Assignment) []listItem {
	return []listItem{item("assignments/"+a.OrgID, onramp.Position{ID: a.Product}, a), item("assignments.product/"+a.Product, onramp.Position{ID: a.OrgID}, nil)}
}

// SaveAssignment upserts a by organisation and product.
func (s *Catalog) SaveAssignment(ctx context.Context, a onramp.Assignment) error {
	a.ID = onramp.AssignmentID(a.OrgID, a.Product)
	a.UpdatedAt = a.UpdatedAt.UTC().Truncate(time.Millisecond)
	if _, err := s.db.Collection("assignments").ReplaceOne(ctx, bson.M{"_id": a.ID}, a, options.Replace().SetUpsert(true)); err != nil {
		return err
	}
	if err := s.db.syncLists(ctx, nil, assignmentItems(a)); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeAssignments, a.OrgID)
}

// DeleteAssignment returns ENOTFOUND when there is nothing to delete.
func (s *Catalog) DeleteAssignment(ctx context.Context, orgID, product string) error {
	res, err := s.db.Collection("assignments").DeleteOne(ctx, bson.M{"_id": onramp.AssignmentID(orgID, product)})
	if err != nil {
		return err
	}
	if err := s.db.syncLists(ctx, assignmentItems(onramp.Assignment{OrgID: orgID, Product: product}), nil); err != nil {
		return err
	}
	if res.DeletedCount == 0 {
		return onramp.Errorf(onramp.ENOTFOUND, "the organisation has no assignment of %q", product)
	}
	return s.db.recordChange(ctx, onramp.ChangeAssignments, orgID)
}

// DeleteAssignments removes every assignment of the organisation (each by _id, from its list).
func (s *Catalog) DeleteAssignments(ctx context.Context, orgID string) error {
	as, err := s.AssignmentsOf(ctx, orgID)
	if err != nil {
		return err
	}
	var before []listItem
	for _, a := range as {
		if _, err := s.db.Collection("assignments").DeleteOne(ctx, bson.M{"_id": onramp.AssignmentID(orgID, a.Product)}); err != nil {
			return err
		}
		before = append(before, assignmentItems(a)...)
	}
	if err := s.db.syncLists(ctx, before, nil); err != nil {
		return err
	}
	return s.db.recordChange(ctx, onramp.ChangeAssignments, orgID)
}

// AssignedTo reads the ids of the organisations the product is assigned to, by id (its list, by
// _id).
func (s *Catalog) AssignedTo(ctx context.Context, product string) ([]string, error) {
	ps, err := positionsOf(ctx, s.db, "assignments.product/"+product)
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ID
	}
	return out, err
}

// AssignmentsOf returns the organisation's assignments ordered by product (its list, by _id).
func (s *Catalog) AssignmentsOf(ctx context.Context, orgID string) ([]onramp.Assignment, error) {
	return allOf[onramp.Assignment](ctx, s.db, "assignments/"+orgID)
}
