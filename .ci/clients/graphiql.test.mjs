// GraphiQL, as served by Trestle, driven in headless Chromium: the page loads
// everything from the server itself, signs in, changes the account, and shows
// a subscription event.
//
//   TRESTLE_URL=http://127.0.0.1:8080 TRESTLE_EMAIL=… TRESTLE_PASSWORD=… node graphiql.test.mjs
import puppeteer from 'puppeteer-core';

const base = required('TRESTLE_URL');
const email = required('TRESTLE_EMAIL');
const password = required('TRESTLE_PASSWORD');
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const origin = new URL(base).origin;
const host = new URL(base).host;
const newPassword = `${password}-changed`;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

let checks = 0;
function check(name, ok, detail) {
  if (!ok) throw new Error(`FAILED: ${name}${detail === undefined ? '' : `\n${typeof detail === 'string' ? detail : JSON.stringify(detail, null, 2)}`}`);
  checks += 1;
  console.log(`ok - ${name}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function graphql(query, variables, token) {
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return response.json();
}

// --- The page's HTML, as a browser asks for it ------------------------------------

{
  const response = await fetch(`${base}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  const html = await response.text();
  check('GET /graphql with Accept: text/html answers the page', response.status === 200 &&
    (response.headers.get('content-type') ?? '').startsWith('text/html') && html.includes('<title>Trestle — GraphiQL</title>'),
    { status: response.status, type: response.headers.get('content-type'), start: html.slice(0, 300) });
  const references = [...html.matchAll(/\b(?:src|href|action)\s*=\s*["']([^"']*)["']/gi)].map((m) => m[1]);
  const foreign = references.filter((ref) => !(ref.startsWith('/') && !ref.startsWith('//')) && !ref.startsWith('data:'));
  check(`the page references only its own origin (${references.length} references)`, references.length > 0 && foreign.length === 0, { foreign });
  check('the page has no other host in it', !/(?:https?:|wss?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i.test(html), html);
  check('the page has no inline script', ![...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].some((m) => !/\bsrc=/.test(m[1]) || m[2].trim()), html);
  const policy = response.headers.get('content-security-policy') ?? '';
  check("the page is served with a CSP of script-src 'self'", /script-src 'self'(;|$)/.test(policy), policy);
  console.log(`   (CSP: ${policy})`);
}

// --- The browser -------------------------------------------------------------------

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--window-size=1400,1000'],
  defaultViewport: { width: 1400, height: 1000 },
});
const offHost = [];
const problems = [];
const consoleErrors = [];
const sockets = [];
const framesSent = [];
const assets = [];
const introspections = [];
let failed = false;
try {
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`));
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    if (/CSP violation|Refused to|Content Security Policy/i.test(text)) problems.push(text);
    else consoleErrors.push(text);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.host === host) return request.continue();
    offHost.push(request.url());
    return request.abort('blockedbyclient');
  });
  page.on('response', async (response) => {
    const url = new URL(response.url());
    if (url.pathname === '/graphql' && (response.request().postData() ?? '').includes('IntrospectionQuery')) {
      introspections.push(response.status());
    }
    if (url.pathname.startsWith('/graphiql/')) {
      assets.push({ path: url.pathname, status: response.status(), encoding: response.headers()['content-encoding'] ?? 'identity', type: response.headers()['content-type'] });
    }
  });
  // WebSockets bypass request interception: watch them through the protocol.
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketCreated', ({ url }) => {
    sockets.push(url);
    if (new URL(url).host !== host) offHost.push(url);
  });
  cdp.on('Network.webSocketFrameSent', ({ response }) => framesSent.push(response.payloadData));

  await page.goto(`${base}/graphql`, { waitUntil: 'networkidle0', timeout: 60000 });
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30000 });
  check('GraphiQL renders', true);
  check('the page title is "Trestle — GraphiQL"', (await page.title()) === 'Trestle — GraphiQL', await page.title());
  const intro = await editorValue(page, '.graphiql-query-editor .CodeMirror');
  check('the editor opens on sign-in help and a viewer query', intro.includes('login(input:') && intro.includes('Bearer <token>') &&
    /query \{ viewer \{ id name email locale \} \}/.test(intro), intro);
  check('GraphiQL reads the schema (introspection answered 200, no error shown)',
    introspections.length > 0 && introspections.every((status) => status === 200) &&
      (await resultText(page)) === '', { introspections, result: await resultText(page) });
  for (const asset of assets) console.log(`   asset ${asset.path}: ${asset.status} ${asset.type} (${asset.encoding})`);

  // Sign in; the page puts the token into the Headers tab.
  const login = await run(page, `mutation { login(input: {email: ${JSON.stringify(email)}, password: ${JSON.stringify(password)}}) { token user { email } } }`,
    (r) => r.data?.login?.token || r.errors);
  check('login in GraphiQL answers a token', typeof login.data?.login?.token === 'string' && login.data.login.user.email === email, login);
  const token = login.data.login.token;
  await page.waitForFunction((t) => (localStorage.getItem('graphiql:headers') ?? '').includes(t), { timeout: 10000 }, token)
    .catch(() => {});
  const headers = await headersValue(page);
  check('the Headers tab now holds the bearer token', JSON.parse(headers).Authorization === `Bearer ${token}`, headers);
  const stored = await page.evaluate(() => localStorage.getItem('graphiql:headers'));
  check('the headers are persisted', (stored ?? '').includes(token), stored);

  const update = await run(page, 'mutation { updateViewer(input: {locale: KO}) { user { email locale } } }',
    (r) => r.data?.updateViewer || r.errors);
  check('updateViewer(locale: KO) runs signed in', update.data?.updateViewer?.user?.locale === 'KO' && update.data.updateViewer.user.email === email, update);

  const change = await run(page,
    `mutation { changePassword(input: {currentPassword: ${JSON.stringify(password)}, newPassword: ${JSON.stringify(newPassword)}}) { user { email } } }`,
    (r) => r.data?.changePassword || r.errors);
  check('changePassword runs signed in', change.data?.changePassword?.user?.email === email, change);
  const again = await graphql('mutation ($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }', { e: email, p: newPassword });
  check('the new password signs in', typeof again.data?.login?.token === 'string', again);

  const viewer = await run(page, '{ viewer { email locale } }', (r) => r.data?.viewer || r.errors);
  check('{ viewer { email locale } } shows the account in the result pane', viewer.data?.viewer?.email === email && viewer.data.viewer.locale === 'KO', viewer);

  // Subscribe in GraphiQL, change the program from here, see the event.
  const key = `GQ${Date.now().toString(36).toUpperCase().slice(-6)}`;
  const created = await graphql('mutation ($input: CreateProgramInput!) { createProgram(input: $input) { program { id } } }',
    { input: { key, name: `GraphiQL check ${key}` } }, token);
  const programId = created.data?.createProgram?.program?.id;
  check('createProgram over HTTP with the same token', typeof programId === 'string', created);

  const subscription = `subscription { programEvents(programId: ${JSON.stringify(programId)}) { action kind entityType entityId at } }`;
  await setEditor(page, '.graphiql-query-editor .CodeMirror', subscription);
  await setResult(page, '');
  await page.click('.graphiql-execute-button');
  await waitFor(() => framesSent.some((f) => f.includes('"subscribe"') && f.includes(programId)), 15000, 'the subscribe message');
  check('the subscription opened a socket to this server', sockets.some((url) => url === `${origin.replace(/^http/, 'ws')}/graphql/ws`), sockets);
  const init = framesSent.find((f) => f.includes('"connection_init"'));
  check('connection_init carries the Headers tab (Authorization)', JSON.parse(init).payload?.Authorization === `Bearer ${token}`, init);
  let event = null;
  for (let attempt = 1; attempt <= 6 && !event; attempt++) {
    const renamed = await graphql('mutation ($input: UpdateProgramInput!) { updateProgram(input: $input) { program { id } } }',
      { input: { id: programId, name: `GraphiQL check ${key} #${attempt}` } }, token);
    if (renamed.errors) throw new Error(`updateProgram failed: ${JSON.stringify(renamed.errors)}`);
    for (let waited = 0; waited < 2000 && !event; waited += 100) {
      await sleep(100);
      const text = await resultText(page);
      try {
        const result = JSON.parse(text);
        if (result.data?.programEvents || result.errors) event = result;
      } catch { /* not yet */ }
    }
  }
  check('the update shows in the result pane', event?.data?.programEvents?.entityId === programId && event.data.programEvents.kind === 'UPDATED', event);
  await page.click('.graphiql-execute-button'); // stop

  // Without a credential the server closes the socket with 4401; the page says so.
  await setHeaders(page, '{}');
  const refused = await run(page, subscription, (r) => r.errors || r.data);
  check('a subscription without Authorization shows the 4401 close as an error',
    refused.errors?.[0]?.extensions?.closeCode === 4401 && /Authorization/.test(refused.errors[0].message), refused);

  check('no request left this server', offHost.length === 0, offHost);
  check('no CSP violation and no page error', problems.length === 0, problems);
  if (consoleErrors.length) console.log(`   console errors (not failures): ${JSON.stringify(consoleErrors)}`);
} catch (error) {
  failed = true;
  console.error(error instanceof Error ? error.message : error);
  if (offHost.length) console.error(`requests to other hosts: ${JSON.stringify(offHost)}`);
  if (problems.length) console.error(`page problems: ${JSON.stringify(problems)}`);
  if (consoleErrors.length) console.error(`console errors: ${JSON.stringify(consoleErrors)}`);
} finally {
  await browser.close();
}
if (failed) process.exit(1);
console.log(`graphiql: ${checks} checks passed`);

