package productiontest_test

import (
	"testing"

	"github.com/onramp-dev/onramp/production/productiontest"
)

func TestMemoryPassesTheContract(t *testing.T) {
	productiontest.RunContract(t, func(t *testing.T, n int) []productiontest.Store {
		m := productiontest.NewMemory()
		out := make([]productiontest.Store, n)
		for i := range out {
			out[i] = m
		}
		return out
	})
}
