package main

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/plaza-gateway/plaza/certify"
	"github.com/plaza-gateway/plaza/directory"
	"github.com/plaza-gateway/plaza/providers"
	"github.com/plaza-gateway/plaza/resolvers"
)

// openOnboarding starts the certification job over the directory that
// registration writes to: the one the gateway serves from when
// PLAZA_DATABASE_URL is set, else an embedded directory seeded with the
// providers being served (registrations there are certified and paged by
// `providers`, and forgotten on exit). The job ends with the app.
func (a *app) openOnboarding(ctx context.Context) error {
	store := a.directory
	if store == nil {
		mem, err := a.embeddedDirectory(a.current.Load())
		if err != nil {
			return err
		}
		store = mem
	}
	store = pullOnActive{Store: store, notify: a.pullActivated}
	a.registrar = store
	runner := certify.New(store, certify.Config{Concurrency: a.cfg.CertifyConcurrency, RequireApproval: a.cfg.RequireApproval,
		Finished: a.growth.conformanceRun(a.log)}, a.log)
	a.background(ctx, runner.Run)
	a.onboarding = resolvers.WithDirectory(store, runner)
	a.openGrowth(ctx, store)
	return nil
}

// embeddedDirectory is the in-memory directory of a gateway without a
// database, listing the providers it serves as ACTIVE.
func (a *app) embeddedDirectory(served *providers.Set) (*directory.Memory, error) {
	sealer := a.cfg.DirectoryKey
	if sealer == nil {
		// The embedded directory forgets everything on exit, its secrets
		// included: a key of this process's own is enough.
		var key [32]byte
		if _, err := rand.Read(key[:]); err != nil {
			return nil, fmt.Errorf("directory key: %w", err)
		}
		sealer, _ = directory.NewSealer(key[:])
	}
	mem := directory.NewMemory(sealer, directory.Policy{Development: !a.cfg.Production()})
	seed := make([]directory.Provider, 0, len(served.Registry.All()))
	for _, c := range served.Registry.All() {
		d := c.Describe()
		s, _ := served.Settings(d.ID)
		seed = append(seed, directory.Provider{ID: d.ID, Vertical: d.Vertical, Name: d.Name, Description: d.Description,
			Cities: d.Cities, Rating: d.Rating, Lifecycle: directory.Active,
			Limits: directory.Limits{Timeout: s.Timeout, MaxConcurrent: s.MaxConcurrent, MaxBatch: d.MaxBatch}})
	}
	if err := mem.Seed(seed); err != nil {
		// The gateway serves its providers either way; only `providers`
		// paging and onboarding see the directory.
		a.log.Warn("provider directory: the served providers could not be listed in it", "err", err)
	}
	a.log.Info("provider directory: embedded (set PLAZA_DATABASE_URL to share it across instances)", "providers", mem.State().Providers)
	return mem, nil
}
