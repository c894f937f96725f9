/*!
 * parley-embed.js: a Parley meeting inside your page, and a way for your page to talk to it.
 *
 *   <div id="meeting"></div>
 *   <script src="https://parley.example.com/parley-embed.js"></script>
 *   <script>
 *     var room = Parley.embed('#meeting', { url: 'https://parley.example.com/e/PERSONAL-TOKEN', height: '640px' });
 *     room.on('joined', function (data) { console.log('joined as', data.participantId); });
 *     room.on('meetingEnded', function () { room.destroy(); });
 *     document.getElementById('mute').onclick = function () { room.mute(); };
 *   </script>
 *
 * Parley.embed(container, options) returns a handle.
 *   container        an Element, or a CSS selector of one: the iframe is appended to it.
 *   options.url      the meeting's embed link or a personal link (http or https).
 *   options.width    a CSS length such as 100%, 800px or 60vw (a bare number is px; units px % em
 *                    rem vh vw vmin vmax dvh svh lvh ch, as the server's embed code); default 100%.
 *   options.height   a CSS length; default 600px.
 *   options.title    the iframe's accessible name; default "Video meeting".
 *
 * handle.iframe              the <iframe> (camera, microphone, screen sharing, autoplay,
 *                            fullscreen and clipboard allowed).
 * handle.on(event, fn)       fn(data) for each event; handle.off(event, fn) stops it.
 *   ready              the meeting page has loaded (again after it reloads itself, e.g. at the start)
 *   joined             { participantId, name, participants: [{ participantId, name }] }
 *   left               { reason }: 'left' (they left), 'connection_lost', 'removed', 'declined',
 *                      'joined_elsewhere' (the same person joined from another window or tab),
 *                      or the meeting's end ('ended', 'cancelled', ...)
 *   participantJoined  { participantId, name }
 *   participantLeft    { participantId, name }
 *   muteChanged        { microphone: true when muted, camera: true when off }
 *   meetingEnded       { state }: 'ended', 'cancelled', 'disabled' or 'service_stopped'
 * handle.mute(), handle.unmute()        the microphone
 * handle.cameraOn(), handle.cameraOff() the camera
 * handle.leave()                        leave the meeting
 * handle.destroy()                      remove the iframe and stop listening
 * Commands given before `ready` wait for it.
 *
 * Origins: the iframe's address gets ?origin=<this page's origin>; the meeting posts events to
 * that origin only and takes commands from it only. This script takes messages only from the
 * iframe's window at the meeting's origin. Plain ES2019, no dependencies.
 */
import { parseCssLength } from '../../protocol/css-length.ts';
import type { EmbedCommand, EmbedCommandName, EmbedEvent, EmbedEventName } from '../../protocol/messages.ts';

export interface EmbedOptions {
  url: string;
  width?: string;
  height?: string;
  title?: string;
}

export type EmbedHandler = (data: Record<string, unknown>) => void;

export interface EmbedHandle {
  iframe: HTMLIFrameElement;
  on(event: EmbedEventName, handler: EmbedHandler): EmbedHandle;
  off(event: EmbedEventName, handler: EmbedHandler): EmbedHandle;
  mute(): void;
  unmute(): void;
  cameraOn(): void;
  cameraOff(): void;
  leave(): void;
  destroy(): void;
}

const ALLOW = 'camera; microphone; display-capture; autoplay; fullscreen; clipboard-write';
const EVENTS: EmbedEventName[] = ['ready', 'joined', 'left', 'participantJoined', 'participantLeft', 'muteChanged', 'meetingEnded'];

export const version = '1';

// The same sizes as the server's embed code accepts (src/protocol/css-length.ts).
function cssLength(name: string, value: unknown, fallback: string): string {
  if (value === undefined || value === null || value === '') return fallback;
  const length = parseCssLength(String(value));
  if (!length) throw new TypeError(`Parley.embed: ${name} must be a CSS length such as 800px or 100%`);
  return length.css;
}

