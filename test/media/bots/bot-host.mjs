// A child process that hosts headless WebRTC clients (@roamhq/wrtc) for the media tests and
// the bench. It speaks JSON lines: requests on stdin `{ id, cmd, bot, ...args }`, replies on
// stdout `{ id, ok, value | error }`. Plain JS because wrtc's typings need lib.dom.
//
// Why a child process: wrtc in the vitest process can segfault on exit, and a bot must end
// with pc.close() + process.exit() (MEDIA-NOTES). Here a crash at exit harms nobody.
import wrtc from '@roamhq/wrtc';
import { createInterface } from 'node:readline';

const { RTCPeerConnection, nonstandard } = wrtc;
const { RTCVideoSource, RTCVideoSink, RTCAudioSource } = nonstandard;

const WIDTH = Number(process.env.BOT_WIDTH ?? 320);
const HEIGHT = Number(process.env.BOT_HEIGHT ?? 240);
const FPS = Number(process.env.BOT_FPS ?? 15);
const GATHER_TIMEOUT_MS = 5000;

/**
 * A few precomputed I420 frames shared by all bots: a moving diagonal pattern plus a block of
 * noise, so that the encoder produces a few packets per frame (NACK needs something to lose).
 */
const FRAMES = process.env.BOT_NOISE ? noiseFrames() : Array.from({ length: 8 }, (_, f) => {
  const data = new Uint8Array((WIDTH * HEIGHT * 3) / 2);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) data[y * WIDTH + x] = (x + y + f * 8) & 0xff;
  }
  const block = Math.min(96, WIDTH, HEIGHT);
  for (let y = 0; y < block; y++) {
    for (let x = 0; x < block; x++) data[y * WIDTH + x] = Math.floor(Math.random() * 256);
  }
  data.fill(128, WIDTH * HEIGHT);
  return data;
});

/**
 * BOT_NOISE=F (bench/sfu.ts): 30 frames whose top fraction F (0–1] is random luma, which no
 * encoder can compress, so the video bitrate is what the encoder is allowed (x-google-*-bitrate
 * in the answer); the rest is the moving pattern. All noise overshoots even at the coarsest
 * quantizer and the encoder then drops frames.
 */
function noiseFrames() {
  const rows = Math.round(HEIGHT * Math.min(1, Number(process.env.BOT_NOISE) || 1));
  return Array.from({ length: 30 }, (_, f) => {
    const data = new Uint8Array((WIDTH * HEIGHT * 3) / 2);
    for (let i = 0; i < WIDTH * HEIGHT; i++) data[i] = i < rows * WIDTH ? Math.floor(Math.random() * 256) : ((i % WIDTH) + Math.floor(i / WIDTH) + f * 8) & 0xff;
    data.fill(128, WIDTH * HEIGHT);
    return data;
  });
}

/** A solid I420 frame of the colour [Y, U, V]: recordings are checked by their colours. */
function solidFrame([y, u, v]) {
  const data = new Uint8Array((WIDTH * HEIGHT * 3) / 2);
  data.fill(y, 0, WIDTH * HEIGHT);
  data.fill(u, WIDTH * HEIGHT, (WIDTH * HEIGHT * 5) / 4);
  data.fill(v, (WIDTH * HEIGHT * 5) / 4);
  return data;
}

/** 10 ms of 48 kHz mono audio: a tone (loud; 440 Hz unless the bot has its own) or near silence. */
function audioChunk(loud, t, hz = 440) {
  const samples = new Int16Array(480);
  if (loud) for (let i = 0; i < 480; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * (t * 480 + i)) / 48000));
  return { samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 };
}

/** @type {Map<string, Bot>} */
const bots = new Map();
let tick = 0;

class Bot {
  constructor(name, opts) {
    this.name = name;
    this.opts = opts;
    this.pub = new RTCPeerConnection({ iceServers: [] });
    this.sub = new RTCPeerConnection({ iceServers: [] });
    this.frames = {}; // mid -> decoded frames received
    this.sinks = [];
    this.sources = {}; // mid -> source, for publish()
    this.transceivers = {}; // source -> transceiver
    this.loud = !!opts.loud;
    this.tone = opts.tone ?? 440;
    this.solid = opts.color ? solidFrame(opts.color) : undefined;
    this.videoSources = [];
    if (opts.audio !== false) {
      this.audioSource = new RTCAudioSource();
      this.addTrack('microphone', this.audioSource.createTrack());
    }
    if (opts.video !== false) this.addVideo('camera');
    if (opts.screen) this.addVideo('screen');
    this.sinkByTrack = new Map();
    this.sub.ontrack = (e) => {
      if (e.track.kind !== 'video') return;
      const mid = e.transceiver.mid;
      // A reused m-line fires 'track' again (same track object): count its new life from 0.
      this.frames[mid] = 0;
      if (this.sinkByTrack.has(e.track.id)) return;
      const sink = new RTCVideoSink(e.track);
      sink.onframe = () => {
        const key = e.transceiver.mid ?? mid;
        this.frames[key] = (this.frames[key] ?? 0) + 1;
      };
      this.sinkByTrack.set(e.track.id, sink);
      this.sinks.push(sink);
    };
  }

  addTrack(source, track) {
    const t = this.pub.addTransceiver(track, { direction: 'sendonly' });
    this.transceivers[source] = t;
  }

  addVideo(source) {
    const vs = new RTCVideoSource({ isScreencast: source === 'screen' });
    this.videoSources.push({ source, vs });
    this.addTrack(source, vs.createTrack());
  }

