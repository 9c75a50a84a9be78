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

func TestCountFindings(t *testing.T) {
	got := onramp.CountFindings([]onramp.Finding{{Severity: onramp.SeverityError}, {Severity: onramp.SeverityWarning}, {Severity: onramp.SeverityWarning},
		{Severity: onramp.SeverityInfo}, {Severity: "notice"}})
	if want := (onramp.FindingCounts{Errors: 1, Warnings: 2, Infos: 2}); got != want {
		t.Errorf("CountFindings = %+v, want %+v (an unknown severity counts as info)", got, want)
	}
	if got := onramp.CountFindings(nil); got != (onramp.FindingCounts{}) {
		t.Errorf("CountFindings(nil) = %+v", got)
	}
}
