// Apollo Client 3 against a running Trestle: sign-in, automatic persisted
// queries (POST and GET), Relay `node(id:)`/`nodes(ids:)` refetches, a
// subscription over graphql-ws, gzip responses and the media type of a 401.
//
//   TRESTLE_URL=http://127.0.0.1:8080 TRESTLE_EMAIL=… TRESTLE_PASSWORD=… tsx apollo.test.ts
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql, split } from '@apollo/client/core/index.js';
import type { DocumentNode, FetchResult } from '@apollo/client/core/index.js';
import { createPersistedQueryLink } from '@apollo/client/link/persisted-queries/index.js';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions/index.js';
import { getMainDefinition } from '@apollo/client/utilities/index.js';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = required('TRESTLE_URL');
const email = required('TRESTLE_EMAIL');
const password = required('TRESTLE_PASSWORD');
const graphqlUrl = `${base}/graphql`;
const wsUrl = graphqlUrl.replace(/^http/, 'ws') + '/ws';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

let checks = 0;
function check(name: string, ok: boolean, detail?: unknown): void {
  if (!ok) {
    throw new Error(`FAILED: ${name}${detail === undefined ? '' : `\n${JSON.stringify(detail, null, 2)}`}`);
  }
  checks += 1;
  console.log(`ok - ${name}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Each part runs even when an earlier one failed, so one run reports every failure.
let failures = 0;
async function part(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    failures += 1;
    console.error(`not ok - ${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

// --- Every HTTP request Apollo makes, with its answer -------------------------

interface Recorded {
  method: string;
  url: URL;
  body: Record<string, any> | null;
  status: number;
  response: Record<string, any> | null;
}
const recorded: Recorded[] = [];

const recordingFetch: typeof fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const method = (init?.method ?? 'GET').toUpperCase();
  const body = typeof init?.body === 'string' ? JSON.parse(init.body) : null;
  const response = await fetch(input, init);
  let parsed: Record<string, any> | null = null;
  try {
    parsed = JSON.parse(await response.clone().text());
  } catch {
    parsed = null;
  }
  recorded.push({ method, url, body, status: response.status, response: parsed });
  return response;
};

// --- The client -----------------------------------------------------------------

let token = '';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function makeClient(options: { persisted: boolean; useGETForHashedQueries?: boolean }) {
  const auth = new ApolloLink((operation, forward) => {
    if (token) {
      operation.setContext(({ headers = {} }: { headers?: Record<string, string> }) => ({
        headers: { ...headers, authorization: `Bearer ${token}` },
      }));
    }
    return forward(operation);
  });
  const http = new HttpLink({ uri: graphqlUrl, fetch: recordingFetch });
  const httpChain = options.persisted
    ? ApolloLink.from([
        auth,
        createPersistedQueryLink({ sha256, useGETForHashedQueries: options.useGETForHashedQueries ?? false }),
        http,
      ])
    : ApolloLink.from([auth, http]);
  return new ApolloClient({
    link: httpChain,
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: 'no-cache' }, mutate: { fetchPolicy: 'no-cache' } },
  });
}

// --- Sign in --------------------------------------------------------------------

const plain = makeClient({ persisted: false });
{
  const { data } = await plain.mutate({
    mutation: gql`
      mutation SignIn($email: String!, $password: String!) {
        login(input: { email: $email, password: $password }) {
          token
          user { email }
        }
      }
    `,
    variables: { email, password },
  });
  token = data.login.token;
  check('login answers a token', typeof token === 'string' && token.length > 20 && data.login.user.email === email, data);
}

// --- Automatic persisted queries --------------------------------------------------

