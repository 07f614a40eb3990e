package supply

import (
	"context"
	"fmt"
)

// Live answers what a per-provider quota needs to know before a push is
// applied: how many live items provider has in the index, and which of
// refs (all of that provider) are live now. Both backends implement it.
//
// It is a read: a push applied between Live and Apply (by another
// instance) is not seen, so a cap can be overshot by what concurrent
// pushes of one provider add.

// Live implements the quota read for the embedded index: map lookups
// (the store, and the count Apply keeps per provider).
func (m *Memory) Live(ctx context.Context, provider string, refs []Ref) (int, []bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	live := make([]bool, len(refs))
	m.mu.RLock()
	defer m.mu.RUnlock()
	for i, r := range refs {
		_, live[i] = m.store.item(r.Key())
	}
	return m.live[m.store.providerHash(provider)], live, nil
}

// Live implements the quota read for PostgreSQL: both statements read the
// primary key (provider, kind, id), never the country's rows.
func (p *Postgres) Live(ctx context.Context, provider string, refs []Ref) (int, []bool, error) {
	var total int
	if err := p.pool.QueryRow(ctx, `SELECT count(*) FROM supply_items WHERE provider = $1 AND NOT deleted`, provider).Scan(&total); err != nil {
		return 0, nil, fmt.Errorf("supply: count %s: %w", provider, err)
	}
	live := make([]bool, len(refs))
	if len(refs) == 0 {
		return total, live, nil
	}
	kinds, ids := make([]string, len(refs)), make([]string, len(refs))
	at := make(map[string][]int, len(refs))
	for i, r := range refs {
		kinds[i], ids[i] = string(r.Kind), r.ID
		k := string(r.Kind) + "/" + r.ID
		at[k] = append(at[k], i)
	}
	rows, err := p.pool.Query(ctx, `SELECT kind, id FROM supply_items
WHERE provider = $1 AND (kind, id) IN (SELECT * FROM unnest($2::text[], $3::text[])) AND NOT deleted`, provider, kinds, ids)
	if err != nil {
		return 0, nil, fmt.Errorf("supply: live %s: %w", provider, err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, id string
		if err := rows.Scan(&kind, &id); err != nil {
			return 0, nil, fmt.Errorf("supply: live %s: %w", provider, err)
		}
		for _, i := range at[kind+"/"+id] {
			live[i] = true
		}
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("supply: live %s: %w", provider, err)
	}
	return total, live, nil
}
