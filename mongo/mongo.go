// Package mongo implements Onramp's storage interfaces on MongoDB with mongo-driver v2. The same
// code runs on a real replica set and on the embedded FerretDB of `onramp dev`, so it sticks to
// what both support: no transactions, no change streams, no TTL; hot lookups go by _id.
package mongo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// DefaultDatabase is used when the URI names no database.
const DefaultDatabase = "onramp"

// DB is one client and the Onramp database; every role in a process shares it.
type DB struct {
	client *mongo.Client
	db     *mongo.Database
}

// Open connects to uri (the database is the URI's path, or DefaultDatabase). It returns an error
// for an unparsable URI; an unreachable server shows up later, in Ping.
func Open(ctx context.Context, uri string) (*DB, error) {
	cs, err := connstring.ParseAndValidate(uri)
	if err != nil {
		return nil, fmt.Errorf("MONGODB_URI: %w", redact(err, uri))
	}
	name := cs.Database
	if name == "" {
		name = DefaultDatabase
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetAppName("onramp").SetTimeout(10 * time.Second))
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
