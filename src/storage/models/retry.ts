/**
 * When a download is retried. A dropped connection is retried with exponential backoff and jitter
 * (the AWS "equal jitter" form: half the delay fixed, half random, so many clients that lost the same
 * server do not come back in lockstep). The count is of failures in a row: an attempt that delivered
 * bytes resets it, so a long download over a flaky link keeps going while a dead link gives up.
 */

export interface RetryPolicy {
  /** Failures in a row (without any new bytes) after which the download gives up. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 10_000 };

/** Delay before retry number `failures` (1 = the first retry). `random` in [0, 1). */
export function backoffDelay(policy: RetryPolicy, failures: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** HTTP statuses worth retrying: timeouts, rate limits and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/** Failures in a row, reset by progress. */
export class RetryCounter {
  private failures = 0;
  constructor(private readonly policy: RetryPolicy) {}
  /** Records a failed attempt; returns the delay before the next one, or null to give up. */
  fail(progressed: boolean, random: () => number = Math.random): number | null {
    this.failures = progressed ? 1 : this.failures + 1;
    if (this.failures > this.policy.maxAttempts) return null;
    return backoffDelay(this.policy, this.failures, random);
  }
  get count(): number {
    return this.failures;
  }
}

/** A timer that an AbortSignal cuts short (rejecting with the signal's reason). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