// --- Driving the editors -------------------------------------------------------------

async function waitFor(predicate, timeout, what) {
  for (let waited = 0; waited < timeout; waited += 100) {
    if (await predicate()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function editorValue(page, selector) {
  return page.$eval(selector, (element) => element.CodeMirror.getValue());
}

async function setEditor(page, selector, value) {
  await page.$eval(selector, (element, v) => element.CodeMirror.setValue(v), value);
  await sleep(300); // GraphiQL parses the document after a short debounce
}

function resultText(page) {
  return page.$eval('.result-window .CodeMirror', (element) => element.CodeMirror.getValue());
}

function setResult(page, value) {
  return page.$eval('.result-window .CodeMirror', (element, v) => element.CodeMirror.setValue(v), value);
}

// The headers editor: open its tab, then the visible editor of the tools pane.
async function showHeaders(page) {
  const tabs = await page.$$('.graphiql-editor-tools button');
  for (const tab of tabs) {
    if ((await tab.evaluate((b) => b.textContent.trim())) === 'Headers') await tab.click();
  }
  await sleep(100);
  return '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
}

async function headersValue(page) {
  return editorValue(page, await showHeaders(page));
}

async function setHeaders(page, value) {
  await setEditor(page, await showHeaders(page), value);
}

// Run one operation and wait until the result pane holds what `done` accepts.
async function run(page, query, done) {
  await setEditor(page, '.graphiql-query-editor .CodeMirror', query);
  await setResult(page, '');
  await page.click('.graphiql-execute-button');
  let last = '';
  for (let waited = 0; waited < 20000; waited += 100) {
    await sleep(100);
    last = await resultText(page);
    try {
      const result = JSON.parse(last);
      if (done(result)) return result;
    } catch { /* still running */ }
  }
  throw new Error(`no result for ${query}\nresult pane: ${last}`);
}
