package teamtest_test

import (
	"testing"

	"github.com/onramp-dev/onramp/team/teamtest"
)

func TestMemoryContract(t *testing.T) {
	teamtest.RunContract(t, func(t *testing.T, n int) []teamtest.Store {
		m := teamtest.NewMemory()
		out := make([]teamtest.Store, n)
		for i := range out {
			out[i] = m
		}
		return out
	})
}
