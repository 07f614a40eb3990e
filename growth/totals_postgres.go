package growth

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/ledger"
)

// postgresTotals computes the totals in the database: one aggregate query
// each, joined to the directory's providers table (same database) for the
// vertical and first city.
type postgresTotals struct{ pool *pgxpool.Pool }

// Totals implements totalsSource: the ledger and the directory are the
// tables beside the store's.
func (p *Postgres) Totals(*ledger.Ledger, Directory) Totals { return postgresTotals{pool: p.pool} }

// ProgramTotals implements Totals: the rewards expense's postings of the
// range's reward, reversal and adjustment entries (index
// ledger_entries_kind_at), grouped by the key's first segment.
func (t postgresTotals) ProgramTotals(ctx context.Context, from, to time.Time) ([]ProgramTotal, error) {
	rows, err := t.pool.Query(ctx, `SELECT e.kind, split_part(CASE WHEN e.reverses <> '' THEN e.reverses ELSE e.key END, ':', 1),
			coalesce(pr.vertical, ''), coalesce(nullif(e.city, ''), pr.cities[1], ''), e.currency,
			count(*) FILTER (WHERE p.amount > 0), coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0)::bigint,
			count(*) FILTER (WHERE p.amount < 0), coalesce(sum(p.amount) FILTER (WHERE p.amount < 0), 0)::bigint
		FROM ledger_entries e
		JOIN ledger_postings p ON p.entry_id = e.id AND p.account = $3
		LEFT JOIN providers pr ON pr.id = e.provider
		WHERE e.kind = ANY($4) AND e.at >= $1 AND e.at < $2
		GROUP BY 1, 2, 3, 4, 5`, from, to, string(ledger.RewardsExpense),
		[]string{string(ledger.KindReward), string(ledger.KindReversal), string(ledger.KindAdjustment)})
	if err != nil {
		return nil, unavailable("program totals", err)
	}
	defer rows.Close()
	acc := programTotals{}
	for rows.Next() {
		var kind, prefix, vertical, city, currency string
		var credits, credited, debits, debited int64
		if err := rows.Scan(&kind, &prefix, &vertical, &city, &currency, &credits, &credited, &debits, &debited); err != nil {
			return nil, unavailable("program totals", err)
		}
		p := programOf(ledger.Kind(kind), prefix)
		if credits > 0 {
			acc.add(p, vertical, city, currency, credits, credited)
		}
		if debits > 0 {
			acc.add(p, vertical, city, currency, debits, debited)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("program totals", err)
	}
	return acc.sorted(), nil
}

// LoanTotals implements Totals: the range's offers and loans (indexes
// growth_loan_offers_created, growth_loans_created), an open loan's
// outstanding amount from its provider's loan account (a provider has at
// most one open loan), arrears as arrears() computes them.
func (t postgresTotals) LoanTotals(ctx context.Context, from, to, now time.Time) ([]LoanTotal, error) {
	rows, err := t.pool.Query(ctx, `WITH o AS (
			SELECT provider, currency, count(*) AS made, count(*) FILTER (WHERE loan_id <> '') AS accepted, sum(max_amount) AS offered
			FROM growth_loan_offers WHERE created_at >= $1 AND created_at < $2 GROUP BY provider, currency
		), standing AS (
			SELECT l.provider, l.currency, l.principal, l.fee, coalesce(b.balance, 0) AS owed,
				CASE WHEN l.status = 'OPEN' THEN greatest(0, least(l.principal + l.fee,
					l.minimum_daily * floor(extract(epoch FROM $3::timestamptz - l.created_at) / 86400)::bigint)
					- (l.principal + l.fee - coalesce(b.balance, 0))) ELSE 0 END AS arrears
			FROM growth_loans l
			LEFT JOIN ledger_balances b ON l.status = 'OPEN' AND b.account = 'provider:' || l.provider || ':loan' AND b.currency = l.currency
			WHERE l.created_at >= $1 AND l.created_at < $2
		), l AS (
			SELECT provider, currency, count(*) AS loans, sum(principal) AS principal, sum(fee) AS fees, sum(owed) AS owed,
				sum(arrears) AS arrears, count(*) FILTER (WHERE arrears > 0) AS in_arrears
			FROM standing GROUP BY provider, currency
		)
		SELECT coalesce(pr.vertical, ''), coalesce(pr.cities[1], ''), currency,
			coalesce(sum(o.made), 0)::bigint, coalesce(sum(o.accepted), 0)::bigint, coalesce(sum(o.offered), 0)::bigint,
			coalesce(sum(l.loans), 0)::bigint, coalesce(sum(l.principal), 0)::bigint, coalesce(sum(l.fees), 0)::bigint,
			coalesce(sum(l.owed), 0)::bigint, coalesce(sum(l.arrears), 0)::bigint, coalesce(sum(l.in_arrears), 0)::bigint
		FROM o FULL JOIN l USING (provider, currency)
		LEFT JOIN providers pr ON pr.id = provider
		GROUP BY 1, 2, 3`, from, to, now)
	if err != nil {
		return nil, unavailable("loan totals", err)
	}
	defer rows.Close()
	var out []LoanTotal
	for rows.Next() {
		var r LoanTotal
		if err := rows.Scan(&r.Vertical, &r.City, &r.Currency, &r.OffersMade, &r.OffersAccepted, &r.Offered, &r.Loans, &r.Principal,
			&r.Fees, &r.Outstanding, &r.Arrears, &r.InArrears); err != nil {
			return nil, unavailable("loan totals", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable("loan totals", err)
	}
	return sortLoanTotals(out), nil
}
