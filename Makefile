# Plaza: the two commands are `go run .` (start the gateway) and `make test`.
GO ?= go
# A count, not a duration: with a duration, Go 1.26's fuzzing coordinator can
# report its own -fuzztime deadline as a failure with no crasher
# (go.dev/issue/75804, fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 50000x

.PHONY: test vet check generate bench microbench fuzz fuzz-ci fmt e2e web

## test: vet, then every test with the race detector (Redis at REDIS_URL, else in-process).
## The race runtime sleeps a second before every exit (atexit_sleep_ms, default 1000) so that racing goroutines
## can still report: a second per test binary and per process the tests start (well over a hundred). Races are
## still reported; the tests wait for what they start. An atexit_sleep_ms in the caller's GORACE wins.
## TESTFLAGS: vet has just run on every package (go test would run part of it again per package), and the test
## binaries carry no DWARF (-w: stack traces use the symbol table, which stays; linking a 100 MB race binary
## takes about a quarter less).
TESTFLAGS ?= -vet=off -ldflags=-w
test: vet
	GORACE="atexit_sleep_ms=0 $$GORACE" $(GO) test -race -count=1 $(TESTFLAGS) ./...

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## generate: regenerate gqlgen code (the generated_test.go check fails when it is stale).
generate:
	$(GO) generate ./...

## fuzz: each fuzzer for FUZZTIME (default 50000x executions); seed corpora are committed under <pkg>/testdata/fuzz/<Fuzzer>/.
## A crasher is written there too: commit it with the fix, so `make test` replays it.
FUZZERS = ./gid:FuzzDecode ./gid:FuzzRoundTrip ./connectors/httpprovider:FuzzProviderReply ./api:FuzzQueryRequest
## fuzz-ci: the fuzzers CI runs. Not api's: its coverage-instrumented build rebuilds every package up to graph, about
## four minutes on a cold build cache after a change low in the tree (a clean clone's CI took 912 s of its 900 on
## 2026-12-06). `make test` still replays its committed corpus; run `make fuzz` for it.
FUZZERS_CI = ./gid:FuzzDecode ./gid:FuzzRoundTrip ./connectors/httpprovider:FuzzProviderReply
fuzz:
	@set -e; for f in $(FUZZERS); do pkg=$${f%%:*}; name=$${f##*:}; \
		echo "fuzz: $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test $(TESTFLAGS) -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

fuzz-ci:
	$(MAKE) fuzz FUZZERS="$(FUZZERS_CI)"

## microbench: every Go micro-benchmark once, so they cannot rot (CI runs this). The generated-index benchmarks
## feed 10^3 providers here instead of their 10^4: the same feed, compaction and walks, and 3 of the bench package's
## 3.5 minutes of set-up under load go.
microbench:
	PLAZA_BENCH_FEED_N=$${PLAZA_BENCH_FEED_N:-1000} $(GO) test $(TESTFLAGS) -run '^$$' -bench . -benchtime=1x $$(grep -rl --include='*_test.go' '^func Benchmark' . | grep -v node_modules | xargs -n1 dirname | sort -u)

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: Plaza against the floor, Hive Gateway + Mesh, graphql-yoga and the raw providers on loopback, then the
## directory's scale benchmarks at 10^6 providers (PostgreSQL), the supply index's over their 2·10^7 items and the
## traffic roll-ups at 1.1·10^7 rows (their generation adds about 3 min); about 16 min (ARGS=-skip-directory: 13),
## plus over an hour the first time, to build the kept database plaza_bench_supply; installs
## the npm peers on first use; prints the table and writes bench/results/latest.md. See bench/README.md.
bench:
	$(GO) run ./bench $(ARGS)

## web: rebuild the app and playground bundle (web/dist, embedded in the binary) after changing web/.
web:
	cd web && npm ci --no-audit --no-fund --prefer-offline && npm run build

## e2e: rebuild the bundle with npm and check it is the committed one (byte for byte), then drive a real gateway
## in Debian's Chromium (/usr/bin/chromium) with Playwright: the app's journeys and the playground with the network
## blocked. Screenshots of each screen go to docs/screenshots/. CI runs it after the rest.
e2e: web
	@if ! git diff --quiet -- web/dist web/SOURCES.sha256 || [ -n "$$(git status --porcelain -- web/dist web/SOURCES.sha256)" ]; then \
		echo "e2e: the committed bundle is not what web/ builds: commit web/dist and web/SOURCES.sha256"; \
		git status --short -- web/dist web/SOURCES.sha256; exit 1; fi
	@dir=$$(mktemp -d) && $(GO) build -o $$dir/plaza . && $(GO) build -o $$dir/demo-provider ./cmd/demo-provider && \
		cd web && PLAZA_BIN=$$dir/plaza PLAZA_DEMO_PROVIDER_BIN=$$dir/demo-provider npm run e2e
