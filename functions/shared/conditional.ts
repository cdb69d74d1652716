/**
 * Runs a DynamoDB conditional write: its result, or undefined when the condition did not hold (a
 * concurrent writer got there first, or the state is not the one expected). Other errors throw.
 */
export async function unlessConditionFails<T>(write: () => Promise<T>): Promise<T | undefined> {
  try {
    return await write();
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') return undefined;
    throw error;
  }
}

/**
 * Optimistic writes lose only to a concurrent writer of the same item: each lost round waits a
 * random, growing while (jitter: the writers spread out) before reading again.
 */
const MAX_ROUNDS = 25;
const backoff = (round: number) => new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** Math.min(round, 6)));

/**
 * Read → change → conditional write (`save` returns false when someone wrote since `version` was
 * read), until it applies. `change` returns the new state, or undefined to leave the item as it
 * is (it may throw to refuse). Returns what is stored afterwards (version advanced), or undefined
 * when there is nothing and `change` created nothing. Throws after 25 lost races naming `what`.
 */
export async function updateVersioned<T extends { version: number }>(
  read: () => Promise<T | undefined>,
  save: (next: T) => Promise<boolean>,
  change: (current: T | undefined) => T | undefined,
  what: string,
): Promise<T | undefined> {
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const current = await read();
    const next = change(current);
    if (!next) return current;
    if (await save(next)) return { ...next, version: next.version + 1 };
    await backoff(round);
  }
  throw new Error(`${what} kept changing under ${MAX_ROUNDS} concurrent writes`);
}
