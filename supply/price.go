package supply

import (
	"context"
	"fmt"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/numeric"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
)

// The embedded index's price filter. Bleve's numeric field would index a
// price as a float64, 16 prefix-coded terms of its sortable bits (one per
// shift of 4). An integer held in a float64 has its low mantissa bits zero,
// so most of those terms stay distinct from price to price: a write of
// 1,000 items held some 11,000 price terms besides 3,000 of text, and the
// price was about 40% of what a push cost. The price is indexed instead as
// the integer it is (priceField), with the same prefix coding and
// precision step, and only at the shifts a range can ask for
// (priceQuery).

// pricePrecisionStep is the shift between two terms of a price, as in
// Bleve's numeric fields: a range is covered by at most 30 terms a shift.
const pricePrecisionStep = 4

// priceField is a price's terms: numeric.NewPrefixCodedInt64(price,
// shift) for every shift (0, 4, 8, ...) at which price>>shift is not 0.
// A range priceQuery looks up starts at 1 or above, so it is covered by
// blocks [a·2^shift, (a+1)·2^shift) with a ≥ 1, and a price's term at a
// shift where price>>shift is 0 would be a block it never asks for: a
// price below 2^16 (655.35 in cents) has 4 terms, not 16.
type priceField struct {
	price int64
	freqs index.TokenFrequencies
	n     int
}

var _ document.Field = (*priceField)(nil)

// newPriceField is the price field of a priced item (price ≥ 1); an
// unpriced item has none.
func newPriceField(price int64) *priceField { return &priceField{price: price} }

func (f *priceField) Name() string             { return fPrice }
func (f *priceField) ArrayPositions() []uint64 { return nil }

// Options: searched only, as the numeric field was (no stored value, doc
// values or term vectors: sorts read the item store).
func (f *priceField) Options() index.FieldIndexingOptions { return index.IndexField }
func (f *priceField) EncodedFieldType() byte              { return 'n' }
func (f *priceField) NumPlainTextBytes() uint64           { return 8 }
func (f *priceField) AnalyzedLength() int                 { return f.n }
func (f *priceField) AnalyzedTokenFrequencies() index.TokenFrequencies {
	return f.freqs
}

// Value is the full-precision term (nothing reads it: the field is not
// stored).
func (f *priceField) Value() []byte { return numeric.MustNewPrefixCodedInt64(f.price, 0) }

func (f *priceField) Analyze() {
	f.freqs = make(index.TokenFrequencies, 16)
	f.n = 0
	// One allocation for the terms of most prices (11 bytes at shift 0,
	// fewer above); NewPrefixCodedInt64Prealloc allocates past it.
	buf := make([]byte, 64)
	for shift := uint(0); shift < 64 && f.price>>shift != 0; shift += pricePrecisionStep {
		var term numeric.PrefixCoded
		term, buf, _ = numeric.NewPrefixCodedInt64Prealloc(f.price, shift, buf)
		tf := &index.TokenFreq{Term: term}
		tf.SetFrequency(1)
		f.freqs[string(term)] = tf
		f.n++
	}
}

func (f *priceField) Size() int {
	n := 48
	if f.freqs != nil {
		n += f.freqs.Size()
	}
	return n
}

// priceQuery matches the items whose price lies in [lo, hi], lo ≥ 1 (a
// filter keeps only priced items), over the terms of priceField.
type priceQuery struct{ lo, hi int64 }

// Searcher is the disjunction of the range's terms (priceTerms) that the
// index holds, as Bleve's numeric range searcher builds it. That searcher
// is not used: it steps from term to term by incrementing bytes, which
// walks every byte string between two terms whose 7-bit groups carry (a
// range from 65,535 to 65,536 would look up some 30,000 strings).
func (q priceQuery) Searcher(ctx context.Context, r index.IndexReader, _ mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	terms := priceTerms(q.lo, q.hi)
	if irr, ok := r.(index.IndexReaderContains); ok && len(terms) > 0 {
		dict, err := irr.FieldDictContains(fPrice)
		if err != nil {
			return nil, fmt.Errorf("supply: price terms: %w", err)
		}
		held := terms[:0]
		for _, t := range terms {
			if found, err := dict.Contains(t); err == nil && found {
				held = append(held, t)
			}
		}
		terms = held
		if d, ok := dict.(index.FieldDict); ok {
			if err := d.Close(); err != nil {
				return nil, fmt.Errorf("supply: price terms: %w", err)
			}
		}
	}
	ctx = context.WithValue(ctx, search.QueryTypeKey, search.Numeric)
	return searcher.NewMultiTermSearcherBytes(ctx, r, terms, fPrice, 1, options, true)
}

// priceTerms are the terms of the blocks that partition [lo, hi], lo ≥ 1:
// at each shift, the blocks at either end that a block of the next shift
// (16 times larger) would overrun, and at the last shift every block
// left. That is at most 30 terms a shift, 31 at the last. Every block
// starts at 1 or above, so its term is one priceField indexes.
func priceTerms(lo, hi int64) [][]byte {
	if lo < 1 || lo > hi {
		return nil
	}
	var out [][]byte
	add := func(from, to uint64, shift uint) { // blocks [from, to) of 2^shift
		for v := from; v < to; v++ {
			out = append(out, numeric.MustNewPrefixCodedInt64(int64(v<<shift), shift))
		}
	}
	// [l, h) in blocks of 2^shift; h ≤ 2^63 fits a uint64.
	l, h := uint64(lo), uint64(hi)+1
	const fan = 1 << pricePrecisionStep
	for shift := uint(0); ; shift += pricePrecisionStep {
		nl, nh := (l+fan-1)/fan, h/fan // whole blocks of the next shift
		if shift+pricePrecisionStep >= 64 || nl >= nh {
			add(l, h, shift)
			return out
		}
		add(l, nl*fan, shift)
		add(nh*fan, h, shift)
		l, h = nl, nh
	}
}