async function persistedRoundTrip(label: string, useGET: boolean, query: DocumentNode) {
  const client = makeClient({ persisted: true, useGETForHashedQueries: useGET });
  const first = recorded.length;
  const one = await client.query({ query });
  check(`${label}: first answer has data`, !!one.data?.viewer?.id, one);
  const firstRun = recorded.slice(first);
  const second = recorded.length;
  const two = await client.query({ query, fetchPolicy: 'network-only' });
  check(`${label}: second answer has data`, !!two.data?.viewer?.id, two);
  const secondRun = recorded.slice(second);
  const summary = (r: Recorded) => ({
    method: r.method,
    url: r.url.search ? `${r.url.pathname}${r.url.search}` : r.url.pathname,
    body: r.body,
    status: r.status,
    response: r.response,
  });

  check(`${label}: the first run is two requests (hash, then hash and document)`, firstRun.length === 2, firstRun.map(summary));
  const [hashOnly, withDocument] = firstRun;
  const params = (r: Recorded) =>
    r.method === 'GET'
      ? {
          query: r.url.searchParams.get('query'),
          extensions: JSON.parse(r.url.searchParams.get('extensions') ?? 'null'),
        }
      : { query: r.body?.query ?? null, extensions: r.body?.extensions ?? null };
  const hash = params(hashOnly).extensions?.persistedQuery?.sha256Hash;
  check(`${label}: request 1 is ${useGET ? 'GET' : 'POST'} with the hash only`,
    hashOnly.method === (useGET ? 'GET' : 'POST') && !params(hashOnly).query && /^[0-9a-f]{64}$/.test(hash ?? '') &&
      params(hashOnly).extensions.persistedQuery.version === 1,
    summary(hashOnly));
  if (useGET) {
    check(`${label}: request 1 carries \`extensions\` in the query string`, hashOnly.url.searchParams.has('extensions'), summary(hashOnly));
  }
  check(`${label}: the server answers PERSISTED_QUERY_NOT_FOUND`,
    hashOnly.response?.errors?.some((e: any) => e.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND') === true,
    summary(hashOnly));
  check(`${label}: request 2 sends the document with the same hash`,
    !!params(withDocument).query && params(withDocument).extensions?.persistedQuery?.sha256Hash === hash &&
      sha256(params(withDocument).query!) === hash,
    summary(withDocument));
  check(`${label}: request 2 succeeds`, withDocument.status === 200 && !withDocument.response?.errors, summary(withDocument));
  check(`${label}: the same query again is one hash-only ${useGET ? 'GET' : 'POST'} that succeeds`,
    secondRun.length === 1 && secondRun[0].method === (useGET ? 'GET' : 'POST') && !params(secondRun[0]).query &&
      params(secondRun[0]).extensions?.persistedQuery?.sha256Hash === hash &&
      secondRun[0].status === 200 && !secondRun[0].response?.errors && !!secondRun[0].response?.data?.viewer,
    secondRun.map(summary));
}

await part('APQ over POST', () => persistedRoundTrip('APQ over POST', false, gql`
  query ViewerForPersistedPost { viewer { id email locale } }
`));
await part('APQ over GET', () => persistedRoundTrip('APQ over GET', true, gql`
  query ViewerForPersistedGet { viewer { id name email } }
`));

// --- A program, refetched through node(id:) and nodes(ids:) ---------------------

const key = `AP${Date.now().toString(36).toUpperCase().slice(-6)}`;
const created = await plain.mutate({
  mutation: gql`
    mutation Create($input: CreateProgramInput!) {
      createProgram(input: $input) { program { id key name } }
    }
  `,
  variables: { input: { key, name: `Apollo client check ${key}` } },
});
const program = created.data.createProgram.program;
check('createProgram answers the new program', program.key === key && typeof program.id === 'string', created);

await part('node(id:)', async () => {
  const { data } = await plain.query({
    query: gql`
      query Refetch($id: ID!) {
        node(id: $id) { id ... on Program { name key } }
      }
    `,
    variables: { id: program.id },
  });
  check('node(id:) refetches the program', data.node?.id === program.id && data.node.__typename === 'Program' &&
    data.node.name === program.name, data);
});
await part('nodes(ids:)', async () => {
  const other = await plain.mutate({
    mutation: gql`
      mutation CreateOther($input: CreateProgramInput!) {
        createProgram(input: $input) { program { id key } }
      }
    `,
    variables: { input: { key: `${key}B`, name: `Apollo client check ${key}B` } },
  });
  const second = other.data.createProgram.program;
  const { data } = await plain.query({
    query: gql`
      query RefetchMany($ids: [ID!]!) {
        nodes(ids: $ids) { id ... on Program { key } }
      }
    `,
    variables: { ids: [second.id, program.id] },
  });
  check('nodes(ids:) refetches both programs in the order asked',
    data.nodes?.length === 2 && data.nodes[0]?.key === second.key && data.nodes[1]?.key === key, data);
});

// --- A subscription through GraphQLWsLink -------------------------------------------

await part('subscription', async () => {
  const wsClient = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const wsLink = new GraphQLWsLink(wsClient);
  const http = ApolloLink.from([
    new ApolloLink((operation, forward) => {
      operation.setContext({ headers: { authorization: `Bearer ${token}` } });
      return forward(operation);
    }),
    new HttpLink({ uri: graphqlUrl, fetch: recordingFetch }),
  ]);
  const client = new ApolloClient({
    link: split(
      ({ query }) => {
        const definition = getMainDefinition(query);
        return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
      },
      wsLink,
      http,
    ),
    cache: new InMemoryCache(),
  });

  const events: FetchResult<any>[] = [];
  let failure: unknown = null;
  const subscription = client
    .subscribe({
      query: gql`
        subscription Events($programId: ID!) {
          programEvents(programId: $programId) { id action kind entityType entityId at }
        }
      `,
      variables: { programId: program.id },
    })
    .subscribe({ next: (event) => events.push(event), error: (error) => { failure = error; } });

  // The subscription starts asynchronously: change the program until an event arrives.
  for (let attempt = 1; attempt <= 6 && events.length === 0 && !failure; attempt++) {
    await sleep(attempt === 1 ? 300 : 0);
    await client.mutate({
      mutation: gql`
        mutation Rename($input: UpdateProgramInput!) {
          updateProgram(input: $input) { program { id name version } }
        }
      `,
      variables: { input: { id: program.id, name: `Apollo client check ${key} #${attempt}` } },
    });
    for (let waited = 0; waited < 2000 && events.length === 0 && !failure; waited += 100) await sleep(100);
  }
  subscription.unsubscribe();
  await wsClient.dispose();
  const event = events[0]?.data?.programEvents;
  check('programEvents delivers the update over graphql-ws', !failure && event?.entityId === program.id && event.kind === 'UPDATED',
    { failure: failure ? String(failure) : null, events });
});

// --- Compression -------------------------------------------------------------------

await part('gzip', async () => {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      'accept-encoding': 'gzip',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ query: '{ __schema { types { name description } } }' }),
  });
  const body = await response.json();
  check('a large answer to accept-encoding: gzip arrives content-encoding: gzip',
    response.status === 200 && response.headers.get('content-encoding') === 'gzip' && !!body.data?.__schema,
    { status: response.status, headers: Object.fromEntries(response.headers), errors: body.errors });
});

// --- The media type of a 401 ------------------------------------------------------------

await part('401', async () => {
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: 'Bearer not-a-valid-token',
    },
    body: JSON.stringify({ query: '{ viewer { id } }' }),
  });
  const type = response.headers.get('content-type') ?? '';
  const body = await response.json();
  check('a bad bearer token answers 401 as application/graphql-response+json',
    response.status === 401 && type.startsWith('application/graphql-response+json') && Array.isArray(body.errors),
    { status: response.status, type, body });
  console.log(`   (401 error code: ${body.errors?.[0]?.extensions?.code}, www-authenticate: ${response.headers.get('www-authenticate')})`);
});

if (failures) {
  console.error(`apollo: ${failures} part(s) failed, ${checks} checks passed`);
  process.exit(1);
}
console.log(`apollo: ${checks} checks passed`);
