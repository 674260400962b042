/**
 * Running a `MULTI` … `EXEC` and hearing about its errors.
 *
 * @module
 */
import type { ChainableCommander } from "ioredis";

/**
 * Sends the transaction and returns each command's reply; throws the first error.
 *
 * ioredis's `exec()` resolves even when a command inside failed (a `WRONGTYPE`, say): each
 * reply comes as `[error, result]`, and an unread error is a silent loss. It resolves `null`
 * when a `WATCH`ed key changed, which these steps do not use.
 */
export async function execOrThrow(transaction: ChainableCommander): Promise<unknown[]> {
  const replies = await transaction.exec();
  if (replies === null)
    throw new Error("The Redis transaction was aborted (a WATCHed key changed).");
  return replies.map(([error, result]) => {
    if (error) throw error;
    return result;
  });
}
