export * from './backoff.js';
export * from './controller.js';
export * from './health-server.js';
export * from './logger.js';
export * from './manager.js';
export * from './metrics.js';
export * from './shutdown.js';
export * from './work-queue.js';
