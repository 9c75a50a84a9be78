package catalogtest_test

import (
	"testing"

	"github.com/onramp-dev/onramp/catalog/catalogtest"
)

func TestMemoryContract(t *testing.T) {
	catalogtest.RunStoreContract(t, func(*testing.T) catalogtest.Store { return catalogtest.NewMemory() })
}
