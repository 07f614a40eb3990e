// GraphQL Mesh composition of Plaza's provider contract (the OpenAPI document
// in connectors/httpprovider/openapi.yaml, copied here by the harness),
// pointed at one demo-provider process. The harness runs
//   PROVIDER_URL=http://127.0.0.1:PORT npx mesh-compose -o supergraph.graphql
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('Provider', {
        source: './openapi.yaml',
        endpoint: process.env.PROVIDER_URL ?? 'http://127.0.0.1:19101',
      }),
    },
  ],
});