/** Puts the meeting at `url` into `container` and returns the handle to talk to it. */
export function embed(container: Element | string, options: EmbedOptions): EmbedHandle {
  const host = typeof container === 'string' ? document.querySelector(container) : container;
  if (!host || typeof host.appendChild !== 'function') throw new TypeError('Parley.embed: the container was not found');
  if (!options || typeof options.url !== 'string' || !options.url) throw new TypeError('Parley.embed: options.url is required');
  const src = new URL(options.url, location.href);
  if (src.protocol !== 'https:' && src.protocol !== 'http:') throw new TypeError('Parley.embed: options.url must be an http or https address');
  const width = cssLength('width', options.width, '100%');
  const height = cssLength('height', options.height, '600px');
  const meetingOrigin = src.origin;
  // A page without an http(s) origin (a file, a sandbox) cannot be told apart: no messages then.
  const talks = /^https?:\/\//.test(location.origin);
  if (talks) src.searchParams.set('origin', location.origin);
  else if (typeof console !== 'undefined') console.warn('parley-embed.js: this page has no http(s) origin; events and commands are off');

  const iframe = document.createElement('iframe');
  iframe.src = src.href;
  iframe.setAttribute('allow', ALLOW);
  iframe.setAttribute('allowfullscreen', '');
  iframe.title = options.title || 'Video meeting';
  iframe.style.width = width;
  iframe.style.height = height;
  iframe.style.border = '0';
  iframe.style.display = 'block';

  const handlers: { [event: string]: EmbedHandler[] } = {};
  let queue: EmbedCommandName[] = [];
  let ready = false;
  let destroyed = false;

  const deliver = (event: EmbedEventName, data: Record<string, unknown>) => {
    const list = (handlers[event] || []).slice();
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!.call(handle, data);
      } catch (error) {
        // One failing handler does not stop the others; the error still shows in the console.
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  };

  const post = (command: EmbedCommandName) => {
    const target = iframe.contentWindow;
    const message: EmbedCommand = { parley: 1, command };
    if (target) target.postMessage(message, meetingOrigin);
  };

  const onMessage = (e: MessageEvent) => {
    if (destroyed || e.source !== iframe.contentWindow || e.origin !== meetingOrigin) return;
    const m = e.data as Partial<EmbedEvent> | null;
    if (!m || typeof m !== 'object' || m.parley !== 1 || EVENTS.indexOf(m.event as EmbedEventName) < 0) return;
    const event = m.event as EmbedEventName;
    if (event === 'ready') {
      ready = true;
      const waiting = queue;
      queue = [];
      for (let i = 0; i < waiting.length; i++) post(waiting[i]!);
    }
    deliver(event, m.data && typeof m.data === 'object' ? m.data : {});
  };

  const command = (name: EmbedCommandName) => {
    if (destroyed || !talks) return;
    if (ready) post(name);
    else queue.push(name);
  };

  const handle: EmbedHandle = {
    iframe,
    on(event, handler) {
      if (typeof handler === 'function') (handlers[event] = handlers[event] || []).push(handler);
      return handle;
    },
    off(event, handler) {
      const list = handlers[event];
      if (list) handlers[event] = list.filter((h) => h !== handler);
      return handle;
    },
    mute: () => command('mute'),
    unmute: () => command('unmute'),
    cameraOn: () => command('cameraOn'),
    cameraOff: () => command('cameraOff'),
    leave: () => command('leave'),
    destroy() {
      if (destroyed) return;
      destroyed = true;
      queue = [];
      window.removeEventListener('message', onMessage);
      if (iframe.parentNode) iframe.parentNode.removeChild(iframe);
      for (const key of Object.keys(handlers)) delete handlers[key];
    },
  };

  if (talks) window.addEventListener('message', onMessage);
  host.appendChild(iframe);
  return handle;
}
