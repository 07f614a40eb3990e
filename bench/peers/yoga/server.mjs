// Peer (b): the typical hand-built Node gateway. graphql-yoga with
// hand-written resolvers and per-request DataLoaders (one batch call per
// entity type per request) calling one demo provider over Plaza's signed REST
// contract with the global fetch (keep-alive).
//   PORT=... PROVIDER_URL=http://127.0.0.1:PORT PROVIDER_SECRET=... node server.mjs
import { createServer } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import { createSchema, createYoga } from 'graphql-yoga';
import DataLoader from 'dataloader';

const base = process.env.PROVIDER_URL ?? 'http://127.0.0.1:19101';
const secret = process.env.PROVIDER_SECRET ?? '';
const port = Number(process.env.PORT ?? 4001);

async function call(path, payload) {
  const body = JSON.stringify(payload);
  const ts = Math.floor(Date.now() / 1000).toString();
  const nonce = randomBytes(16).toString('hex');
  const sig = createHmac('sha256', secret).update(`${ts}\n${nonce}\nPOST\n${path}\n`).update(body).digest('hex');
  const res = await fetch(base + path, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'plaza-timestamp': ts, 'plaza-nonce': nonce, 'plaza-signature': sig },
  });
  if (!res.ok) throw new Error(`provider ${path}: HTTP ${res.status}`);
  return res.json();
}

// batchGet returns one value or Error per id, in key order, as DataLoader requires.
function batchGet(path) {
  return async (ids) => {
    const { results } = await call(path, { ids });
    return results.map((r) => (r.value ? r.value : new Error(r.error?.message ?? 'not found')));
  };
}

const typeDefs = /* GraphQL */ `
  type Money { amount: Int!, currency: String! }
  type Store { id: ID!, name: String!, city: String!, address: String!, rating: Float!, tags: [String!]! }
  type Product {
    id: ID!, name: String!, description: String!, category: String!, tags: [String!]!
    price: Money!, unit: String!, stock: Int!, origin: String!, rating: Float!
    store: Store
  }
  type Query {
    product(id: ID!): Product
    products(ids: [ID!]!): [Product]!
  }
`;

const resolvers = {
  Query: {
    product: (_, { id }, ctx) => ctx.products.load(id),
    products: (_, { ids }, ctx) => ctx.products.loadMany(ids),
  },
  Product: {
    store: (p, _, ctx) => ctx.stores.load(p.storeId),
  },
};

const yoga = createYoga({
  schema: createSchema({ typeDefs, resolvers }),
  graphqlEndpoint: '/query',
  graphiql: false,
  landingPage: false,
  logging: 'error',
  context: () => ({
    products: new DataLoader(batchGet('/v1/grocery/products:batchGet')),
    stores: new DataLoader(batchGet('/v1/grocery/stores:batchGet')),
  }),
});

createServer(yoga).listen(port, '127.0.0.1');
