// The GraphQL client: urql with graphcache (a normalised cache keyed by each
// object's global id) and persisted documents (only hashes are sent).
import { Client, fetchExchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { persistedExchange } from '@urql/exchange-persisted';
import { hashOf } from './persisted.js';
import { session } from './session.js';

// Objects without an id are embedded in their parent.
const embedded = () => null;
const keys = Object.fromEntries(
  ['PageInfo', 'Money', 'SearchEdge', 'SearchFacets', 'FacetCount', 'HomePage', 'HomeSection', 'HomeItem', 'UserSettings',
    'OrderItem', 'ProductEdge', 'GroceryOrderEdge', 'AppointmentEdge', 'ConsultationEdge', 'LegalConsultationEdge',
    'ServiceApplicationEdge', 'ProviderEdge', 'ProviderConnection', 'SearchConnection', 'ProductConnection',
    'GroceryOrderConnection', 'AppointmentConnection', 'ConsultationConnection', 'LegalConsultationConnection',
    'ServiceApplicationConnection'].map((t) => [t, embedded]),
);

// After anything the user does, their activity (and home page) is fetched
// again: the gateway decides what changed.
function refreshMe(_result, _args, cache) {
  const me = cache.resolve('Query', 'me');
  if (me) cache.invalidate(me);
  cache.inspectFields('Query').filter((f) => f.fieldName === 'home').forEach((f) => cache.invalidate('Query', 'home', f.arguments));
}

export function makeClient() {
  return new Client({
    url: '/query',
    preferGetMethod: false,
    fetchOptions: () => {
      const { token } = session.get();
      // application/json: errors come back as GraphQL errors with status 200.
      const headers = { Accept: 'application/json' };
      if (token) headers.Authorization = `Bearer ${token}`;
      return { headers };
    },
    exchanges: [
      cacheExchange({
        keys,
        resolvers: { Query: { search: relayPagination() } },
        updates: {
          Mutation: {
            placeGroceryOrder: refreshMe,
            cancelGroceryOrder: refreshMe,
            bookDoctorAppointment: refreshMe,
            askDoctor: refreshMe,
            requestLegalConsultation: refreshMe,
            applyForGovService: refreshMe,
            updateSettings: refreshMe,
          },
        },
      }),
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        generateHash: async (_query, document) => hashOf(document),
      }),
      fetchExchange,
    ],
  });
}
