package mongo_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/devenv"
	"github.com/onramp-dev/onramp/mail/mailtest"
	"github.com/onramp-dev/onramp/mongo"
)

// serverURI is the MongoDB the adapter tests run against: ONRAMP_TEST_MONGODB_URI when given (a
// real MongoDB), otherwise an embedded FerretDB started from bin/devstack for this test binary.
var serverURI string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongo tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	if uri := os.Getenv("ONRAMP_TEST_MONGODB_URI"); uri != "" {
		serverURI = uri
		return m.Run(), nil
	}
	dir, err := os.MkdirTemp("", "onramp-mongo-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	wd, _ := os.Getwd()
	bin, err := devenv.FindBinary(filepath.Join(wd, "..", "bin"), "devstack")
	if err != nil {
		return 0, err
	}
	infra, err := devenv.StartInfra(context.Background(), devenv.InfraOptions{Binary: bin, DataDir: dir, Host: "127.0.0.1", UIPort: -1})
	if err != nil {
		return 0, err
	}
	defer infra.Stop()
	serverURI = infra.MongoURI
	return m.Run(), nil
}

var dbSeq atomic.Int64

// MustOpen connects to a database of its own, so each test starts empty.
func MustOpen(tb testing.TB) *mongo.DB {
	tb.Helper()
	return MustOpenClients(tb, 1)[0]
}

// MustOpenClients opens n clients (each its own connection pool, like n nodes) on one new database.
func MustOpenClients(tb testing.TB, n int) []*mongo.DB {
	tb.Helper()
	u, err := url.Parse(serverURI)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = fmt.Sprintf("/test_%d_%d", os.Getpid(), dbSeq.Add(1))
	out := make([]*mongo.DB, n)
	for i := range out {
		db, err := mongo.Open(context.Background(), u.String())
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close(context.Background()) })
		out[i] = db
	}
	return out
}

func TestMailboxContract(t *testing.T) {
	mailtest.RunMailboxContract(t, func(t *testing.T) onramp.Mailbox { return mongo.NewMailbox(MustOpen(t)) })
}

func TestPing(t *testing.T) {
	if err := MustOpen(t).Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenKeepsPasswordOutOfErrors(t *testing.T) {
	_, err := mongo.Open(t.Context(), "mongodb://user:s3cr3t-pw@127.0.0.1:1/?authMechanism=BOGUS")
	if err == nil {
		t.Fatal("Open accepted an unknown auth mechanism")
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("error leaks the password: %v", err)
	}
}
