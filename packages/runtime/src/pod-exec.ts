/**
 * Running a command in a container, as `kubectl exec` does (the pods/exec subresource over a
 * WebSocket), with its exit code and output collected and a time limit. The limit holds in the
 * pod too: closing the WebSocket does not stop the remote process, so the command runs under
 * coreutils' `timeout`, and a retry does not pile up behind a still-running one (pgBackRest's
 * stanza lock, for one).
 */
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { BoundedOutput } from './bounded-output.js';
import { assertMayWrite } from './leadership.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
}

/** The exit code the API server reports in the final status of an exec. */
function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  // A failure without an exit code (container gone, command not found) counts as 126.
  return Number.isInteger(code) ? code : 126;
}

function collector(onChunk?: (chunk: string) => void) {
  const output = new BoundedOutput();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output.add(chunk);
      onChunk?.(chunk.toString());
      done();
    },
  });
  return { stream, text: () => output.text() };
}

/** timeout(1)'s exit codes: the command ran out of time (124), or ignored TERM and was killed (137). */
const TIMED_OUT = 124;
const KILLED = 137;
/** How long a command that ignores SIGTERM keeps running before SIGKILL. */
const KILL_AFTER_SECONDS = 10;

/** command under coreutils' timeout, so the pod stops it when the time is up. */
export function withRemoteTimeout(command: string[], timeoutMs: number): string[] {
  return ['timeout', `--kill-after=${KILL_AFTER_SECONDS}`, String(Math.ceil(timeoutMs / 1000)), ...command];
}

/** What went wrong, from an Error, a WebSocket ErrorEvent or an API status. */
function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) {
    const { message, type, reason } = err as { message?: unknown; type?: unknown; reason?: unknown };
    const text = [message, reason, type].find((v) => typeof v === 'string' && v !== '');
    if (text) return String(text);
    return JSON.stringify(err).slice(0, 500);
  }
  return String(err);
}

export interface ExecOptions {
  timeoutMs: number;
  /** Each piece of output as it arrives (a Job streams pgBackRest's progress to its log). */
  onOutput?: (chunk: string) => void;
}

/** Runs command in the target container; rejects only when the exec itself cannot run or times out. */
export async function execInPod(
  kubeConfig: KubeConfig,
  target: ExecTarget,
  command: string[],
  options: ExecOptions,
): Promise<ExecResult> {
  // An exec runs a command in a database pod: an action, taken only while this process may act.
  assertMayWrite(`exec in ${target.namespace}/${target.pod}`);
  const stdout = collector(options.onOutput);
  const stderr = collector(options.onOutput);
  // Only the program's name in messages: arguments are not for logs.
  const timedOut = () =>
    new Error(`${command[0]} in ${target.pod} did not finish within ${options.timeoutMs} ms`);
  const started = Date.now();
  return new Promise<ExecResult>((resolve, reject) => {
    let socket: { close(): void } | undefined;
    // A backstop for a pod that no longer answers; normally timeout(1) in the pod ends it first.
    const timer = setTimeout(
      () => {
        socket?.close();
        reject(timedOut());
      },
      options.timeoutMs + (KILL_AFTER_SECONDS + 5) * 1000,
    );
    // A pending exec alone does not keep the process alive (a stopping controller, a test run).
    timer.unref();
    new Exec(kubeConfig)
      .exec(
        target.namespace,
        target.pod,
        target.container,
        withRemoteTimeout(command, options.timeoutMs),
        stdout.stream,
        stderr.stream,
        null,
        false,
        (status) => {
          clearTimeout(timer);
          const exitCode = exitCodeOf(status);
          if (exitCode === TIMED_OUT || (exitCode === KILLED && Date.now() - started >= options.timeoutMs))
            reject(timedOut());
          else resolve({ exitCode, stdout: stdout.text(), stderr: stderr.text() });
        },
      )
      .then((ws) => {
        socket = ws;
        // A socket that closes without a status (the pod went away) is a failure to run.
        ws.on('close', () => {
          clearTimeout(timer);
          reject(new Error(`the exec in ${target.pod} ended without an exit status`));
        });
      })
      .catch((err: unknown) => {
        clearTimeout(timer);
        reject(new Error(`exec in ${target.pod} failed: ${describe(err)}`));
      });
  });
}
