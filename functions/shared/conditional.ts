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
