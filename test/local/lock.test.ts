import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/local/invoke.ts';
import { LOCK_FILE, lockDir } from '../../lib/local/lock.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'checkout-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockFile = () => join(dir, LOCK_FILE);
const holderInFile = () => JSON.parse(readFileSync(lockFile(), 'utf8')) as { pid: number; started?: string };

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('the data folder lock', () => {
  it('is a file naming its holder, removed on release, leaving the folder otherwise untouched', () => {
    const lock = lockDir(dir);
    expect(lock.acquired).toBe(true);
    expect(holderInFile().pid).toBe(process.pid);
    if (existsSync('/proc/self/stat')) expect(holderInFile().started).toMatch(/^\d+$/);
    if (lock.acquired) lock.release();
    expect(existsSync(lockFile())).toBe(false);
    expect(lockDir(dir).acquired).toBe(true);
  });

  it('is refused while its holder lives, naming it', () => {
    expect(lockDir(dir).acquired).toBe(true);
    const second = lockDir(dir);
    expect(second).toEqual({ acquired: false, holder: holderInFile() });
    if (!second.acquired) expect(second.holder.pid).toBe(process.pid);
  });

  it('is taken over from a holder that is gone, or whose pid now belongs to another process', () => {
    writeFileSync(lockFile(), JSON.stringify({ pid: deadPid() }));
    const first = lockDir(dir);
    expect(first.acquired).toBe(true);
    expect(holderInFile().pid).toBe(process.pid);

    if (existsSync('/proc/self/stat')) {
      // This process's pid with another start time: the holder died and its pid was reused.
      writeFileSync(lockFile(), JSON.stringify({ pid: process.pid, started: '1' }));
      expect(lockDir(dir).acquired).toBe(true);
      expect(holderInFile().started).not.toBe('1');
    }

    writeFileSync(lockFile(), 'not a lock');
    expect(lockDir(dir).acquired).toBe(true);
  });

  it('is not released by a process that lost it', () => {
    const old = lockDir(dir);
    // Another process took it over (as after this one was thought gone).
    writeFileSync(lockFile(), JSON.stringify({ pid: 1 }));
    if (old.acquired) old.release();
    expect(holderInFile().pid).toBe(1);
  });

  it('goes to exactly one of several starts racing for a stale lock', async () => {
    writeFileSync(lockFile(), JSON.stringify({ pid: deadPid() }));
    const script = `
      import { lockDir } from ${JSON.stringify(join(projectRoot, 'lib/local/lock.ts'))};
      const lock = lockDir(${JSON.stringify(dir)});
      console.log(lock.acquired ? 'acquired' : 'refused ' + lock.holder.pid);
      // Held until the test has every verdict (it closes stdin then).
      process.stdin.resume().once('end', () => process.exit(0));
    `;
    const racers = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: projectRoot }),
    );
    const outcomes = await Promise.all(
      racers.map(
        (child) =>
          new Promise<{ pid: number; said: string }>((resolve) => {
            let said = '';
            child.stdout.on('data', (chunk: Buffer) => {
              said += chunk.toString();
              if (said.endsWith('\n')) resolve({ pid: child.pid!, said: said.trim() });
            });
          }),
      ),
    );
    await Promise.all(racers.map((child) => new Promise((resolve) => child.once('exit', resolve).stdin.end())));
    const winners = outcomes.filter((o) => o.said === 'acquired');
    expect(winners).toHaveLength(1);
    for (const loser of outcomes.filter((o) => o !== winners[0])) expect(loser.said).toBe(`refused ${winners[0]!.pid}`);
  }, 30_000);
});
