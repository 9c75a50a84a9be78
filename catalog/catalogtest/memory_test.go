package catalogtest_test

import (
	"testing"

	"github.com/onramp-dev/onramp"
	"github.com/onramp-dev/onramp/catalog/catalogtest"
)

func TestMemoryContract(t *testing.T) {
	catalogtest.RunStoreContract(t, func(*testing.T) catalogtest.Store { return catalogtest.NewMemory() })
}

func TestNoticesContract(t *testing.T) {
	catalogtest.RunNoticeLogContract(t, func(*testing.T) onramp.NoticeLog { return catalogtest.NewNotices() })
}
