package onramp_test

import (
	"strings"
	"testing"

	"github.com/onramp-dev/onramp"
)

func TestSubscriptionLevelFollowsTheDefaultUnlessTheProductHasOne(t *testing.T) {
	var none onramp.Subscriptions
	if got := none.Level("payments"); got != onramp.SubscribeNone {
		t.Errorf("nobody chose: level = %q, want none (e-mail is opt-in)", got)
	}
	s := onramp.Subscriptions{Default: onramp.SubscribeAll, Products: map[string]string{"payments": onramp.SubscribeBreaking, "insights": onramp.SubscribeNone}}
	for product, want := range map[string]string{"payments": onramp.SubscribeBreaking, "insights": onramp.SubscribeNone, "accounts": onramp.SubscribeAll} {
		if got := s.Level(product); got != want {
			t.Errorf("Level(%s) = %q, want %q", product, got, want)
		}
	}
}

func TestWantsVersion(t *testing.T) {
	for _, c := range []struct {
		level    string
		breaking bool
		want     bool
	}{
		{onramp.SubscribeAll, false, true}, {onramp.SubscribeAll, true, true},
		{onramp.SubscribeBreaking, false, false}, {onramp.SubscribeBreaking, true, true},
		{onramp.SubscribeNone, false, false}, {onramp.SubscribeNone, true, false},
		{"", true, false}, {"bogus", true, false},
	} {
		if got := onramp.WantsVersion(c.level, c.breaking); got != c.want {
			t.Errorf("WantsVersion(%q, breaking=%v) = %v, want %v", c.level, c.breaking, got, c.want)
		}
	}
}

func TestValidSubscriptionLevel(t *testing.T) {
	for _, l := range onramp.SubscriptionLevels {
		if err := onramp.ValidSubscriptionLevel(l); err != nil {
			t.Errorf("%s: %v", l, err)
		}
	}
	for _, l := range []string{"", "ALL", "breaking-only", "default"} {
		if err := onramp.ValidSubscriptionLevel(l); onramp.ErrorCode(err) != onramp.EINVALID {
			t.Errorf("%q: %v, want EINVALID", l, err)
		}
	}
}

func TestWellFormedFeedToken(t *testing.T) {
	good := onramp.FeedTokenPrefix + strings.Repeat("a2", 26)
	if !onramp.WellFormedFeedToken(good) {
		t.Errorf("%s refused", good)
	}
	for _, bad := range []string{"", onramp.FeedTokenPrefix, good + "a", good[:len(good)-1], strings.Replace(good, "a", "A", 1),
		strings.Replace(good, "a", "1", 1), onramp.SandboxKeyPrefix + strings.Repeat("a2", 26), "onr_live_" + strings.Repeat("a2", 26)} {
		if onramp.WellFormedFeedToken(bad) {
			t.Errorf("%q accepted as a feed token", bad)
		}
	}
	if h := onramp.FeedTokenHash(good); len(h) != 64 || h == onramp.FeedTokenHash(good+"x") || strings.Contains(h, good) {
		t.Errorf("hash %q", h)
	}
}
