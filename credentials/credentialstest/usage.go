package credentialstest

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/onramp-dev/onramp"
)

// The usage half of Memory: the reference semantics of onramp.UsageStore (every node's documents
// kept as written, readers summing them), which the MongoDB adapter's contract is checked against.

type monthKey struct {
	org, node string
	month     time.Time
}

type pageKey struct{ org, node, key string }

func (m *Memory) SaveNode(_ context.Context, n onramp.GatewayNode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes[n.ID] = n
	return nil
}

func (m *Memory) Nodes(_ context.Context, since time.Time) ([]onramp.GatewayNode, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.GatewayNode{}
	for _, n := range m.nodes {
		if !n.SeenAt.Before(since) {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (m *Memory) SaveQuotaCounts(_ context.Context, node string, totals map[string]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, n := range totals {
		if m.quota[id] == nil {
			m.quota[id] = map[string]int64{}
		}
		m.quota[id][node] = max(m.quota[id][node], n)
	}
	return nil
}

func (m *Memory) QuotaCounts(_ context.Context, ids, nodes []string) (map[string]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]int64, len(ids))
	for _, id := range ids {
		out[id] = 0
		for _, n := range nodes {
			out[id] += m.quota[id][n]
		}
	}
	return out, nil
}

func (m *Memory) Counters(ctx context.Context, ids []string) (map[string]int64, error) {
	since := time.Now()
	for _, id := range ids {
		if unix, err := strconv.ParseInt(id[strings.LastIndexByte(id, ':')+1:], 10, 64); err == nil && time.Unix(unix, 0).Before(since) {
			since = time.Unix(unix, 0)
		}
	}
	return m.QuotaCounts(ctx, ids, append(m.seenSince(since), onramp.LegacyNode))
}

// seenSince lists the nodes a reader sums for data since t; m.mu must not be held.
func (m *Memory) seenSince(t time.Time) []string {
	ns, _ := m.Nodes(context.Background(), t.Add(-onramp.NodeReadMargin))
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids
}

func (m *Memory) SaveUsage(_ context.Context, node string, f onramp.UsageFlush) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	org := f.Head.OrgID
	for _, p := range f.Pages {
		p.Calls = append([]onramp.UsageEvent(nil), p.Calls...)
		m.pages[pageKey{org, node, p.Ref.Key()}] = p
	}
	for _, mo := range f.Months {
		m.months[monthKey{org, node, mo.Month.UTC()}] = mo
	}
	if m.heads[org] == nil {
		m.heads[org] = map[string]onramp.UsageHead{}
	}
	m.heads[org][node] = f.Head
	for _, r := range f.Drop {
		delete(m.pages, pageKey{org, node, r.Key()})
	}
	return nil
}

func (m *Memory) UsageMonths(_ context.Context, orgID string, from, to time.Time) ([]onramp.UsageMonth, error) {
	first := time.Date(from.UTC().Year(), from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	nodes := m.seenSince(first)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.UsageMonth{}
	for k, mo := range m.months {
		if k.org == orgID && slices.Contains(nodes, k.node) && !k.month.Before(first) && k.month.Before(to) {
			mo.Lines = slices.Clone(mo.Lines)
			for i := range mo.Lines {
				mo.Lines[i].Uses = nil // OperationUsage reads them
			}
			out = append(out, mo)
		}
	}
	return out, nil
}

func (m *Memory) UsageTotals(_ context.Context, orgID, product, env string, from, to time.Time) (onramp.UsageTotals, error) {
	nodes := m.seenSince(time.Date(from.UTC().Year(), from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC))
	m.mu.Lock()
	defer m.mu.Unlock()
	days, hours := map[time.Time]onramp.UsageHour{}, map[time.Time]onramp.UsageHour{}
	add := func(into map[time.Time]onramp.UsageHour, h onramp.UsageHour) {
		t := into[h.Hour]
		t.Hour, t.Calls, t.Errors = h.Hour, t.Calls+h.Calls, t.Errors+h.Errors
		into[h.Hour] = t
	}
	for k, mo := range m.months {
		if k.org != orgID || !slices.Contains(nodes, k.node) {
			continue
		}
		for _, l := range mo.Lines {
			if l.Product != product || l.Environment != env {
				continue
			}
			for _, d := range l.Days {
				if !d.Hour.Before(from.UTC().Truncate(24*time.Hour)) && d.Hour.Before(to) {
					add(days, d)
				}
			}
			for _, h := range l.Hours {
				if !h.Hour.Before(from.UTC().Truncate(time.Hour)) && h.Hour.Before(to) {
					add(hours, h)
				}
			}
		}
	}
	return onramp.UsageTotals{Days: sortedHours(days), Hours: sortedHours(hours)}, nil
}

func sortedHours(in map[time.Time]onramp.UsageHour) []onramp.UsageHour {
	out := make([]onramp.UsageHour, 0, len(in))
	for _, h := range in {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hour.Before(out[j].Hour) })
	return out
}

