package onramp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

var (
	sunset    = time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	window    = onramp.BrownoutWindow{Start: time.Date(2027, 6, 8, 10, 0, 0, 0, time.UTC), End: time.Date(2027, 6, 8, 10, 15, 0, 0, time.UTC)}
	deprAt    = time.Date(2027, 1, 4, 9, 30, 0, 0, time.UTC)
	oldV1     = onramp.ProductVersion{Product: "payments", Version: "v1", Status: onramp.VersionDeprecated, Sunset: &sunset, DeprecatedAt: &deprAt, Brownouts: []onramp.BrownoutWindow{window}}
	nanosec   = time.Nanosecond
	scheduled = time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
)

func TestPhaseAtBothSidesOfEachBound(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    onramp.ProductVersion
		now  time.Time
		want string
	}{
		{"1 ns before the window", oldV1, window.Start.Add(-nanosec), onramp.VersionDeprecated},
		{"at the window's start", oldV1, window.Start, onramp.PhaseBrownout},
		{"1 ns before the window's end", oldV1, window.End.Add(-nanosec), onramp.PhaseBrownout},
		{"at the window's end", oldV1, window.End, onramp.VersionDeprecated},
		{"1 ns before the sunset", oldV1, sunset.Add(-nanosec), onramp.VersionDeprecated},
		{"at the sunset", oldV1, sunset, onramp.PhaseRetired},
		{"1 ns after the sunset", oldV1, sunset.Add(nanosec), onramp.PhaseRetired},
		{"current with a sunset past", onramp.ProductVersion{Status: onramp.VersionCurrent, Sunset: &sunset}, sunset.Add(time.Hour), onramp.VersionCurrent},
		{"deprecated without a sunset", onramp.ProductVersion{Status: onramp.VersionDeprecated}, sunset.AddDate(10, 0, 0), onramp.VersionDeprecated},
		{"a window of a version no longer deprecated", onramp.ProductVersion{Status: onramp.VersionCurrent, Brownouts: oldV1.Brownouts}, window.Start, onramp.VersionCurrent},
	} {
		if got := tt.v.PhaseAt(tt.now); got != tt.want {
			t.Errorf("%s: PhaseAt = %q, want %q", tt.name, got, tt.want)
		}
		if gone := tt.v.GoneAt(tt.now); gone != (tt.want == onramp.PhaseBrownout || tt.want == onramp.PhaseRetired) {
			t.Errorf("%s: GoneAt = %v with phase %q", tt.name, gone, tt.want)
		}
	}
}

func TestRetiredProductNeedsEveryVersionRetired(t *testing.T) {
	v2 := onramp.ProductVersion{Version: "v2", Status: onramp.VersionCurrent}
	if onramp.Retired([]onramp.ProductVersion{oldV1, v2}, sunset.Add(time.Hour)) {
		t.Error("a product with a current version is retired")
	}
	if onramp.Retired([]onramp.ProductVersion{oldV1}, sunset.Add(-nanosec)) || !onramp.Retired([]onramp.ProductVersion{oldV1}, sunset) {
		t.Error("a product whose only version sunsets is not retired exactly from its sunset on")
	}
	if onramp.Retired(nil, sunset) {
		t.Error("a product without versions is retired")
	}
}

func TestDeprecationDateIsStableAndNeverAfterTheSunset(t *testing.T) {
	if got := oldV1.DeprecationDate(); !got.Equal(deprAt) {
		t.Errorf("DeprecationDate = %s, want the recorded %s", got, deprAt)
	}
	legacy := oldV1
	legacy.DeprecatedAt, legacy.PublishedAt = nil, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if got := legacy.DeprecationDate(); !got.Equal(legacy.PublishedAt) {
		t.Errorf("without a record: %s, want the publication %s", got, legacy.PublishedAt)
	}
	late := oldV1
	after := sunset.Add(time.Hour)
	late.DeprecatedAt = &after
	if got := late.DeprecationDate(); !got.Equal(sunset) {
		t.Errorf("deprecated after its sunset: %s, want the sunset %s (RFC 9745 §4)", got, sunset)
	}
	if got := (onramp.ProductVersion{Status: onramp.VersionCurrent, DeprecatedAt: &deprAt}).DeprecationDate(); !got.IsZero() {
		t.Errorf("current version: %s, want zero", got)
	}
}

