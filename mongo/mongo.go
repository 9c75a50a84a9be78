// Package mongo implements Onramp's storage interfaces on MongoDB with mongo-driver v2. The same
// code runs on a real replica set and on the embedded FerretDB of `onramp dev`, so it sticks to
// what both support: no transactions, no change streams, no TTL; hot lookups go by _id.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// DefaultDatabase is used when the URI names no database.
const DefaultDatabase = "onramp"

// DB is one client and the Onramp database; every role in a process shares it.
type DB struct {
	client    *mongo.Client
	db        *mongo.Database
	backend   atomic.Int32 // backendUnknown until asked
	lastPrune atomic.Int64 // unix nanoseconds of the last pruning of old changes
}

// Open connects to uri (the database is the URI's path, or DefaultDatabase) with the URI's pool
// and 10-second operations. It returns an error for an unparsable URI; an unreachable server
// shows up later, in Ping.
func Open(ctx context.Context, uri string) (*DB, error) {
	return OpenWith(ctx, uri, Options{AppName: "onramp", Timeout: 10 * time.Second})
}

// Options tune one client. The data plane opens a client of its own, so it never waits for a
// connection the portal or worker holds, and gives up on the store sooner than they do.
type Options struct {
	AppName     string
	MaxPoolSize uint64        // 0: the URI's (or the driver's default)
	Timeout     time.Duration // each operation's, and to select a server or connect
}

// OpenWith connects like Open with the options; errors as Open's.
func OpenWith(ctx context.Context, uri string, o Options) (*DB, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return nil, fmt.Errorf("MONGODB_URI: %w", redact(err, uri))
	}
	name := cs.Database
	if name == "" {
		name = DefaultDatabase
	}
	opts := options.Client().ApplyURI(uri).SetAppName(o.AppName).SetTimeout(o.Timeout)
	if o.Timeout < 10*time.Second {
		opts.SetServerSelectionTimeout(o.Timeout).SetConnectTimeout(o.Timeout)
	}
	if o.MaxPoolSize > 0 {
		opts.SetMaxPoolSize(o.MaxPoolSize)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB: %w", redact(err, uri))
	}
	return &DB{client: client, db: client.Database(name)}, nil
}

// Ping checks that the server answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.client.Ping(ctx, readpref.Primary())
}

// Close disconnects the client.
func (d *DB) Close(ctx context.Context) error {
	return d.client.Disconnect(ctx)
}

// Collection returns a collection of the Onramp database.
func (d *DB) Collection(name string) *mongo.Collection {
	return d.db.Collection(name)
}

// redact keeps a URI's password out of error messages and logs.
func redact(err error, uri string) error {
	cs, perr := connstring.Parse(uri)
	if perr != nil || cs.Password == "" {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), cs.Password, "***"))
}

// bulk runs write models in one unordered round trip; each model filters by _id, which FerretDB
// looks up without a scan.
func (d *DB) bulk(ctx context.Context, coll string, models []mongo.WriteModel) error {
	if len(models) == 0 {
		return nil
	}
	_, err := d.Collection(coll).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	return err
}

// findIDs reads the documents with the given _ids that exist, in the order of ids: one $in query
// on MongoDB, one exact _id read each on FerretDB (which scans the whole collection for $in), run
// side by side on the pool's connections — a gateway's quota read names one document per node,
// and one after the other they made its freshness a multiple of the round trip.
func findIDs[T any](ctx context.Context, d *DB, coll string, ids []string) ([]T, error) {
	out := []T{}
	if len(ids) == 0 {
		return out, nil
	}
	if len(ids) > exactLookupsAtMost || !d.exactIDsOnly(ctx) {
		cur, err := d.Collection(coll).Find(ctx, bson.M{"_id": bson.M{"$in": ids}})
		if err != nil {
			return nil, err
		}
		return out, cur.All(ctx, &out)
	}
	found := make([]*T, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(exactLookupsAtOnce)
	for i, id := range ids {
		g.Go(func() error {
			var v T
			err := d.Collection(coll).FindOne(gctx, bson.M{"_id": id}).Decode(&v)
			if errors.Is(err, mongo.ErrNoDocuments) {
				return nil
			} else if err != nil {
				return err
			}
			found[i] = &v
			return nil
		})
	}
	err := g.Wait()
	for _, v := range found {
		if v != nil {
			out = append(out, *v)
		}
	}
	return out, err
}

// exactLookupsAtOnce is how many of findIDs's exact reads run at once: the gateway's pool holds 8
// connections, and its flushers and cache loads share them.
const exactLookupsAtOnce = 4

// exactLookupsAtMost is how many documents findIDs reads one by one on FerretDB: beyond, one
// scan of the collection (what FerretDB makes of an $in) costs less than the round trips.
const exactLookupsAtMost = 32

// exactIDsOnly reports whether the server is FerretDB, whose only indexed lookup is an exact _id
// (its buildInfo names its version); it asks once, and assumes so while it cannot ask.
func (d *DB) exactIDsOnly(ctx context.Context) bool {
	switch d.backend.Load() {
	case backendMongoDB:
		return false
	case backendFerretDB:
		return true
	}
	var info bson.M
	if err := d.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return true
	}
	if _, ferret := info["ferretdbVersion"]; ferret {
		d.backend.Store(backendFerretDB)
		return true
	}
	d.backend.Store(backendMongoDB)
	return false
}

const (
	backendUnknown int32 = iota
	backendMongoDB
	backendFerretDB
)

// Name is the database's name.
func (d *DB) Name() string { return d.db.Name() }

// CollectionNames lists the database's collections.
func (d *DB) CollectionNames(ctx context.Context) ([]string, error) {
	return d.db.ListCollectionNames(ctx, bson.M{})
}