func (m *Memory) Calls(_ context.Context, orgID string, f onramp.CallFilter) ([]onramp.UsageEvent, error) {
	nodes := m.seenSince(f.From)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []onramp.UsageEvent{}
	for node, h := range m.heads[orgID] { // a page the head does not list is not part of the log
		if !slices.Contains(nodes, node) {
			continue
		}
		for _, r := range h.Pages {
			for _, e := range m.pages[pageKey{orgID, node, r.Key()}].Calls {
				if f.Matches(e) {
					out = append(out, e)
				}
			}
		}
	}
	onramp.SortNewestFirst(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

func (m *Memory) CallsWith(_ context.Context, orgID, credentialID string, since time.Time) (int64, error) {
	nodes := m.seenSince(since)
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for node, h := range m.heads[orgID] {
		if !slices.Contains(nodes, node) {
			continue
		}
		for _, c := range h.Credentials {
			if c.CredentialID != credentialID {
				continue
			}
			for _, mc := range c.Minutes {
				if !mc.Minute.Before(since.Truncate(time.Minute)) {
					n += mc.Calls
				}
			}
		}
	}
	return n, nil
}

func (m *Memory) LastUsed(_ context.Context, orgID string) (map[string]time.Time, error) {
	nodes := m.seenSince(time.Time{})
	m.mu.Lock()
	defer m.mu.Unlock()
	var heads []onramp.UsageHead
	for node, h := range m.heads[orgID] {
		if slices.Contains(nodes, node) {
			heads = append(heads, h)
		}
	}
	return onramp.LatestUse(heads), nil
}

func (m *Memory) OperationUsage(_ context.Context, product string, orgIDs []string, from, to time.Time) (map[string][]onramp.OperationUsage, error) {
	nodes := m.seenSince(time.Date(from.UTC().Year(), from.UTC().Month(), 1, 0, 0, 0, 0, time.UTC))
	m.mu.Lock()
	defer m.mu.Unlock()
	months := map[string][]onramp.UsageMonth{}
	for k, mo := range m.months {
		if slices.Contains(orgIDs, k.org) && slices.Contains(nodes, k.node) && k.month.Before(to) && !k.month.AddDate(0, 1, 0).Before(from) {
			months[k.org] = append(months[k.org], mo)
		}
	}
	out := map[string][]onramp.OperationUsage{}
	for org, ms := range months {
		if u := onramp.SumOperationUsage(ms, product, from, to); len(u) > 0 {
			out[org] = u
		}
	}
	return out, nil
}

func (m *Memory) PurgeUsage(_ context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, p := range m.pages {
		if p.Ref.Hour.Before(before.UTC().Truncate(24 * time.Hour)) {
			n += int64(len(p.Calls))
			delete(m.pages, k)
		}
	}
	return n, nil
}
