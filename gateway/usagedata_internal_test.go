package gateway

import (
	"testing"

	"github.com/onramp-dev/onramp"
)

func TestStatusClassIsOnrampsStatusClass(t *testing.T) {
	for status := -1; status < 1000; status++ {
		if got, want := statusClass(status), onramp.StatusClass(status); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", status, got, want)
		}
	}
}
