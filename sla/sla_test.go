package sla_test

import (
	"testing"
	"time"

	"github.com/onramp-dev/onramp/sla"
)

func TestDue(t *testing.T) {
	cal, err := sla.Parse("Europe/Berlin", "09:00-17:00", "15:00", "Mon-Fri", "2026-12-24,2026-12-25,2026-12-31")
	if err != nil {
		t.Fatal(err)
	}
	berlin := cal.Location
	at := func(d string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", d, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tt := range []struct{ name, submitted, want string }{
		{"business day before cut-off", "2026-11-26 10:00", "2026-11-26 17:00"},
		{"before opening counts as that day", "2026-11-26 07:30", "2026-11-26 17:00"},
		{"after cut-off: next business day", "2026-11-26 15:30", "2026-11-27 17:00"},
		{"Friday after cut-off: Monday", "2026-11-27 16:00", "2026-11-30 17:00"},
		{"Saturday: Monday", "2026-11-28 11:00", "2026-11-30 17:00"},
		{"Sunday night: Monday", "2026-11-29 23:59", "2026-11-30 17:00"},
		{"holiday: next business day", "2026-12-24 10:00", "2026-12-28 17:00"},
		{"day before holidays, after cut-off: across holidays and weekend", "2026-12-23 16:00", "2026-12-28 17:00"},
		{"New Year's Eve holiday", "2026-12-30 15:01", "2027-01-01 17:00"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := cal.Due(at(tt.submitted)), at(tt.want); !got.Equal(want) {
				t.Errorf("Due(%s) = %s, want %s", tt.submitted, got.In(berlin), want)
			}
		})
	}
	// The zone matters: 14:30 UTC is 15:30 in Berlin, after the cut-off.
	if got := cal.Due(time.Date(2026, 11, 26, 14, 30, 0, 0, time.UTC)); !got.Equal(at("2026-11-27 17:00")) {
		t.Errorf("14:30 UTC → %s, want the next business day in Berlin", got.In(berlin))
	}
}

func TestParseRefusesBadCalendars(t *testing.T) {
	for _, c := range [][5]string{
		{"Mars/Olympus", "09:00-17:00", "15:00", "Mon-Fri", ""},
		{"UTC", "17:00-09:00", "15:00", "Mon-Fri", ""},
		{"UTC", "9-5", "15:00", "Mon-Fri", ""},
		{"UTC", "09:00-17:00", "3pm", "Mon-Fri", ""},
		{"UTC", "09:00-17:00", "15:00", "Mon-Funday", ""},
		{"UTC", "09:00-17:00", "15:00", "Mon-Fri", "25/12/2026"},
	} {
		if _, err := sla.Parse(c[0], c[1], c[2], c[3], c[4]); err == nil {
			t.Errorf("Parse(%q) accepted", c)
		}
	}
	if d := sla.Default(); !d.Workdays[time.Monday] || d.Workdays[time.Sunday] {
		t.Errorf("default workdays = %v", d.Workdays)
	}
}
