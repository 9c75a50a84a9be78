package catalogtest

import (
	"context"
	"sync"

	"github.com/onramp-dev/onramp"
)

// Announcements records the versions whose announcement publication asked for (as
// "<product>/<version>"), and whether the version was already stored at that moment when Store is
// set, and the impact alarms asked for; Fail makes it refuse.
type Announcements struct {
	Store onramp.CatalogStore
	Fail  error

	mu          sync.Mutex
	asked       []string
	storedFirst []string
	alarms      []onramp.ImpactEvent
}

var _ onramp.Announcements = (*Announcements)(nil)

// AnnounceVersion implements onramp.Announcements.
func (a *Announcements) AnnounceVersion(ctx context.Context, product, version string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Fail != nil {
		return a.Fail
	}
	id := onramp.VersionID(product, version)
	a.asked = append(a.asked, id)
	if a.Store != nil {
		if _, err := a.Store.FindVersion(ctx, product, version); err == nil {
			a.storedFirst = append(a.storedFirst, id)
		}
	}
	return nil
}

// AlarmImpact implements onramp.ImpactAlarms: it records e.
func (a *Announcements) AlarmImpact(_ context.Context, e onramp.ImpactEvent) error {
	if err := e.Validate(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Fail != nil {
		return a.Fail
	}
	a.alarms = append(a.alarms, e)
	return nil
}

// Alarms lists the impact events asked for, in order.
func (a *Announcements) Alarms() []onramp.ImpactEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]onramp.ImpactEvent(nil), a.alarms...)
}

// Asked lists the announcements asked for, in order.
func (a *Announcements) Asked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.asked...)
}

// StoredFirst lists the versions that were stored before their announcement was asked for.
func (a *Announcements) StoredFirst() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.storedFirst...)
}
