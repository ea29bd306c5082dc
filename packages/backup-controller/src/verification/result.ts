/**
 * What a verification Job reports in its termination message (job/verify.ts). Pure. A row count
 * and an error's SQLSTATE only: the query runs on a copy of production data, and whoever may
 * edit a PostgresBackup must not read that data through status, events or logs.
 */
export interface VerifyResult {
  ok: boolean;
  /** Rows the query returned. */
  rows?: number;
  error?: string;
}

const LIMIT = 1000;

export function encodeVerifyResult(result: VerifyResult): string {
  return JSON.stringify({
    ok: result.ok,
    ...(result.rows !== undefined ? { rows: result.rows } : {}),
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
