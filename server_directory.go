package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/plaza-gateway/plaza/certify"
	"github.com/plaza-gateway/plaza/config"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/registry"
	"github.com/plaza-gateway/plaza/resolvers"
)

// newOnboarding opens the provider directory that registration and
// certification write to, and starts the certification job: PostgreSQL
// when PLAZA_DATABASE_URL is set (migrated by `plaza migrate`), else the
// embedded directory seeded with the providers being served. The returned
// func stops the job, waits for it, then closes the directory.
func newOnboarding(ctx context.Context, cfg config.Config, loaded *registry.Loaded, log *slog.Logger) (resolvers.Option, func(), error) {
	store, closeStore, err := openServedDirectory(ctx, cfg, loaded, log)
	if err != nil {
		return nil, nil, err
	}
	runner := certify.New(store, certify.Config{Concurrency: cfg.CertifyConcurrency, RequireApproval: cfg.RequireApproval}, log)
	rctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { runner.Run(rctx) })
	return resolvers.WithDirectory(store, runner), func() { stop(); wg.Wait(); closeStore() }, nil
}

func openServedDirectory(ctx context.Context, cfg config.Config, loaded *registry.Loaded, log *slog.Logger) (directory.Store, func(), error) {
	policy := directory.Policy{Development: !cfg.Production()}
	if cfg.DatabaseURL != "" {
		if cfg.DirectoryKey == nil {
			return nil, nil, errors.New("PLAZA_DATABASE_URL needs PLAZA_DIRECTORY_KEY: registered providers' signing secrets are stored encrypted")
		}
		pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, nil, fmt.Errorf("directory: %w", err)
		}
		pg, err := directory.OpenPostgres(ctx, pool, cfg.DirectoryKey, policy, nil)
		if err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("directory: %w", err)
		}
		log.Info("provider directory: PostgreSQL", "providers", pg.State().Providers, "version", pg.State().Version)
		return pg, func() { pg.Close(); pool.Close() }, nil
	}
	sealer := cfg.DirectoryKey
	if sealer == nil {
		// The embedded directory forgets everything on exit, its secrets
		// included: a key of this process's own is enough.
		var key [32]byte
		if _, err := rand.Read(key[:]); err != nil {
			return nil, nil, fmt.Errorf("directory key: %w", err)
		}
		sealer, _ = directory.NewSealer(key[:])
	}
	mem := directory.NewMemory(sealer, policy)
	seed := make([]directory.Provider, 0, len(loaded.Registry.All()))
	for _, c := range loaded.Registry.All() {
		d := c.Describe()
		s := loaded.Settings[d.ID]
		seed = append(seed, directory.Provider{ID: d.ID, Vertical: d.Vertical, Name: d.Name, Description: d.Description,
			Cities: d.Cities, Rating: d.Rating, Lifecycle: directory.Active,
			Limits: directory.Limits{Timeout: s.Timeout, MaxConcurrent: s.MaxConcurrent, MaxBatch: d.MaxBatch}})
	}
	if err := mem.Seed(seed); err != nil {
		// The gateway serves its registry either way; only `providers`
		// paging and onboarding see the directory.
		log.Warn("provider directory: the served providers could not be listed in it", "err", err)
	}
	log.Info("provider directory: embedded (set PLAZA_DATABASE_URL to share it across instances)", "providers", mem.State().Providers)
	return mem, func() {}, nil
}
