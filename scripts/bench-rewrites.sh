#!/bin/sh
# Measures what each rewrite of graph/generated.go (listexec/cmd/rewrite) is
# worth, side by side in one run: it builds the bench package's test binary
# once per variant of the executor (every rule, every rule but one, none),
# all from the same gqlgen output, then runs the binaries interleaved, one
# after another, ROUNDS times, and prints each variant's median.
#
#   scripts/bench-rewrites.sh                      # the list of 50
#   BENCH='FiftyOrdersHandler$' ROUNDS=8 scripts/bench-rewrites.sh
#
# The gateway runs with GOMAXPROCS=1 (-test.cpu 1), as in `make bench`.
# RAW=file skips running gqlgen and takes its output from file.
set -eu
ROUNDS=${ROUNDS:-6}
BENCH=${BENCH:-'FiftyProductsHandler$'}
BENCHTIME=${BENCHTIME:-2s}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
rsync -a --exclude .git "$root/" "$work/src/"
cd "$work/src"
if [ -n "${RAW:-}" ]; then cp "$RAW" "$work/raw.go"; else
	go tool gqlgen generate
	cp graph/generated.go "$work/raw.go"
fi
all=$(go run ./listexec/cmd/rewrite -list)
variants="all none"
for r in $(echo "$all" | tr , ' '); do variants="$variants -$r"; done
for v in $variants; do
	cp "$work/raw.go" graph/generated.go
	case $v in
	all) rules=$all ;;
	none) rules= ;;
	*) rules=$(echo "$all" | tr , '\n' | grep -vx -- "${v#-}" | paste -sd, -) ;;
	esac
	if [ -n "$rules" ]; then go run ./listexec/cmd/rewrite -rules "$rules" graph/generated.go; fi
	go test -c -o "$work/$v.test" ./bench
	echo "built $v (rules: ${rules:-none})" >&2
done
for round in $(seq "$ROUNDS"); do
	for v in $variants; do
		(cd "$work/src/bench" && "$work/$v.test" -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.cpu 1 -test.benchtime "$BENCHTIME") |
			awk -v v="$v" '/^Benchmark/ { print v, $0 }' | tee -a "$work/runs.txt"
	done
done
echo
echo "median of $ROUNDS interleaved runs ($BENCH, GOMAXPROCS=1):"
printf '%-10s %12s %10s %10s\n' variant ns/op B/op allocs/op
for v in $variants; do
	for col in 4 6 8; do
		awk -v v="$v" -v c="$col" '$1 == v { print $c }' "$work/runs.txt" | sort -n |
			awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
	done | paste -sd' ' - | awk -v v="$v" '{ printf "%-10s %12.0f %10.0f %10.0f\n", v, $1, $2, $3 }'
done
