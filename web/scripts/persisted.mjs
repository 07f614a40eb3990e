// The persisted documents: every `.graphql` file the app imports becomes a
// document whose sha256 is known at build time. The client sends only the
// hash (urql's persisted exchange); the gateway looks the document up in
// dist/persisted-documents.json, embedded in its binary, so in production it
// can refuse every operation that is not one of these (PLAZA_PERSISTED_ONLY).
//
// The hash is over the document exactly as urql sends it: parsed, with
// __typename added to every selection (formatDocument, which the normalised
// cache needs), printed by urql's printer.
import { createHash } from 'node:crypto';
import { gql, formatDocument, stringifyDocument } from '@urql/core';

export function printed(source) {
  return stringifyDocument(formatDocument(gql(source)));
}

export function hash(text) {
  return createHash('sha256').update(text).digest('hex');
}

function operationName(doc) {
  const op = doc.definitions.find((d) => d.kind === 'OperationDefinition');
  if (!op || !op.name) throw new Error('every .graphql file holds one named operation');
  return op.name.value;
}

export function persistedDocuments() {
  const manifest = new Map(); // hash -> printed document
  return {
    name: 'plaza-persisted-documents',
    transform(source, id) {
      if (!id.endsWith('.graphql')) return null;
      const text = printed(source);
      const doc = gql(source);
      const ops = doc.definitions.filter((d) => d.kind === 'OperationDefinition');
      if (ops.length !== 1) this.error(`${id}: want exactly one operation, got ${ops.length}`);
      const h = hash(text);
      manifest.set(h, text);
      const name = operationName(doc);
      return {
        code: `import { gql } from '@urql/core';\nimport { register } from '/src/persisted.js';\n` +
          `export default register(${JSON.stringify(name)}, ${JSON.stringify(h)}, gql(${JSON.stringify(source)}));\n`,
        map: null,
      };
    },
    generateBundle() {
      const sorted = Object.fromEntries([...manifest.entries()].sort(([a], [b]) => a.localeCompare(b)));
      this.emitFile({ type: 'asset', fileName: 'persisted-documents.json', source: JSON.stringify(sorted, null, 1) + '\n' });
    },
  };
}
