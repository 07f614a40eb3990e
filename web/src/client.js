// The GraphQL client: urql with graphcache (a normalised cache keyed by each
// object's global id) and persisted documents (only hashes are sent).
import { Client, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWSClient } from 'graphql-ws';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { persistedExchange } from '@urql/exchange-persisted';
import { hashOf } from './persisted.js';
import { session } from './session.js';

// Subscriptions run over one websocket (graphql-transport-ws). Browsers
// cannot set headers on a websocket, so the token goes in connection_init
// (README, "Live status"); lazy: the socket is open only while a screen
// follows something, and each (re)connect reads the current token.
function liveStatus() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = createWSClient({
    url: `${scheme}//${location.host}/query`,
    lazy: true,
    retryAttempts: 5,
    connectionParams: () => {
      const { token } = session.get();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
  });
  // A new token (signing in as someone else) needs a new connection.
  let token = session.get().token;
  session.subscribe((s) => {
    if (s.token !== token) {
      token = s.token;
      ws.terminate();
    }
  });
  return subscriptionExchange({
    // The persisted exchange left only the document's hash; graphql-ws
    // insists on a query string, and the gateway reads "" as "by hash".
    forwardSubscription: (request) => ({
      subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query || '' }, sink) }),
    }),
  });
}

// Objects without an id are embedded in their parent.
const embedded = () => null;
const embeddedTypes = ['PageInfo', 'Money', 'SearchEdge', 'SearchFacets', 'FacetCount', 'HomePage', 'HomeSection', 'HomeItem',
  'UserSettings', 'OrderItem', 'ProductEdge', 'GroceryOrderEdge', 'AppointmentEdge', 'ConsultationEdge', 'LegalConsultationEdge',
  'ServiceApplicationEdge', 'ProviderEdge', 'ProviderConnection', 'SearchConnection', 'ProductConnection',
  'GroceryOrderConnection', 'AppointmentConnection', 'ConsultationConnection', 'LegalConsultationConnection',
  'ServiceApplicationConnection', 'StatusUpdate', 'Image', 'OpeningHours', 'City',
  // The provider portal's.
  'RewardAccount', 'RewardPrograms', 'LedgerEntry', 'LedgerPosting', 'ServiceLevel', 'ServiceLevelTransition',
  'LoanOffer', 'LoanOfferFactor', 'CreatedProviderApiKey', 'TrafficDay', 'TrafficQuery', 'DemandQuery', 'Placement', 'PlacedItem',
  'RankingReason'];
const keys = {
  ...Object.fromEntries(embeddedTypes.map((t) => [t, embedded])),
  // A provider's own view has no id: its key names it.
  ViewerProvider: (v) => v.key,
};

// After anything the user does, their activity (and home page) is fetched
// again: the gateway decides what changed.
function refreshMe(_result, _args, cache) {
  const me = cache.resolve('Query', 'me');
  if (me) cache.invalidate(me);
  cache.inspectFields('Query').filter((f) => f.fieldName === 'home').forEach((f) => cache.invalidate('Query', 'home', f.arguments));
}

// makeClient builds the app's client. credential returns the bearer the
// requests carry: the signed-in user's by default; the provider portal
// passes its own (a provider's token or API key, never mixed with the
// user's) and no live status (live: false).
// After a provider changes its keys, the portal asks for its view again.
function refreshProvider(_result, _args, cache) {
  cache.invalidate('Query', 'viewerProvider');
}

export function makeClient({ credential = () => session.get().token, live = true } = {}) {
  return new Client({
    url: '/query',
    preferGetMethod: false,
    fetchOptions: () => {
      const token = credential();
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
            cancelAppointment: refreshMe,
            rescheduleAppointment: refreshMe,
            cancelLegalConsultation: refreshMe,
            cancelApplication: refreshMe,
            rescheduleApplication: refreshMe,
            payGroceryOrder: refreshMe,
            updateSettings: refreshMe,
            createProviderApiKey: refreshProvider,
            revokeProviderApiKey: refreshProvider,
            applyForLoan: refreshProvider,
            repayLoan: refreshProvider,
          },
        },
      }),
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        enableForSubscriptions: true,
        generateHash: async (_query, document) => hashOf(document),
      }),
      ...(live ? [liveStatus()] : []),
      fetchExchange,
    ],
  });
}
