package credentialstest_test

import (
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
)

func TestMemoryCredentialContract(t *testing.T) {
	credentialstest.RunCredentialStoreContract(t, func(*testing.T) onramp.CredentialStore { return credentialstest.NewMemory() })
}

func TestMemoryUsageContract(t *testing.T) {
	credentialstest.RunUsageStoreContract(t, func(*testing.T) onramp.UsageStore { return credentialstest.NewMemory() })
}

func TestMemoryQuotaCountsConcurrently(t *testing.T) {
	credentialstest.RunQuotaCountsConcurrently(t, func(*testing.T) (onramp.UsageStore, onramp.UsageStore) {
		m := credentialstest.NewMemory()
		return m, m
	})
}
