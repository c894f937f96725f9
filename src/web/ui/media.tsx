import { useEffect, useRef } from 'preact/hooks';

/**
 * A <video> for one track. It reports whether frames are actually showing (`onLive`), so a tile
 * can keep the person's initials visible until then: never a black box.
 */
export function Video({ track, mirrored = false, contain = false, onLive }: {
  track: MediaStreamTrack;
  mirrored?: boolean;
  contain?: boolean;
  onLive?: (live: boolean) => void;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    video.srcObject = new MediaStream([track]);
    const update = () => onLive?.(video.videoWidth > 0 && !track.muted && track.readyState === 'live');
    const videoEvents = ['loadeddata', 'resize', 'playing', 'emptied'] as const;
    const trackEvents = ['mute', 'unmute', 'ended'] as const;
    for (const e of videoEvents) video.addEventListener(e, update);
    for (const e of trackEvents) track.addEventListener(e, update);
    video.play().catch(() => undefined); // muted video may always play; a failure here is a detached element
    update();
    return () => {
      for (const e of videoEvents) video.removeEventListener(e, update);
      for (const e of trackEvents) track.removeEventListener(e, update);
      video.srcObject = null;
      onLive?.(false);
    };
  }, [track]);
  return <video ref={ref} class={`video${mirrored ? ' mirrored' : ''}${contain ? ' contain' : ''}`} autoPlay playsInline muted />;
}

/** Plays one remote microphone. Tells the room when the browser blocks autoplay with sound. */
export function AudioSink({ track, onBlocked }: { track: MediaStreamTrack; onBlocked: () => void }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const audio = ref.current;
    if (!audio) return;
    audio.srcObject = new MediaStream([track]);
    audio.play().catch((error: unknown) => {
      if (error instanceof DOMException && error.name === 'NotAllowedError') onBlocked();
    });
    return () => {
      audio.srcObject = null;
    };
  }, [track]);
  return <audio ref={ref} autoPlay />;
}

/** A small input level bar for the pre-join screen, so people see that their microphone works. */
export function MicLevel({ track, on }: { track: MediaStreamTrack | undefined; on: boolean }) {
  const bar = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (!track || !on || typeof AudioContext === 'undefined') return;
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    // Before any click the browser keeps a new AudioContext suspended.
    const wake = () => void ctx.resume().catch(() => undefined);
    document.addEventListener('pointerdown', wake, { once: true });
    wake();
    const samples = new Uint8Array(analyser.fftSize);
    let frame = 0;
    const tick = () => {
      analyser.getByteTimeDomainData(samples);
      let peak = 0;
      for (const v of samples) peak = Math.max(peak, Math.abs(v - 128));
      if (bar.current) bar.current.style.transform = `scaleX(${Math.min(1, peak / 48).toFixed(3)})`;
      frame = requestAnimationFrame(tick);
    };
    tick();
    return () => {
      cancelAnimationFrame(frame);
      document.removeEventListener('pointerdown', wake);
      void ctx.close().catch(() => undefined);
      if (bar.current) bar.current.style.transform = 'scaleX(0)';
    };
  }, [track, on]);
  return (
    <div class="meter" aria-hidden="true">
      <span ref={bar} />
    </div>
  );
}
