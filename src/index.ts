// The package entry: the service discovery client library and its types.

export * from './client/index.js';
