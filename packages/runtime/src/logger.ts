/**
 * JSON logs on stdout (winston). Values under keys that look like credentials are replaced, so
 * a careless log line cannot leak a password; errors are logged with message and stack.
 */
import { createLogger as createWinston, format, transports, type Logger } from 'winston';

const SECRET_KEY = /pass(word)?|secret|token|credential|private.?key|access.?key/i;
export const REDACTED = '[redacted]';

function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { message: value.message, stack: value.stack };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1)]),
  );
}

const redactSecrets = format((info) => {
  for (const key of Object.keys(info)) {
    if (key === 'level' || key === 'message') continue;
    info[key] = SECRET_KEY.test(key) ? REDACTED : redact(info[key]);
  }
  return info;
});

export interface LoggerOptions {
  component: string;
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to read them. */
  stream?: NodeJS.WritableStream;
}

export function createLogger({
  component,
  level = process.env.LOG_LEVEL ?? 'info',
  stream,
}: LoggerOptions): Logger {
  return createWinston({
    level,
    format: format.combine(
      format.errors({ stack: true }),
      redactSecrets(),
      format.timestamp(),
      format.json(),
    ),
    defaultMeta: { component },
    transports: [stream ? new transports.Stream({ stream }) : new transports.Console()],
  });
}
