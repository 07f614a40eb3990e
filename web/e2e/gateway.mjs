// Starts a real Plaza gateway for the browser tests: the binary at
// PLAZA_BIN (make e2e builds it with `go build`), or one built here, on free
// loopback ports, without Redis (each run starts from nothing).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));

export async function startGateway(extraEnv = {}) {
  let bin = process.env.PLAZA_BIN;
  if (!bin) {
    bin = join(mkdtempSync(join(tmpdir(), 'plaza-e2e-')), 'plaza');
    execFileSync('go', ['build', '-o', bin, '.'], { cwd: repo, stdio: 'inherit' });
  }
  const env = { ...process.env, PLAZA_ADDR: '127.0.0.1:0', PLAZA_ADMIN_ADDR: '127.0.0.1:0', PLAZA_ENV: 'development',
    // The journeys click faster than a person; the limits have tests of their own.
    PLAZA_RATE_USER: 'off', PLAZA_RATE_IP: 'off', ...extraEnv };
  delete env.REDIS_URL;
  delete env.PLAZA_DATABASE_URL;
  const proc = spawn(bin, [], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('gateway did not start in 60 s:\n' + log)), 60_000);
    proc.stderr.on('data', (chunk) => {
      log += chunk;
      const m = /msg="?plaza listening"? addr=(\S+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    proc.on('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${log}`)));
  });
  proc.stderr.removeAllListeners('data');
  proc.stderr.on('data', () => {}); // keep draining
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await fetch(url + '/readyz').catch(() => null);
    if (r && r.ok) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  return { url, stop: () => new Promise((res) => { proc.once('exit', res); proc.kill('SIGTERM'); }) };
}
