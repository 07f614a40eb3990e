// Hive Gateway serving the Mesh supergraph. Every upstream request is signed
// the way Plaza signs it (hex HMAC-SHA256 over timestamp, nonce, method, path
// and body; see connectors/httpprovider/sign.go), so the provider does the
// same work for every target.
import { createHmac, randomBytes } from 'node:crypto';
import { defineConfig } from '@graphql-hive/gateway';

const secret = process.env.PROVIDER_SECRET ?? '';

function sign(url: string, method: string, body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000).toString();
  const nonce = randomBytes(16).toString('hex');
  const path = new URL(url).pathname;
  const sig = createHmac('sha256', secret)
    .update(`${ts}\n${nonce}\n${method}\n${path}\n`)
    .update(body)
    .digest('hex');
  return { 'Plaza-Timestamp': ts, 'Plaza-Nonce': nonce, 'Plaza-Signature': sig };
}

export const gatewayConfig = defineConfig({
  supergraph: './supergraph.graphql',
  graphqlEndpoint: '/query',
  host: '127.0.0.1',
  port: Number(process.env.PORT ?? 4000),
  landingPage: false,
  graphiql: false,
  logging: 'error',
  pollingInterval: 0,
  plugins: () => [
    {
      onFetch({ url, options, setOptions }) {
        const method = (options.method ?? 'GET').toUpperCase();
        const body = typeof options.body === 'string' ? options.body : '';
        const headers = { ...(options.headers as Record<string, string>), ...sign(url, method, body) };
        setOptions({ ...options, headers });
      },
    },
  ],
});
