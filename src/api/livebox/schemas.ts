import { Type } from 'typebox';
import { LIMITS } from '../../core/index.js';

const short = (max = 100) => Type.String({ maxLength: max });
/** "true"/"false" as the document writes them, or JSON booleans. */
export const Flag = Type.Union([Type.Boolean(), short(10)], { description: '"true" or "false"' });
/** AllowSignup / UnAuthenticatedUser: a flag, or `{ Preset: "…" }` (JSON or `AllowSignup[Preset]=…`). */
export const Way = Type.Union([Type.Boolean(), short(10), Type.Object({ Preset: short(LIMITS.presetName) })], {
  description: '"true", "false" or {"Preset": "<preset name>"}',
});

const Credentials = {
  username: Type.Optional(short(LIMITS.username)),
  key: Type.Optional(short(200)),
  Serverkey: Type.Optional(short(200)),
  Nativeappkey: Type.Optional(short(200)),
  AuthenticationDetails: Type.Optional(Type.Object({
    username: Type.Optional(short(LIMITS.username)),
    key: Type.Optional(short(200)),
    Serverkey: Type.Optional(short(200)),
    Nativeappkey: Type.Optional(short(200)),
  })),
};

export const ConferenceSettings = {
  selectPreset: Type.Optional(short(LIMITS.presetName)),
  Authentication: Type.Optional(Flag),
  AllowSignup: Type.Optional(Way),
  UnAuthenticatedUser: Type.Optional(Way),
  username_password: Type.Optional(Flag),
  pinnumber: Type.Optional(Flag),
  Preset: Type.Optional(short(LIMITS.presetName)),
  /** Parley extension: sets the PIN instead of having one generated. */
  pin: Type.Optional(Type.Union([short(LIMITS.pinMax), Type.Number()], { description: `${LIMITS.pinMin} to ${LIMITS.pinMax} digits` })),
};

export const VideoConfSettingsBody = Type.Object({
  ...Credentials,
  ...ConferenceSettings,
  action: short(40),
  name: Type.Optional(short(LIMITS.meetingKey)),
  conferenceMode: Type.Optional(short(10)),
});

export const EmbedCodeBody = Type.Object({
  ...Credentials,
  name: short(LIMITS.meetingKey),
  height: Type.Optional(short(20)),
  width: Type.Optional(short(20)),
});

export const SchedulingBody = Type.Object({
  ...Credentials,
  conferenceName: short(LIMITS.meetingKey),
  SchedulingMode: short(10),
  startdate: Type.Optional(short(40)),
  enddate: Type.Optional(short(40)),
});

export const ResetBody = Type.Object({ ...Credentials, name: Type.Optional(short(LIMITS.meetingKey)) });

export const ServiceBody = Type.Object({ ...Credentials, action: short(20), appservice: short(100) });

export const CredentialsBody = Type.Object(Credentials);

export const ConferenceRow = Type.Object({
  ConferenceName: Type.String(),
  CreatedFrom: Type.String(),
  CreatedDate: Type.String(),
  Hashkey: Type.String(),
  Mode: Type.String(),
});
