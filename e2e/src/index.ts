export * from './envtest.js';
export * from './kubectl.js';
export * from './paths.js';
export * from './ports.js';
export * from './local-cluster.js';
export * from './operator.js';
export * from './eventually.js';
export * from './in-process-controller.js';
