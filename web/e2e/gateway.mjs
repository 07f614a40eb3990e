// Starts a real Plaza gateway for the browser tests: the binary at
// PLAZA_BIN (make e2e builds it with `go build`), or one built here, on free
// loopback ports, without Redis (each run starts from nothing).
//
// startHTTPProvider starts a real demo provider process speaking the HTTP
// contract (cmd/demo-provider: PLAZA_DEMO_PROVIDER_BIN, or built here), and
// providersFile writes a registry file that serves it next to the embedded
// demo providers, so a journey can stop it and start it again.
import { spawn, execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'plaza-e2e-'));

// binary is the path of a Go program of the repository: envName's, or
// built here once per run.
function binary(envName, pkg, name) {
  if (process.env[envName]) return process.env[envName];
  const bin = join(scratch, name);
  execFileSync('go', ['build', '-o', bin, pkg], { cwd: repo, stdio: 'inherit' });
  process.env[envName] = bin;
  return bin;
}

// waitForLine resolves with the first match of re in stream (proc's), or
// rejects when proc exits first or after 60 s. The stream is drained after.
function waitForLine(proc, stream, re, what) {
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 60 s:\n${log}`)), 60_000);
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${log}`));
    };
    const onData = (chunk) => {
      log += chunk;
      const m = re.exec(log);
      if (!m) return;
      clearTimeout(timer);
      stream.removeListener('data', onData);
      proc.removeListener('exit', onExit);
      stream.on('data', () => {});
      resolve(m);
    };
    stream.on('data', onData);
    proc.on('exit', onExit);
  });
}

// stopper ends proc (SIGTERM: a graceful shutdown) and resolves when it has.
function stopper(proc) {
  return () => new Promise((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return res();
    proc.once('exit', res);
    proc.kill('SIGTERM');
  });
}

// startGateway starts the gateway with extraEnv (PLAZA_CONFIG names a
// registry file; without it, the embedded demo providers) and waits until
// it is ready and its supply index owes no catalogue pull: an HTTP
// provider's catalogue is pulled after start, and a search before it lands
// would miss its items.
export async function startGateway(extraEnv = {}) {
  const bin = binary('PLAZA_BIN', '.', 'plaza');
  const env = { ...process.env, PLAZA_ADDR: '127.0.0.1:0', PLAZA_ADMIN_ADDR: '127.0.0.1:0', PLAZA_ENV: 'development',
    // The journeys click faster than a person; the limits have tests of their own.
    PLAZA_RATE_USER: 'off', PLAZA_RATE_IP: 'off', ...extraEnv };
  delete env.REDIS_URL;
  delete env.PLAZA_DATABASE_URL;
  const proc = spawn(bin, [], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const m = await waitForLine(proc, proc.stderr, /msg="?plaza listening"? addr=(\S+)/, 'gateway');
  const url = `http://${m[1]}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await fetch(url + '/readyz').catch(() => null);
    const ready = r && r.ok ? await r.json().catch(() => null) : null;
    if (ready && !(ready.supplyIndex && ready.supplyIndex.pending > 0)) break;
    if (Date.now() > deadline) throw new Error(`gateway not ready in 60 s: ${JSON.stringify(ready)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  return { url, bin, stop: stopper(proc) };
}

// startHTTPProvider starts cmd/demo-provider for one provider on a free
// loopback port (or on addr, to bring a stopped one back where the
// gateway calls it) and resolves once it listens.
export async function startHTTPProvider({ id, vertical, secret, addr = '127.0.0.1:0' }) {
  const bin = binary('PLAZA_DEMO_PROVIDER_BIN', './cmd/demo-provider', 'demo-provider');
  const proc = spawn(bin, ['--vertical', vertical, '--provider', id, '--secret', secret, '--addr', addr],
    { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.on('data', (chunk) => process.stderr.write(`demo-provider ${id}: ${chunk}`));
  const m = await waitForLine(proc, proc.stdout, /listening on (http:\/\/(\S+))/, `demo-provider ${id}`);
  return { id, url: m[1], addr: m[2], stop: stopper(proc) };
}

// The eight demo providers as connectors/demo's DefaultDescriptors declares
// them (a registry file names them; `go run .` needs no file): id,
// vertical, name, rating, cities (all six when empty).
const demoProviders = [
  ['freshcart', 'grocery', 'FreshCart', 4.6, []],
  ['greenbasket', 'grocery', 'GreenBasket', 4.4, ['Hangzhou', 'Shanghai', 'Shenzhen', 'Chengdu', 'Guangzhou']],
  ['mediquick', 'medical', 'MediQuick', 4.5, []],
  ['carepoint', 'medical', 'CarePoint', 4.3, ['Hangzhou', 'Shanghai', 'Beijing', 'Chengdu', 'Guangzhou']],
  ['lexassist', 'legal', 'LexAssist', 4.4, []],
  ['justicehub', 'legal', 'JusticeHub', 4.2, ['Shanghai', 'Beijing', 'Shenzhen', 'Chengdu', 'Guangzhou']],
  ['govdesk', 'public-service', 'GovDesk', 4.1, []],
  ['citizenhub', 'public-service', 'CitizenHub', 4.0, ['Hangzhou', 'Shanghai', 'Beijing', 'Shenzhen', 'Guangzhou']],
];

// providersFile writes a registry file of the eight demo providers and
// returns the environment that serves it. Each runs in process, except
// that remote (id → {url, secret}) gives some a secret, in
// PLAZA_SECRET_<ID>: with a url the gateway calls that provider over HTTP;
// without, it stays in process and the secret verifies its webhooks
// (pushStatus).
export function providersFile(remote) {
  const env = {};
  const lines = ['providers:'];
  for (const [id, vertical, name, rating, cities] of demoProviders) {
    let entry = `id: ${id}, vertical: ${vertical}, name: ${name}, rating: ${rating}`;
    if (cities.length) entry += `, cities: [${cities.join(', ')}]`;
    const r = remote[id];
    if (r) {
      const secretEnv = 'PLAZA_SECRET_' + id.toUpperCase().replaceAll('-', '_');
      env[secretEnv] = r.secret;
      entry += `, secret_env: ${secretEnv}`;
    }
    entry += r && r.url ? `, url: "${r.url}", timeout: 1s` : ', embedded: demo';
    lines.push(`  - {${entry}}`);
  }
  const path = join(scratch, 'providers.yaml');
  writeFileSync(path, lines.join('\n') + '\n');
  return { PLAZA_CONFIG: path, ...env };
}

// pushStatus sends status changes to the gateway's webhook as provider
// would (POST /providers/{id}/status, signed with its secret, scheme v2 of
// connectors/httpprovider/sign.go) and returns the HTTP status.
export async function pushStatus(url, provider, secret, changes) {
  const path = `/providers/${provider}/status`;
  const body = JSON.stringify({ changes });
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = randomUUID();
  const mac = createHmac('sha256', secret).update(['v2', ts, nonce, 'POST', path, '', body].join('\n')).digest('hex');
  const res = await fetch(url + path, { method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'Plaza-Timestamp': ts, 'Plaza-Nonce': nonce, 'Plaza-Signature': 'v2=' + mac } });
  return res.status;
}

// globalID is the gateway's ID of a provider's object (package gid).
export function globalID(kind, provider, local) {
  return Buffer.from(`v1:${kind}:${provider}:${local}`).toString('base64url');
}
