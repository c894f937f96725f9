import type { ComponentChildren } from 'preact';

/** Inline stroke icons (no icon font, no image requests). Decorative: the buttons carry the names. */
function Svg({ children }: { children: ComponentChildren }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
      {children}
    </svg>
  );
}

const Slash = () => <path d="M3 3l18 18" />;

export const MicIcon = ({ off = false }: { off?: boolean }) => (
  <Svg>
    <rect x="9" y="3" width="6" height="11" rx="3" />
    <path d="M5 11a7 7 0 0 0 14 0M12 18v3M8 21h8" />
    {off && <Slash />}
  </Svg>
);

export const CameraIcon = ({ off = false }: { off?: boolean }) => (
  <Svg>
    <rect x="2.5" y="6" width="13" height="12" rx="2" />
    <path d="M15.5 10.5l6-3.5v10l-6-3.5" />
    {off && <Slash />}
  </Svg>
);

export const ScreenIcon = () => (
  <Svg>
    <rect x="2.5" y="4" width="19" height="13" rx="2" />
    <path d="M8 21h8M12 17v4M12 14V8M9 11l3-3 3 3" />
  </Svg>
);

export const ChatIcon = () => (
  <Svg>
    <path d="M4 5h16v11H10l-5 4v-4H4z" />
  </Svg>
);

export const PeopleIcon = () => (
  <Svg>
    <circle cx="9" cy="8" r="3.5" />
    <path d="M2.5 20c0-3.6 2.9-6.5 6.5-6.5s6.5 2.9 6.5 6.5" />
    <path d="M16 4.8a3.3 3.3 0 0 1 0 6.4M18 13.8c2.1.8 3.5 3 3.5 5.7" />
  </Svg>
);

export const HandIcon = () => (
  <Svg>
    <path d="M8 12.5V5.5a1.5 1.5 0 0 1 3 0v5.5M11 10.5V4a1.5 1.5 0 0 1 3 0v6.5M14 10.5V5.5a1.5 1.5 0 0 1 3 0V14c0 4-2.7 7-6.5 7-2.6 0-4.2-1.3-5.6-3.6L3.2 13.7a1.5 1.5 0 0 1 2.6-1.5L8 15" />
  </Svg>
);

export const RecordIcon = ({ on = false }: { on?: boolean }) => (
  <Svg>
    <circle cx="12" cy="12" r="8" />
    {on ? <rect x="9" y="9" width="6" height="6" /> : <circle cx="12" cy="12" r="3.5" fill="currentColor" />}
  </Svg>
);

export const LeaveIcon = () => (
  <Svg>
    <path d="M2.5 14.5c5.2-5 13.8-5 19 0l-2.6 2.6-3.4-1.6v-2.8a10.8 10.8 0 0 0-7 0v2.8l-3.4 1.6z" />
  </Svg>
);

export const EndIcon = () => (
  <Svg>
    <circle cx="12" cy="12" r="9" />
    <path d="M8 8l8 8M16 8l-8 8" />
  </Svg>
);

export const CloseIcon = () => (
  <Svg>
    <path d="M6 6l12 12M18 6L6 18" />
  </Svg>
);

export const SoundIcon = () => (
  <Svg>
    <path d="M4 9h4l5-4v14l-5-4H4z" />
    <path d="M16.5 9a4 4 0 0 1 0 6M19 6.5a8 8 0 0 1 0 11" />
  </Svg>
);
