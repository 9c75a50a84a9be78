// Package sla computes review due times on a business calendar: time zone, working days and
// hours, holidays, and the "same business day" rule with a cut-off hour.
package sla

import (
	"fmt"
	"strings"
	"time"
)

// Calendar is a provider's business calendar.
type Calendar struct {
	Location    *time.Location
	Workdays    map[time.Weekday]bool
	Open, Close time.Duration // since midnight
	Cutoff      time.Duration // requests after it are due the next business day
	Holidays    map[string]bool
}

// Default is Monday–Friday, 09:00–17:00 UTC, cut-off 15:00, no holidays.
func Default() Calendar {
	c, _ := Parse("UTC", "09:00-17:00", "15:00", "Mon-Fri", "")
	return c
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a time like 09:00", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Parse reads a calendar: tz (IANA name), hours "09:00-17:00", cutoff "15:00", workdays "Mon-Fri"
// or "Mon,Tue,Thu", holidays "2026-12-25,2026-12-26".
func Parse(tz, hours, cutoff, workdays, holidays string) (Calendar, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Calendar{}, fmt.Errorf("SLA time zone: %w", err)
	}
	c := Calendar{Location: loc, Workdays: map[time.Weekday]bool{}, Holidays: map[string]bool{}}
	open, close, ok := strings.Cut(hours, "-")
	if !ok {
		return c, fmt.Errorf("SLA hours %q must look like 09:00-17:00", hours)
	}
	if c.Open, err = clock(open); err != nil {
		return c, fmt.Errorf("SLA hours: %w", err)
	}
	if c.Close, err = clock(close); err != nil || c.Close <= c.Open {
		return c, fmt.Errorf("SLA hours %q must close after they open", hours)
	}
	if c.Cutoff, err = clock(cutoff); err != nil {
		return c, fmt.Errorf("SLA cut-off: %w", err)
	}
	for _, part := range strings.Split(strings.ToLower(workdays), ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, okA := weekdays[from]
		b, okB := weekdays[to]
		if !okA || (isRange && !okB) {
			return c, fmt.Errorf("SLA workdays %q: use Mon-Fri or Mon,Tue,…", workdays)
		}
		if !isRange {
			b = a
		}
		for d := a; ; d = (d + 1) % 7 {
			c.Workdays[d] = true
			if d == b {
				break
			}
		}
	}
	for _, h := range strings.Split(holidays, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			return c, fmt.Errorf("SLA holiday %q is not a date like 2026-12-25", h)
		}
		c.Holidays[h] = true
	}
	return c, nil
}

// BusinessDay reports whether the calendar day of t (in the calendar's zone) is a working day.
func (c Calendar) BusinessDay(t time.Time) bool {
	t = t.In(c.Location)
	return c.Workdays[t.Weekday()] && !c.Holidays[t.Format(time.DateOnly)]
}

// Due is when a request submitted at submitted must be decided: the close of that business day
// when it arrives on a business day before the cut-off, otherwise the close of the next one.
func (c Calendar) Due(submitted time.Time) time.Time {
	t := submitted.In(c.Location)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.Location)
	sinceMidnight := t.Sub(day)
	if !c.BusinessDay(day) || sinceMidnight >= c.Cutoff {
		day = c.nextBusinessDay(day)
	}
	return day.Add(c.Close)
}

func (c Calendar) nextBusinessDay(day time.Time) time.Time {
	for i := 0; i < 366; i++ {
		day = day.AddDate(0, 0, 1)
		if c.BusinessDay(day) {
			return day
		}
	}
	return day // no business day in a year: a misconfigured calendar, due in a year
}
