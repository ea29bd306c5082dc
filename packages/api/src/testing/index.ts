export * from './examples.js';
export * from './invalid-objects.js';
