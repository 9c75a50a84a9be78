package onramp_test

import (
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

func TestRotateBy(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	quarter := 90 * 24 * time.Hour
	for _, tt := range []struct {
		name     string
		now      time.Time
		reminder string
	}{
		{"young key", created.AddDate(0, 0, 30), ""},
		{"within the window", created.AddDate(0, 0, 81), "rotate within 9 days"},
		{"on the last day", created.AddDate(0, 0, 89), "rotate within 1 day"},
		{"overdue", created.AddDate(0, 0, 93), "rotation overdue by 3 days"},
	} {
		due, reminder := onramp.RotateBy(created, quarter, tt.now)
		if !due.Equal(created.Add(quarter)) || reminder != tt.reminder {
			t.Errorf("%s: %s %q, want %s %q", tt.name, due, reminder, created.Add(quarter), tt.reminder)
		}
	}
}
