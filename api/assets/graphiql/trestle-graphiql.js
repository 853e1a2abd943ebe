// Trestle's GraphiQL: queries and mutations go to POST /graphql, subscriptions
// to /graphql/ws (graphql-transport-ws). Both carry the JSON object of the
// Headers tab: as HTTP headers, and as the socket's `connection_init` payload,
// where the server reads {"Authorization": "Bearer <token>"}.
(function () {
  'use strict';

  var GraphQL = GraphiQL.GraphQL;

  var DEFAULT_QUERY = [
    '# Trestle: programs, workstreams, milestones, dependencies, decisions,',
    '# risks and status updates.',
    '#',
    '# Sign in first. Run this mutation with your email and password:',
    '#',
    '#   mutation { login(input: {email: "you@example.com", password: "…"}) { token } }',
    '#',
    '# then put the token in the Headers tab below as',
    '#',
    '#   {"Authorization": "Bearer <token>"}',
    '#',
    '# (this page fills it in for you after a successful login). Who am I?',
    '',
    'query { viewer { id name email locale } }',
    '',
  ].join('\n');

  // The Headers tab as a string-valued object.
  function headerObject(headers) {
    var out = {};
    if (headers && typeof headers === 'object') {
      Object.keys(headers).forEach(function (name) {
        if (headers[name] !== null && headers[name] !== undefined) out[name] = String(headers[name]);
      });
    }
    return out;
  }

  function authorizationOf(headers) {
    var name = Object.keys(headers).find(function (n) { return n.toLowerCase() === 'authorization'; });
    return name ? headers[name] : '';
  }

  // 'query', 'mutation', 'subscription', or null when the document does not parse.
  function operationType(query, operationName) {
    try {
      var operation = GraphQL.getOperationAST(GraphQL.parse(query), operationName || undefined);
      return operation ? operation.operation : null;
    } catch (_) {
      return null;
    }
  }

  // --- Queries and mutations: POST /graphql ---------------------------------

  function postGraphql(params, headers) {
    var requestHeaders = new Headers(headers);
    requestHeaders.set('Content-Type', 'application/json');
    requestHeaders.set('Accept', 'application/graphql-response+json, application/json');
    return fetch('/graphql', {
      method: 'POST',
      headers: requestHeaders,
      body: JSON.stringify(params),
      credentials: 'omit',
    }).then(function (response) {
      return response.text().then(function (text) {
        try {
          return JSON.parse(text);
        } catch (_) {
          return { errors: [{ message: 'HTTP ' + response.status + ' ' + response.statusText + ': ' + text.slice(0, 1000) }] };
        }
      });
    });
  }

  // --- Subscriptions: one graphql-ws client per Authorization value ----------

  var socket = null; // { authorization, client }

  function socketFor(headers) {
    var authorization = authorizationOf(headers);
    if (socket && socket.authorization === authorization) return socket.client;
    if (socket) socket.client.dispose();
    var url = new URL('/graphql/ws', window.location.href);
    url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    var client = graphqlWs.createClient({
      url: url.href,
      connectionParams: headers,
      // Refusals (4401 no credential, 4403 bad credential, 4429 too many) are
      // shown at once instead of being retried.
      retryAttempts: 0,
    });
    socket = { authorization: authorization, client: client };
    return client;
  }

  // A graphql-ws error (a CloseEvent, GraphQL errors, or an Error) as a result.
  function errorResult(error) {
    if (Array.isArray(error)) return { errors: error };
    if (error && typeof error.code === 'number') {
      var hints = {
        4401: 'sign in: put {"Authorization": "Bearer <token>"} in the Headers tab',
        4403: 'the credential in the Headers tab is not valid (any more): sign in again',
        4408: 'the connection was not initialised in time',
        4429: 'too many subscription sockets or requests: wait and try again',
      };
      var message = 'The subscription socket closed (' + error.code + (error.reason ? ': ' + error.reason : '') + ')';
      if (hints[error.code]) message += '; ' + hints[error.code];
      return { errors: [{ message: message, extensions: { closeCode: error.code, closeReason: error.reason || null } }] };
    }
    if (error instanceof Error) return { errors: [{ message: error.message }] };
    return { errors: [{ message: 'Could not connect to ' + new URL('/graphql/ws', window.location.href).pathname }] };
  }

  // An observable, which GraphiQL unsubscribes from when the run is stopped.
  function subscribe(params, headers) {
    var client = socketFor(headers);
    return {
      subscribe: function (observer) {
        var dispose = client.subscribe(
          { query: params.query, variables: params.variables, operationName: params.operationName },
          {
            next: function (result) { observer.next(result); },
            error: function (error) { observer.next(errorResult(error)); observer.complete(); },
            complete: function () { observer.complete(); },
          }
        );
        return { unsubscribe: dispose };
      },
    };
  }

  // --- The page ---------------------------------------------------------------

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  var headersText; // set after a login, replacing the Headers tab's content

  function fetcher(params, opts) {
    var headers = headerObject(opts && opts.headers);
    var type = operationType(params.query, params.operationName);
    if (type === 'subscription') return subscribe(params, headers);
    return postGraphql(params, headers).then(function (result) {
      var login = type === 'mutation' && result && result.data && result.data.login;
      if (login && typeof login.token === 'string') {
        var signedIn = {};
        Object.keys(headers).forEach(function (name) {
          if (name.toLowerCase() !== 'authorization') signedIn[name] = headers[name];
        });
        signedIn.Authorization = 'Bearer ' + login.token;
        headersText = JSON.stringify(signedIn, null, 2);
        render();
      }
      return result;
    });
  }

  function render() {
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        defaultQuery: DEFAULT_QUERY,
        headers: headersText,
        shouldPersistHeaders: true,
        isHeadersEditorEnabled: true,
        defaultEditorToolsVisibility: 'headers',
      })
    );
  }

  render();
})();
