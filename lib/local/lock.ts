import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One `npm start` per local data folder. The emulators' files (dynalite's LevelDB, s3rver's
 * folders) cannot be shared: a second process would find them locked and die half-started. The
 * lock is a small file naming its holder's pid (and, on Linux, the holder's start time, so a pid
 * the system reused after the holder died is not mistaken for it). A holder that died without
 * releasing it (SIGKILL, a crash) leaves the file behind; the next start takes it over.
 */

export const LOCK_FILE = 'npm-start.lock';

export interface LockHolder {
  pid: number;
  /** /proc/<pid>/stat's starttime (clock ticks since boot), where there is a /proc. */
  started?: string;
}

export type LockResult = { acquired: true; release(): void } | { acquired: false; holder: LockHolder };

/** pid's state and start time from /proc (Linux), or undefined where there is none. */
function procStat(pid: number): { state: string; started: string } | undefined {
  try {
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, started: fields[19]! };
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  if (!Number.isInteger(holder.pid) || holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = procStat(holder.pid);
  if (!stat) return true; // no /proc: the pid exists, which is all that can be told
  if (stat.state === 'Z' || stat.state === 'X') return false; // dead, not yet reaped
  return holder.started === undefined || holder.started === stat.started;
}

/** The holder a lock file names; a file that names none (garbage) reads as a dead holder. */
function readHolder(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { pid, started } = JSON.parse(text) as Partial<LockHolder>;
    return { pid: Number(pid), ...(typeof started === 'string' ? { started } : {}) };
  } catch {
    return { pid: 0 };
  }
}

const same = (a: LockHolder, b: LockHolder) => a.pid === b.pid && a.started === b.started;

/**
 * Takes `dir`'s lock for this process, taking it over from a holder that is gone, or tells who
 * holds it. Nothing in `dir` but the lock file is touched either way.
 */
export function lockDir(dir: string): LockResult {
  const file = join(dir, LOCK_FILE);
  const stat = procStat(process.pid);
  const me: LockHolder = { pid: process.pid, ...(stat ? { started: stat.started } : {}) };
  const release = () => {
    const holder = readHolder(file);
    if (holder && same(holder, me)) rmSync(file, { force: true });
  };
  for (let attempt = 0; attempt < 10; attempt++) {
    // Written whole under a name of this process's own, then linked into place: the link fails
    // when a lock exists, and no one ever reads a half-written lock.
    const mine = `${file}.${process.pid}`;
    writeFileSync(mine, JSON.stringify(me));
    try {
      linkSync(mine, file);
      return { acquired: true, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(mine, { force: true });
    }

    const holder = readHolder(file);
    if (!holder) continue; // released meanwhile
    if (isAlive(holder)) return { acquired: false, holder };
    // Its holder is gone: move the stale lock aside (atomic, so of several starts only one gets
    // it) and try again. Had another start taken it over between the read and the move, what was
    // moved is that start's live lock: it goes back.
    const aside = `${file}.stale.${process.pid}`;
    try {
      renameSync(file, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const moved = readHolder(aside);
    if (moved && !same(moved, holder)) {
      try {
        linkSync(aside, file);
      } catch {
        // a third start locked meanwhile: it holds the lock now
      }
    }
    rmSync(aside, { force: true });
  }
  throw new Error(`could not take the lock ${file}: it kept changing hands`);
}
