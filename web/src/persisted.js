// The hash of each operation, by name, as computed at build time
// (scripts/persisted.mjs). The client sends only these hashes.
const hashes = new Map();

export function register(name, hash, doc) {
  hashes.set(name, hash);
  return doc;
}

export function hashOf(doc) {
  const op = doc.definitions.find((d) => d.kind === 'OperationDefinition');
  const h = op && op.name && hashes.get(op.name.value);
  if (!h) throw new Error('operation is not a persisted document');
  return h;
}