func TestSuccessorIsTheNewestCurrentVersion(t *testing.T) {
	v2 := onramp.ProductVersion{Version: "v2", Status: onramp.VersionCurrent}
	v3 := onramp.ProductVersion{Version: "v3", Status: onramp.VersionBeta}
	if s, ok := onramp.Successor([]onramp.ProductVersion{oldV1, v2, v3}, oldV1); !ok || s.Version != "v2" {
		t.Errorf("Successor = %q %v, want v2 (beta v3 is no successor)", s.Version, ok)
	}
	if _, ok := onramp.Successor([]onramp.ProductVersion{oldV1, v2}, v2); ok {
		t.Error("the current version has a successor: itself")
	}
	if _, ok := onramp.Successor([]onramp.ProductVersion{oldV1, v3}, oldV1); ok {
		t.Error("a successor without any current version")
	}
}

func TestMigrationPage(t *testing.T) {
	if got, want := onramp.MigrationPage("https://portal.test/", "payments", "v1.2"), "https://portal.test/catalog/payments?version=v1.2#lifecycle"; got != want {
		t.Errorf("MigrationPage = %s, want %s", got, want)
	}
}

func TestBrownoutSpecPlan(t *testing.T) {
	weekly := &onramp.WeeklyBrownouts{Start: time.Date(2027, 6, 8, 10, 0, 0, 0, time.UTC), Duration: "15m", Count: 4}
	p, err := onramp.BrownoutSpec{Weekly: weekly}.Plan(oldV1, scheduled)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Windows) != 4 || p.Notice != onramp.DefaultBrownoutNotice || p.Product != "payments" || p.Version != "v1" {
		t.Fatalf("plan = %+v", p)
	}
	for i, w := range p.Windows {
		start := weekly.Start.AddDate(0, 0, 7*i)
		if !w.Start.Equal(start) || w.End.Sub(w.Start) != 15*time.Minute || w.Start.Weekday() != time.Tuesday {
			t.Errorf("window %d = %+v, want Tuesday %s for 15m", i, w, start)
		}
	}
	explicit := onramp.BrownoutWindow{Start: time.Date(2027, 6, 1, 10, 0, 0, 0, time.UTC), End: time.Date(2027, 6, 1, 11, 0, 0, 0, time.UTC)}
	p, err = onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{explicit}, Weekly: weekly, Notice: "72h"}.Plan(oldV1, scheduled)
	if err != nil || len(p.Windows) != 5 || !p.Windows[0].Start.Equal(explicit.Start) || p.Notice != 72*time.Hour {
		t.Fatalf("merged plan = %+v, %v; want the explicit window first, then the weekly ones, 72h notice", p, err)
	}

	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339Nano, s); return t }
	w := func(start, end string) onramp.BrownoutWindow {
		return onramp.BrownoutWindow{Start: at(start), End: at(end)}
	}
	current := oldV1
	current.Status = onramp.VersionCurrent
	for _, tt := range []struct {
		name string
		v    onramp.ProductVersion
		spec onramp.BrownoutSpec
		now  time.Time
		want string // "" accepted, else a word of the error
	}{
		{"not deprecated", current, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{window}}, scheduled, "deprecate it"},
		{"at the sunset", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{window}}, sunset, "past its sunset"},
		{"1 ns before the sunset, ending at it", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{{Start: sunset.Add(-time.Second), End: sunset}}}, sunset.Add(-time.Second), ""},
		{"ending 1 ns after the sunset", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{{Start: sunset.Add(-time.Hour), End: sunset.Add(nanosec)}}}, scheduled, "after the sunset"},
		{"nothing", oldV1, onramp.BrownoutSpec{}, scheduled, "give windows"},
		{"starting 1 ns ago", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{{Start: scheduled.Add(-nanosec), End: scheduled.Add(time.Minute)}}}, scheduled, "in the past"},
		{"starting now", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{{Start: scheduled, End: scheduled.Add(time.Minute)}}}, scheduled, ""},
		{"1 s long", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{w("2027-06-01T10:00:00Z", "2027-06-01T10:00:01Z")}}, scheduled, ""},
		{"1 ns short of 1 s", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{w("2027-06-01T10:00:00Z", "2027-06-01T10:00:00.999999999Z")}}, scheduled, "lasts"},
		{"24 h long", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{w("2027-06-01T10:00:00Z", "2027-06-02T10:00:00Z")}}, scheduled, ""},
		{"1 ns over 24 h", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{w("2027-06-01T10:00:00Z", "2027-06-02T10:00:00.000000001Z")}}, scheduled, "lasts"},
		{"ending where the next starts", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{w("2027-06-01T10:00:00Z", "2027-06-01T11:00:00Z"), w("2027-06-01T11:00:00Z", "2027-06-01T12:00:00Z")}}, scheduled, ""},
		{"overlapping by 1 ns", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{w("2027-06-01T11:00:00Z", "2027-06-01T12:00:00Z"), w("2027-06-01T10:00:00Z", "2027-06-01T11:00:00.000000001Z")}}, scheduled, "overlap"},
		{"52 weekly", oldV1, onramp.BrownoutSpec{Weekly: &onramp.WeeklyBrownouts{Start: at("2026-07-01T10:00:00Z"), Duration: "15m", Count: 52}}, at("2026-06-01T00:00:00Z"), ""},
		{"53 weekly", oldV1, onramp.BrownoutSpec{Weekly: &onramp.WeeklyBrownouts{Start: at("2026-06-01T10:00:00Z"), Duration: "15m", Count: 53}}, at("2026-06-01T00:00:00Z"), "count"},
		{"52 weekly and one more", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{w("2026-06-02T10:00:00Z", "2026-06-02T11:00:00Z")},
			Weekly: &onramp.WeeklyBrownouts{Start: at("2026-07-01T10:00:00Z"), Duration: "15m", Count: 52}}, at("2026-06-01T00:00:00Z"), "more than"},
		{"weekly without a duration", oldV1, onramp.BrownoutSpec{Weekly: &onramp.WeeklyBrownouts{Start: weekly.Start, Count: 1}}, scheduled, "duration"},
		{"weekly without a start", oldV1, onramp.BrownoutSpec{Weekly: &onramp.WeeklyBrownouts{Duration: "15m", Count: 1}}, scheduled, "start"},
		{"no notice", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{window}, Notice: "0s"}, scheduled, ""},
		{"14 days' notice", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{window}, Notice: "336h"}, scheduled, ""},
		{"1 ns more notice", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{window}, Notice: "336h0m0.000000001s"}, scheduled, "notice"},
		{"negative notice", oldV1, onramp.BrownoutSpec{Windows: []onramp.BrownoutWindow{window}, Notice: "-1s"}, scheduled, "notice"},
	} {
		_, err := tt.spec.Plan(tt.v, tt.now)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != "" && (onramp.ErrorCode(err) != onramp.EINVALID || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want EINVALID about %q", tt.name, err, tt.want)
		}
	}
}

func TestBrownoutsBeforeKeepsHistory(t *testing.T) {
	at := time.Date(2027, 6, 8, 10, 5, 0, 0, time.UTC)
	past := onramp.BrownoutWindow{Start: window.Start.AddDate(0, 0, -7), End: window.End.AddDate(0, 0, -7)}
	future := onramp.BrownoutWindow{Start: window.Start.AddDate(0, 0, 7), End: window.End.AddDate(0, 0, 7)}
	got := onramp.BrownoutsBefore([]onramp.BrownoutWindow{past, window, future}, at)
	if len(got) != 2 || got[0] != past || !got[1].Start.Equal(window.Start) || !got[1].End.Equal(at) {
		t.Errorf("BrownoutsBefore = %+v, want the past window and the current one cut at %s", got, at)
	}
	if got := onramp.BrownoutsBefore([]onramp.BrownoutWindow{window}, window.End); len(got) != 1 || got[0] != window {
		t.Errorf("a window ending exactly then = %+v, want it kept whole", got)
	}
	if got := onramp.BrownoutsBefore([]onramp.BrownoutWindow{window}, window.Start); len(got) != 0 {
		t.Errorf("a window starting exactly then = %+v, want it dropped", got)
	}
}
