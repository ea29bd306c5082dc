/** What a verification Job reports in its termination message (job/verify.ts). Pure. */
export interface VerifyResult {
  ok: boolean;
  /** The query's output (psql -At), shortened. */
  output?: string;
  error?: string;
}

const LIMIT = 1000;

export function encodeVerifyResult(result: VerifyResult): string {
  return JSON.stringify({
    ok: result.ok,
    ...(result.output !== undefined ? { output: result.output.slice(0, LIMIT) } : {}),
    ...(result.error !== undefined ? { error: result.error.slice(-LIMIT) } : {}),
  });
}

export function decodeVerifyResult(message: string | undefined): VerifyResult | undefined {
  try {
    const raw = JSON.parse(message ?? '') as VerifyResult;
    return typeof raw.ok === 'boolean' ? raw : undefined;
  } catch {
    return undefined;
  }
}
