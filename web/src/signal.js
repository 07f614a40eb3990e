// A tiny observable value with a Preact hook: the session and the cart are
// shared by every page without a state library.
import { useEffect, useState } from 'preact/hooks';

export function signal(initial) {
  let value = initial;
  const subs = new Set();
  return {
    get: () => value,
    set(v) {
      value = v;
      subs.forEach((f) => f(v));
    },
    subscribe(f) {
      subs.add(f);
      return () => subs.delete(f);
    },
  };
}

export function useSignal(s) {
  const [v, setV] = useState(s.get());
  useEffect(() => {
    // A change between the render and this effect is not missed.
    setV(s.get());
    return s.subscribe(setV);
  }, [s]);
  return v;
}
