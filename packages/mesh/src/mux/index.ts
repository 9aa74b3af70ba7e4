export { MuxSessions, MuxUnsupportedError } from './pool.js';
export { serveMuxStream, type MuxServeOptions } from './server.js';
