package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// -compare REV: the gateway as built at git revision REV runs beside this
// tree's, on the same providers, pinned the same way (CPU 1, GOMAXPROCS=1),
// and is measured interleaved with it (A B A B …) in the workloads a change
// must not slow down: the list of 50 (uncached and cached) and the 50-order
// query. One run then says whether a change kept those figures, without two
// runs on a machine whose load moves between them.
//
//	go run ./bench -compare 796af69 -only 'list of 50|50-order' -skip-peers
//
// REV's tree is exported with `git archive` into bench/work/compare-src and
// both of its gateways are built there: the uncached one is REV's own
// `bench serve-gateway`, the cached one REV's shipped binary with Redis
// database 1 (this tree's uses database 0), so neither reads entries the
// other wrote. REV must serve the flags and environment the harness passes
// (--config, --addr, PLAZA_ADMIN_ADDR…), as every revision since the
// harness's own does.

// baseline is the gateway built at a revision.
type baseline struct {
	rev                string // as given, for target names
	plazaBin, benchBin string
}

// Target names of the baseline's uncached and cached gateways (the shipped
// binary with Redis, and without: the in-process cache).
func (b *baseline) plaza() string  { return "plaza@" + b.rev }
func (b *baseline) cached() string { return "plaza+redis@" + b.rev }
func (b *baseline) memory() string { return "plaza+memory@" + b.rev }

// buildBaseline exports rev and builds its shipped gateway and harness.
func (h *harness) buildBaseline(ctx context.Context, rev string) (*baseline, error) {
	src := filepath.Join(h.work, "compare-src")
	if err := os.RemoveAll(src); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(src, 0o755); err != nil {
		return nil, err
	}
	h.logf("building the gateway at %s (git archive into %s)", rev, src)
	if _, err := h.cmd(ctx, h.o.root, nil, "sh", "-c", `git archive "$1" | tar -x -C "$2"`, "sh", rev, src); err != nil {
		return nil, fmt.Errorf("-compare %s: %w", rev, err)
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(rev)
	b := &baseline{rev: rev, plazaBin: filepath.Join(h.work, "plaza@"+name), benchBin: filepath.Join(h.work, "bench@"+name)}
	if _, err := h.cmd(ctx, src, nil, "go", "build", "-o", b.plazaBin, "."); err != nil {
		return nil, fmt.Errorf("-compare %s: %w", rev, err)
	}
	if _, err := h.cmd(ctx, src, nil, "go", "build", "-o", b.benchBin, "./bench"); err != nil {
		return nil, fmt.Errorf("-compare %s: %w", rev, err)
	}
	h.notes = append(h.notes, fmt.Sprintf("-compare %s: %s, %s and %s are the gateways built at %s, measured interleaved with this tree's", rev, b.plaza(), b.cached(), b.memory(), rev))
	return b, nil
}

// startBaseline starts the baseline's uncached gateway and, when the
// cached list is selected, its shipped binary with Redis (database 1) and
// without.
func (h *harness) startBaseline(ctx context.Context) error {
	b := h.baseline
	if b == nil {
		return nil
	}
	h.logf("starting Plaza at %s (uncached, and the shipped binary with Redis)", b.rev)
	if _, err := h.startPlazaOf(ctx, b.plazaBin, b.benchBin, b.plaza(), h.base, providerTimeout, false, nil); err != nil {
		return err
	}
	if !h.selected("cached: list of 50 + store") && !h.selected("50-order query") {
		return nil
	}
	if _, err := h.startPlazaOf(ctx, b.plazaBin, b.benchBin, b.cached(), h.base, providerTimeout, true, []string{"REDIS_URL=" + h.redisURL + "/1"}); err != nil {
		return err
	}
	if !h.selected("cached: list of 50 + store") {
		return nil
	}
	_, err := h.startPlazaOf(ctx, b.plazaBin, b.benchBin, b.memory(), h.base, providerTimeout, true, nil)
	return err
}

// plazaQueries is doc (with vars, as user when set) to target, plaza or
// plaza+redis, and with -compare the same to the baseline's gateway
// standing for it, measured next to it.
func (h *harness) plazaQueries(target, doc string, vars map[string]any, user bool) []targetQuery {
	tqs := []targetQuery{h.gql(target, doc, vars, user)}
	if b := h.baseline; b != nil {
		switch target {
		case "plaza":
			tqs = append(tqs, h.gql(b.plaza(), doc, vars, user))
		case "plaza+redis":
			tqs = append(tqs, h.gql(b.cached(), doc, vars, user))
		case "plaza+memory":
			tqs = append(tqs, h.gql(b.memory(), doc, vars, user))
		}
	}
	return tqs
}
