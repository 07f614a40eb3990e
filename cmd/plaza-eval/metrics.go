package main

import "math"

// hitRate is 1 when any recommended item is relevant (HR@k for k=len(recs)).
func hitRate(recs []int32, relevant map[int32]bool) float64 {
	for _, r := range recs {
		if relevant[r] {
			return 1
		}
	}
	return 0
}

// ndcg is the normalised discounted cumulative gain with binary relevance:
// DCG = sum over relevant positions i (0-based) of 1/log2(i+2), divided by
// the DCG of a perfect list of min(len(relevant), len(recs)) hits.
func ndcg(recs []int32, relevant map[int32]bool, k int) float64 {
	var dcg, ideal float64
	for i, r := range recs {
		if i == k {
			break
		}
		if relevant[r] {
			dcg += 1 / math.Log2(float64(i+2))
		}
	}
	for i := range min(len(relevant), k) {
		ideal += 1 / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}
