package specs

import (
	"fmt"
	"sort"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/load"
)

// Change levels, from oasdiff's: a breaking change fails existing clients; a warning may.
const (
	Breaking    = "breaking"
	Warning     = "warning"
	NonBreaking = "non-breaking"
)

// Change is one classified difference between two versions.
type Change struct {
	ID        string `json:"id"` // oasdiff's rule id, e.g. api-path-removed-without-deprecation
	Level     string `json:"level"`
	Text      string `json:"text"`
	Operation string `json:"operation,omitempty"` // "POST /payments"
	Section   string `json:"section,omitempty"`
}

// Changelog classifies every change from base to revision with oasdiff's checks (all of them,
// down to informational), breaking changes first.
func Changelog(base, revision *openapi3.T) ([]Change, error) {
	s1 := &load.SpecInfo{Spec: base, Url: "base", Version: base.Info.Version}
	s2 := &load.SpecInfo{Spec: revision, Url: "revision", Version: revision.Info.Version}
	d, sources, err := diff.GetWithOperationsSourcesMap(diff.NewConfig(), s1, s2)
	if err != nil {
		return nil, fmt.Errorf("diff specs: %w", err)
	}
	found := checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks()), d, sources, checker.INFO)
	l := checker.NewDefaultLocalizer()
	out := make([]Change, 0, len(found))
	for _, c := range found {
		ch := Change{ID: c.GetId(), Text: c.GetUncolorizedText(l), Section: c.GetSection()}
		if c.GetOperation() != "" {
			ch.Operation = c.GetOperation() + " " + c.GetPath()
		}
		switch c.GetLevel() {
		case checker.ERR:
			ch.Level = Breaking
		case checker.WARN:
			ch.Level = Warning
		default:
			ch.Level = NonBreaking
		}
		out = append(out, ch)
	}
	rank := map[string]int{Breaking: 0, Warning: 1, NonBreaking: 2}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Level] < rank[out[j].Level] })
	return out, nil
}

// HasBreaking reports whether any change is breaking.
func HasBreaking(changes []Change) bool {
	for _, c := range changes {
		if c.Level == Breaking {
			return true
		}
	}
	return false
}