  removeVideo(source) {
    const t = this.transceivers[source];
    if (!t) return;
    this.pub.removeTrack(t.sender);
    this.videoSources = this.videoSources.filter((v) => v.source !== source);
    delete this.transceivers[source];
  }

  async offer() {
    const offer = await this.pub.createOffer();
    await this.pub.setLocalDescription(offer);
    await gathered(this.pub);
    const sources = {};
    for (const [source, t] of Object.entries(this.transceivers)) if (t.mid !== null) sources[t.mid] = source;
    let sdp = this.pub.localDescription.sdp;
    if (this.extraCandidate) sdp = sdp.replace(/(a=mid:[^\r\n]*\r\n)/, `$1${this.extraCandidate}\r\n`);
    return { sdp, sources };
  }

  async answer(sdp) {
    await this.pub.setRemoteDescription({ type: 'answer', sdp });
  }

  async subOffer(sdp) {
    await this.sub.setRemoteDescription({ type: 'offer', sdp });
    const answer = await this.sub.createAnswer();
    await this.sub.setLocalDescription(answer);
    await gathered(this.sub);
    return { sdp: this.sub.localDescription.sdp };
  }

  async stats() {
    const out = { inbound: [], outbound: [], pub: this.pub.connectionState, sub: this.sub.connectionState };
    const midByTrack = {};
    for (const t of this.sub.getTransceivers()) if (t.receiver.track) midByTrack[t.receiver.track.id] = t.mid;
    const report = await this.sub.getStats();
    report.forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      out.inbound.push({
        mid: s.mid ?? midByTrack[s.trackIdentifier] ?? null,
        kind: s.kind ?? s.mediaType,
        packetsReceived: s.packetsReceived ?? 0,
        bytesReceived: s.bytesReceived ?? 0,
        packetsLost: s.packetsLost ?? 0,
        nackCount: s.nackCount ?? 0,
        pliCount: s.pliCount ?? 0,
        framesDecoded: s.framesDecoded ?? 0,
        keyFramesDecoded: s.keyFramesDecoded ?? 0,
      });
    });
    const pubReport = await this.pub.getStats();
    pubReport.forEach((s) => {
      if (s.type !== 'outbound-rtp') return;
      out.outbound.push({
        kind: s.kind ?? s.mediaType,
        packetsSent: s.packetsSent ?? 0,
        bytesSent: s.bytesSent ?? 0,
        pliCount: s.pliCount ?? 0,
        nackCount: s.nackCount ?? 0,
        framesEncoded: s.framesEncoded ?? 0,
        keyFramesEncoded: s.keyFramesEncoded ?? 0,
      });
    });
    return out;
  }

  close() {
    for (const sink of this.sinks) sink.stop();
    this.sinks = [];
    this.videoSources = [];
    this.audioSource = undefined;
    this.pub.close();
    this.sub.close();
  }
}

function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

// One clock for all bots: 10 ms audio chunks, video every 1/FPS s.
const videoEvery = Math.max(1, Math.round(100 / FPS));
const clock = setInterval(() => {
  tick++;
  for (const bot of bots.values()) {
    bot.audioSource?.onData(audioChunk(bot.loud, tick, bot.tone));
    if (tick % videoEvery === 0) {
      const data = bot.solid ?? FRAMES[(tick / videoEvery) % FRAMES.length];
      for (const { vs } of bot.videoSources) vs.onFrame({ width: WIDTH, height: HEIGHT, data });
    }
  }
}, 10);

function bot(name) {
  const b = bots.get(name);
  if (!b) throw new Error(`no bot ${name}`);
  return b;
}

const commands = {
  create: ({ bot: name, opts }) => {
    if (bots.has(name)) throw new Error(`bot ${name} exists`);
    bots.set(name, new Bot(name, opts ?? {}));
  },
  offer: ({ bot: name }) => bot(name).offer(),
  answer: ({ bot: name, sdp }) => bot(name).answer(sdp),
  subOffer: ({ bot: name, sdp }) => bot(name).subOffer(sdp),
  frames: ({ bot: name }) => ({ ...bot(name).frames }),
  stats: ({ bot: name }) => bot(name).stats(),
  setLoud: ({ bot: name, loud }) => {
    bot(name).loud = !!loud;
  },
  /** Adds a raw line to the next offers' first m-line (used to slip in an mDNS candidate). */
  injectCandidate: ({ bot: name, line }) => {
    bot(name).extraCandidate = line;
  },
  addScreen: ({ bot: name }) => bot(name).addVideo('screen'),
  removeScreen: ({ bot: name }) => bot(name).removeVideo('screen'),
  close: ({ bot: name }) => {
    bots.get(name)?.close();
    bots.delete(name);
  },
  quit: () => {
    for (const b of bots.values()) b.close();
    bots.clear();
    clearInterval(clock);
    // Exit right after the reply is flushed: a normal exit with live wrtc objects hangs.
    setTimeout(() => process.exit(0), 50);
  },
};

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  Promise.resolve()
    .then(() => commands[msg.cmd](msg))
    .then(
      (value) => process.stdout.write(JSON.stringify({ id: msg.id, ok: true, value: value ?? null }) + '\n'),
      (error) => process.stdout.write(JSON.stringify({ id: msg.id, ok: false, error: String(error?.stack ?? error) }) + '\n'),
    );
});
// The parent went away: do not linger.
rl.on('close', () => process.exit(0));
