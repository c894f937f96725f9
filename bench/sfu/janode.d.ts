// The part of janode (ESM, no typings of its own) that bench/sfu/janus.ts uses.
declare module 'janode' {
  interface Jsep { type: 'offer' | 'answer'; sdp: string }
  interface VideoRoomHandle {
    create(params: Record<string, unknown>): Promise<{ room: number }>;
    destroy(params: { room: number }): Promise<unknown>;
    joinConfigurePublisher(params: Record<string, unknown> & { jsep: Jsep }): Promise<{ jsep?: Jsep }>;
    joinSubscriber(params: { room: number; streams: { feed: number }[] }): Promise<{ jsep?: Jsep }>;
    start(params: { jsep: Jsep }): Promise<unknown>;
    detach(): Promise<void>;
  }
  interface Session {
    attach(plugin: unknown): Promise<VideoRoomHandle>;
    destroy(): Promise<void>;
  }
  interface Connection {
    create(keepaliveSeconds?: number): Promise<Session>;
    close(): Promise<void>;
  }
  const Janode: {
    connect(config: { address: { url: string }[] | { url: string }; retry_time_secs?: number; max_retries?: number }): Promise<Connection>;
    Logger: { setLevel(level: 'debug' | 'verb' | 'info' | 'warn' | 'error' | 'none'): string };
  };
  export default Janode;
  export type { Connection, Jsep, Session, VideoRoomHandle };
}

declare module 'janode/plugins/videoroom' {
  const VideoRoomPlugin: { id: string; Handle: unknown };
  export default VideoRoomPlugin;
}
