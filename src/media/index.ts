// The media plane: a werift SFU in worker threads. See types.ts for the model and the rules.
export { MediaService } from './service.js';
export { MediaRoom } from './room.js';
export { MediaPeer } from './peer.js';
export * from './types.js';
export { UdpReceiveDrops } from './udp-buffers.js';
