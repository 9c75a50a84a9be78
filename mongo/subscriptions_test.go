package mongo_test

import (
	"testing"

	"github.com/onramp-dev/onramp/mongo"
	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
)

// The subscription, feed token and delivery store passes the contract its fake passes, concurrent
// cases from two clients (two nodes) included.
func TestSubscriptionsContract(t *testing.T) {
	subscriptionstest.RunContract(t, func(t *testing.T, n int) []subscriptionstest.Store {
		out := make([]subscriptionstest.Store, n)
		for i, db := range MustOpenClients(t, n) {
			out[i] = mongo.NewSubscriptions(db)
		}
		return out
	})
}
