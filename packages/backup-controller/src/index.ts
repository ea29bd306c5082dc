export * from './served-kinds.js';
