package providers

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"os"
	"time"
)

// Watcher reloads a config file when told to (SIGHUP) or when its content
// has changed and then stayed the same for one check interval, and hands each successfully built registry to apply. A file that
// fails to load is logged and skipped: the previous registry stays.
type Watcher struct {
	path     string
	env      Env
	apply    func(*Set)
	log      *slog.Logger
	interval time.Duration
	last     [32]byte
	// seen is the content the last tick found changed; a change is loaded
	// once a second tick finds the same content, so a file caught halfway
	// through being written is not loaded (and reported broken) before it
	// is whole.
	seen [32]byte
}

// NewWatcher returns a watcher for path whose current content is already
// applied (sum is its hash, from Sum). interval is how often the file is
// checked for changes.
func NewWatcher(path string, sum [32]byte, interval time.Duration, env Env, log *slog.Logger, apply func(*Set)) *Watcher {
	return &Watcher{path: path, env: env, apply: apply, log: log, interval: interval, last: sum}
}

// Sum hashes a config file's content (change detection).
func Sum(path string) ([32]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(data), nil
}

// Run watches until ctx ends. Each value on reload forces a reload.
func (w *Watcher) Run(ctx context.Context, reload <-chan struct{}) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			w.Reload("signal")
		case <-t.C:
			w.check()
		}
	}
}

// check is one tick: a changed file is loaded when the previous tick found
// the same content.
func (w *Watcher) check() {
	sum, err := Sum(w.path)
	switch {
	case err != nil || sum == w.last:
	case sum != w.seen:
		w.seen = sum // changed: load it if it is still so next tick
	default:
		w.Reload("file changed")
	}
}

// Reload loads the file now and applies it if it builds.
func (w *Watcher) Reload(why string) bool {
	sum, err := Sum(w.path)
	if err != nil {
		w.log.Error("registry reload failed; keeping the current providers", "why", why, "path", w.path, "err", err)
		return false
	}
	w.last = sum // a bad file is reported once, not every interval
	loaded, err := LoadFile(w.path, w.env)
	if err != nil {
		w.log.Error("registry reload failed; keeping the current providers", "why", why, "path", w.path, "err", err)
		return false
	}
	w.apply(loaded)
	w.log.Info("registry reloaded", "why", why, "path", w.path, "providers", loaded.Registry.Len())
	return true
}
