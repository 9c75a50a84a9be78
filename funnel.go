package onramp

import (
	"math"
	"strconv"
	"time"
)

// FunnelStats are the onboarding funnel's counters, kept as stages are reached rather than
// computed from every journey: how many organisations reached each stage, and for each pair of
// consecutive stages a histogram of the time between them.
type FunnelStats struct {
	Reached map[string]int64              `json:"reached" bson:"reached"`
	Gaps    map[string]*DurationHistogram `json:"gaps" bson:"gaps"` // by GapKey(from, to)
}

// GapKey names the pair of consecutive stages from → to.
func GapKey(from, to string) string { return from + ">" + to }

// JourneyStep is what reaching stage at at adds to the funnel of a journey that had reached the
// stages in before: the stage, and the gaps to its neighbours in FunnelStages that were reached
// already (so a gap counts once, when the later-recorded of its two stages is reached, in
// whatever order they come). Nothing when stage was reached before.
func JourneyStep(before map[string]time.Time, stage string, at time.Time) FunnelStats {
	d := FunnelStats{Reached: map[string]int64{}, Gaps: map[string]*DurationHistogram{}}
	if _, ok := before[stage]; ok {
		return d
	}
	d.Reached[stage] = 1
	for i, st := range FunnelStages {
		if st != stage {
			continue
		}
		if i > 0 {
			if prev, ok := before[FunnelStages[i-1]]; ok {
				d.gap(FunnelStages[i-1], stage, at.Sub(prev))
			}
		}
		if i+1 < len(FunnelStages) {
			if next, ok := before[FunnelStages[i+1]]; ok {
				d.gap(stage, FunnelStages[i+1], next.Sub(at))
			}
		}
	}
	return d
}

func (s *FunnelStats) gap(from, to string, d time.Duration) {
	h := s.Gaps[GapKey(from, to)]
	if h == nil {
		h = &DurationHistogram{}
		s.Gaps[GapKey(from, to)] = h
	}
	h.Add(d)
}

// Add adds d's counts to s.
func (s *FunnelStats) Add(d FunnelStats) {
	if s.Reached == nil {
		s.Reached = map[string]int64{}
	}
	if s.Gaps == nil {
		s.Gaps = map[string]*DurationHistogram{}
	}
	for st, n := range d.Reached {
		s.Reached[st] += n
	}
	for k, h := range d.Gaps {
		if s.Gaps[k] == nil {
			s.Gaps[k] = &DurationHistogram{}
		}
		s.Gaps[k].Merge(h)
	}
}

// Median is the median time from one stage to the next (see DurationHistogram.Median).
func (s FunnelStats) Median(from, to string) (time.Duration, bool) {
	h := s.Gaps[GapKey(from, to)]
	if h == nil {
		return 0, false
	}
	return h.Median()
}

// Histogram buckets: 8 per doubling of the duration in seconds, so a bucket is 9 % wide and a
// value read back as its bucket's geometric centre is within 4.5 % of the true one. Bucket 0 holds
// everything under a second (negative durations too: stages recorded out of order).
const (
	bucketsPerDoubling = 8
	maxBucket          = 255 // 2^(254/8) s: beyond 100 years
)

// DurationHistogram is a bounded summary of durations: counts per logarithmic bucket.
type DurationHistogram struct {
	Count   int64            `json:"count" bson:"count"`
	Buckets map[string]int64 `json:"buckets" bson:"buckets"` // bucket index (decimal) → count
}

func bucketOf(d time.Duration) int {
	s := d.Seconds()
	if s < 1 {
		return 0
	}
	return min(maxBucket, 1+int(math.Floor(bucketsPerDoubling*math.Log2(s))))
}

// bucketValue is the geometric centre of bucket b.
func bucketValue(b int) time.Duration {
	if b == 0 {
		return 0
	}
	return time.Duration(math.Pow(2, (float64(b)-0.5)/bucketsPerDoubling) * float64(time.Second))
}

// Add counts one duration.
func (h *DurationHistogram) Add(d time.Duration) {
	if h.Buckets == nil {
		h.Buckets = map[string]int64{}
	}
	h.Buckets[strconv.Itoa(bucketOf(d))]++
	h.Count++
}

// Merge adds o's counts.
func (h *DurationHistogram) Merge(o *DurationHistogram) {
	if o == nil {
		return
	}
	if h.Buckets == nil {
		h.Buckets = map[string]int64{}
	}
	for b, n := range o.Buckets {
		h.Buckets[b] += n
	}
	h.Count += o.Count
}

// Median is the median of the counted durations: the centre of the bucket holding the middle one
// (the mean of the two middle ones' for an even count), within 4.5 % of the exact median for
// durations of a second or more, 0 below. ok is false when nothing was counted.
func (h *DurationHistogram) Median() (time.Duration, bool) {
	if h == nil || h.Count <= 0 {
		return 0, false
	}
	counts := make([]int64, maxBucket+1)
	for b, n := range h.Buckets {
		if i, err := strconv.Atoi(b); err == nil && i >= 0 && i <= maxBucket {
			counts[i] += n
		}
	}
	at := func(rank int64) time.Duration { // the rank-th smallest (from 0)
		var seen int64
		for b, n := range counts {
			if seen += n; rank < seen {
				return bucketValue(b)
			}
		}
		return bucketValue(maxBucket)
	}
	if h.Count%2 == 1 {
		return at(h.Count / 2), true
	}
	return (at(h.Count/2-1) + at(h.Count/2)) / 2, true
}
