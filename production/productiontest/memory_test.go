package productiontest_test

import (
	"testing"

	"github.com/onramp-dev/onramp/production/productiontest"
)

func TestMemoryContract(t *testing.T) {
	productiontest.RunContract(t, func(*testing.T) productiontest.Store { return productiontest.NewMemory() })
}
