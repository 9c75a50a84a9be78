package mongo_test

import (
	"testing"

	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/mongo"
)

func TestCatalogContract(t *testing.T) {
	catalogtest.RunStoreContract(t, func(t *testing.T) catalogtest.Store { return mongo.NewCatalog(MustOpen(t)) })
}
