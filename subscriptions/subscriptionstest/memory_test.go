package subscriptionstest_test

import (
	"testing"

	"github.com/onramp-dev/onramp/subscriptions/subscriptionstest"
)

func TestMemoryContract(t *testing.T) {
	subscriptionstest.RunContract(t, func(_ *testing.T, n int) []subscriptionstest.Store {
		m := subscriptionstest.NewMemory()
		out := make([]subscriptionstest.Store, n)
		for i := range out {
			out[i] = m
		}
		return out
	})
}
