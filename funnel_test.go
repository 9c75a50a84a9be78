package onramp_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/onramp-dev/onramp"
)

func TestHistogramMedianWithinItsPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 10, 101, 1000} {
		var h onramp.DurationHistogram
		var ds []float64
		for range n {
			d := time.Duration(math.Exp(r.Float64()*14) * float64(time.Second)) // 1 s to ~14 days
			h.Add(d)
			ds = append(ds, d.Seconds())
		}
		slices.Sort(ds)
		exact := ds[n/2]
		if n%2 == 0 {
			exact = (ds[n/2-1] + ds[n/2]) / 2
		}
		got, ok := h.Median()
		if !ok || math.Abs(got.Seconds()-exact)/exact > 0.045 {
			t.Errorf("n=%d: median %v, exact %.1fs: more than 4.5%% off", n, got, exact)
		}
	}
	if _, ok := (&onramp.DurationHistogram{}).Median(); ok {
		t.Error("an empty histogram has a median")
	}
}

func TestJourneyStepCountsEachGapOnceInAnyOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	var stats onramp.FunnelStats
	journey := map[string]time.Time{}
	reach := func(stage string, at time.Time) {
		stats.Add(onramp.JourneyStep(journey, stage, at))
		if _, ok := journey[stage]; !ok {
			journey[stage] = at
		}
	}
	reach(onramp.StageInvited, t0)
	reach(onramp.StageFirstSandboxCall, t0.Add(3*time.Hour)) // before the sign-in is recorded
	reach(onramp.StageFirstSignIn, t0.Add(time.Hour))
	reach(onramp.StageFirstSignIn, t0.Add(2*time.Hour)) // again: nothing
	if stats.Reached[onramp.StageFirstSignIn] != 1 || stats.Reached[onramp.StageInvited] != 1 {
		t.Fatalf("reached = %v", stats.Reached)
	}
	for _, g := range []struct {
		from, to string
		want     time.Duration
	}{{onramp.StageInvited, onramp.StageFirstSignIn, time.Hour}, {onramp.StageFirstSignIn, onramp.StageFirstSandboxCall, 2 * time.Hour}} {
		got, ok := stats.Median(g.from, g.to)
		if !ok || stats.Gaps[onramp.GapKey(g.from, g.to)].Count != 1 || math.Abs(got.Seconds()-g.want.Seconds())/g.want.Seconds() > 0.045 {
			t.Errorf("%s → %s: %v (%v), want %v once", g.from, g.to, got, ok, g.want)
		}
	}
}
