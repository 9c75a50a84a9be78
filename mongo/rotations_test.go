package mongo_test

import (
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/mongo"
)

func TestRotationContract(t *testing.T) {
	credentialstest.RunRotationStoreContract(t, func(t *testing.T, n int) []onramp.RotationStore {
		out := make([]onramp.RotationStore, n)
		for i, db := range MustOpenClients(t, n) {
			out[i] = mongo.NewCredentials(db)
		}
		return out
	})
}
