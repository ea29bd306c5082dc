/**
 * Process lifecycle for a controller: SIGTERM/SIGINT run the shutdown steps once, in order,
 * with a deadline; an unhandled rejection or exception is logged and ends the process non-zero,
 * so Kubernetes restarts it instead of it running on in an unknown state.
 */
import type { Logger } from 'winston';

export function onShutdown(logger: Logger, steps: (() => Promise<void>)[], deadlineMs = 25_000): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const deadline = setTimeout(() => {
      logger.error('shutdown took too long; exiting', { deadlineMs });
      process.exit(1);
    }, deadlineMs);
    deadline.unref();
    void (async () => {
      for (const step of steps)
        await step().catch((err: unknown) => logger.error('shutdown step failed', { error: err }));
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection; exiting', { error: reason });
    process.exit(1);
  });
  process.on('uncaughtException', (err) => {
    logger.error('uncaught exception; exiting', { error: err });
    process.exit(1);
  });
}
