package credentialstest_test

import (
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
)

func TestMemoryRotationContract(t *testing.T) {
	credentialstest.RunRotationStoreContract(t, func(t *testing.T, n int) []onramp.RotationStore {
		m := credentialstest.NewRotations()
		out := make([]onramp.RotationStore, n)
		for i := range out {
			out[i] = m
		}
		return out
	})
}
