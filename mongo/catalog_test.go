package mongo_test

import (
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
	"github.com/onramp-dev/onramp/credentials/credentialstest"
	"github.com/onramp-dev/onramp/mongo"
)

func TestCatalogContract(t *testing.T) {
	catalogtest.RunStoreContract(t, func(t *testing.T) catalogtest.Store { return mongo.NewCatalog(MustOpen(t)) })
}

func TestCredentialContract(t *testing.T) {
	credentialstest.RunCredentialStoreContract(t, func(t *testing.T) onramp.CredentialStore { return mongo.NewCredentials(MustOpen(t)) })
}

func TestUsageContract(t *testing.T) {
	credentialstest.RunUsageStoreContract(t, func(t *testing.T) onramp.UsageStore { return mongo.NewUsage(MustOpen(t)) })
}

func TestNoticesContract(t *testing.T) {
	catalogtest.RunNoticeLogContract(t, func(t *testing.T) onramp.NoticeLog { return mongo.NewNotices(MustOpen(t)) })
}
