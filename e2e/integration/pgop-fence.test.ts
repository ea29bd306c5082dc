/**
 * pgop-fence (images/postgres/pgop-fence), the database container's first process and Patroni's
 * watchdog, run as the real program with real processes in their place: a stand-in Patroni that
 * speaks the watchdog protocol into the named pipe, and a stand-in postmaster named by
 * postmaster.pid. What the fence must do when the leader's keepalives stop, and must not do while
 * they come (docs/ha.md, "Fencing a hung primary").
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, eventually } from '../src/harness/index.js';

const FENCE = join(REPO_ROOT, 'images/postgres/pgop-fence');

/** A stand-in postmaster: runs until SIGINT (a fast shutdown), then exits. */
const POSTMASTER = `trap 'exit 0' INT; while :; do sleep 0.1; done`;

interface Instance {
  dir: string;
  fence: ChildProcess;
  postmaster: ChildProcess;
  output: () => string;
  /** How many times the stand-in Patroni was started. */
  starts: () => number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts pgop-fence with `patroni` (a bash script) as its child. The script gets
 * $PGOP_WATCHDOG_DEVICE (the watchdog pipe, from the fence's environment) and $START (1 for the
 * first start, 2 for the next, ...).
 */
function startInstance(patroni: string): Instance {
  const dir = mkdtempSync(join(tmpdir(), 'pgop-fence-'));
  // A Secret volume as the kubelet lays it out: the files behind a "..data" link it repoints.
  mkdirSync(join(dir, 'tls', '..2026_12_02_first'), { recursive: true });
  symlinkSync('..2026_12_02_first', join(dir, 'tls', '..data'));
  const postmaster = spawn('bash', ['-c', POSTMASTER], { stdio: 'ignore' });
  writeFileSync(join(dir, 'postmaster.pid'), `${postmaster.pid}\n`);
  const script = `echo started >> "${dir}/starts"; START=$(wc -l < "${dir}/starts"); ${patroni}`;
  let output = '';
  const fence = spawn('/usr/bin/python3', [FENCE, 'bash', '-c', script], {
    env: {
      ...process.env,
      PGOP_FENCE_HOLD_SECONDS: '3',
      PGOP_WATCHDOG_DEVICE: join(dir, 'watchdog'),
      PGOP_TLS_DIRS: `${join(dir, 'other')}:${join(dir, 'tls')}`,
      PGDATA: dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: the test ends it with its children
  });
  fence.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  fence.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const starts = () =>
    existsSync(join(dir, 'starts')) ? readFileSync(join(dir, 'starts'), 'utf8').trim().split('\n').length : 0;
  return { dir, fence, postmaster, output: () => output, starts };
}

/** The fence's exit code, once it has exited. */
function fenceExit(instance: Instance): Promise<number> {
  return eventually('the fence exits', () => instance.fence.exitCode ?? undefined, 10, instance.output, 100);
}

describe('pgop-fence (the real program, stand-in Patroni and postmaster)', () => {
  let instance: Instance | undefined;
  afterEach(() => {
    if (!instance) return;
    try {
      process.kill(-instance.fence.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    instance.postmaster.kill('SIGKILL');
    rmSync(instance.dir, { recursive: true, force: true });
    instance = undefined;
  });

  it('a leader whose keepalives stop: its Patroni is killed, PostgreSQL stopped, and a fresh Patroni started after the hold', async () => {
    // The first Patroni arms the watchdog (2 s), pets it once and hangs; the next one runs as a
    // replica would, without arming it.
    instance = startInstance(
      `if [ "$START" = 1 ]; then exec 3>"$PGOP_WATCHDOG_DEVICE"; printf 'Ctimeout=2\\n' >&3; printf 1 >&3; fi; exec sleep 600`,
    );
    const fenced = instance;
    const exit = await eventually(
      'the fence stops the postmaster',
      () => fenced.postmaster.exitCode ?? undefined,
      20,
      fenced.output,
      100,
    );
    assert.equal(exit, 0, 'a fast shutdown (SIGINT), not a kill');
    assert.equal(fenced.starts(), 1, 'no fresh Patroni before the lock could pass to a replica');
    await eventually(
      'a fresh Patroni is started',
      () => (fenced.starts() === 2 ? true : undefined),
      10,
      fenced.output,
      100,
    );
    assert.match(fenced.output(), /did not renew it for 2 s: killing it and stopping PostgreSQL/);
    assert.match(fenced.output(), /starting Patroni again/);
    assert.equal(fenced.fence.exitCode, null, 'the container keeps running');
  });

  it('a leader that keeps petting, and one that disarms when it steps down, are left alone', async () => {
    instance = startInstance(
      `exec 3>"$PGOP_WATCHDOG_DEVICE"; printf 'Ctimeout=2\\n' >&3; for i in $(seq 8); do printf 1 >&3; sleep 0.5; done; printf V >&3; exec sleep 600`,
    );
    await sleep(7_000);
    assert.ok(alive(instance.postmaster.pid!), `PostgreSQL runs on\n${instance.output()}`);
    assert.equal(instance.starts(), 1, 'Patroni was not replaced');
    assert.match(instance.output(), /disarmed by Patroni/);
  });

  it('asked to stop while it holds after a fence: the container stops, no fresh Patroni', async () => {
    instance = startInstance(`exec 3>"$PGOP_WATCHDOG_DEVICE"; printf 'Ctimeout=1\\n' >&3; exec sleep 600`);
    const fenced = instance;
    await eventually(
      'the fence',
      () => (/holding 3 s/.test(fenced.output()) ? true : undefined),
      10,
      fenced.output,
      100,
    );
    fenced.fence.kill('SIGTERM');
    const code = await fenceExit(fenced);
    assert.equal(code, 0);
    assert.equal(fenced.starts(), 1);
  });

  it('renewed certificates (the Secret volume repointed): Patroni is sent SIGHUP to reload them, nothing restarts', async () => {
    instance = startInstance(
      `trap 'echo reloaded >> "${'$'}PGDATA/reloads"' HUP; while :; do sleep 0.1; done`,
    );
    const running = instance;
    const reloads = () =>
      existsSync(join(running.dir, 'reloads')) ? readFileSync(join(running.dir, 'reloads'), 'utf8') : '';
    await sleep(1500);
    assert.equal(reloads(), '', 'no reload while the certificates stay');
    // What the kubelet does on a Secret update: a new directory, then an atomic rename of the link.
    mkdirSync(join(running.dir, 'tls', '..2026_12_02_second'));
    symlinkSync('..2026_12_02_second', join(running.dir, 'tls', '..data_tmp'));
    renameSync(join(running.dir, 'tls', '..data_tmp'), join(running.dir, 'tls', '..data'));
    await eventually('Patroni reloads', () => (reloads() ? true : undefined), 10, running.output, 100);
    await sleep(1500);
    assert.equal(reloads(), 'reloaded\n', 'once per change');
    assert.match(running.output(), /the TLS certificates changed/);
    assert.equal(running.starts(), 1, 'Patroni was not restarted');
    assert.ok(alive(running.postmaster.pid!), 'PostgreSQL runs on');
  });

  it('when Patroni exits on its own, the fence exits with its code (the kubelet restarts the container)', async () => {
    instance = startInstance('exit 3');
    assert.equal(await fenceExit(instance), 3);
  });
});
