export { forwardRequest, type ForwardOptions } from './client.js';
export { handleForwardProtocol, type ForwardServe, type InboundForward, type ForwardHandlerOptions } from './handler.js';
