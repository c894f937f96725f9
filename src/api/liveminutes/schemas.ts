import { Type } from 'typebox';
import { LIMITS } from '../../core/index.js';

// The document's parameters and limits. A JSON number is read as its text where the document
// says String, as a form would send it; JSON booleans and nulls are refused (see legacyBodies).
const key = Type.String({ maxLength: LIMITS.meetingKey });
const userId = Type.String({ minLength: 1, maxLength: LIMITS.externalId });
const text = (max: number) => Type.String({ maxLength: max });

export const CreateMeetingBody = Type.Object({
  meetingKey: Type.Optional(key),
  hostid: userId,
  title: Type.Optional(text(LIMITS.title)),
  lang: Type.Optional(text(LIMITS.language)),
  description: Type.Optional(text(LIMITS.description)),
  time: Type.Optional(Type.String({ maxLength: 40, description: 'a time as yyyy-MM-dd HH:mm:ss' })),
  duration: Type.Optional(Type.Union([Type.Number(), Type.String({ maxLength: 40 })], { description: 'a number of hours such as 1.5' })),
  hostnickname: Type.Optional(text(LIMITS.personName)),
  hostemail: Type.Optional(text(LIMITS.email)),
});

export const AddParticipantBody = Type.Object({
  meetingKey: key,
  puid: userId,
  nickname: Type.Optional(text(LIMITS.personName)),
  email: Type.Optional(text(LIMITS.email)),
});

export const MeetingKeyBody = Type.Object({ meetingKey: key });
export const ParticipantBody = Type.Object({ meetingKey: key, puid: userId });

const ok = Type.Literal(1);
export const Responses = {
  createMeeting: Type.Object({ resultcode: ok, meetingKey: Type.String(), meetingUrl: Type.String(), hostUrl: Type.String() }),
  addParticipant: Type.Object({ resultcode: ok, meetingKey: Type.String(), participantUrl: Type.String() }),
  getParticipantUrl: Type.Object({ resultcode: ok, participantUrl: Type.String() }),
  getMeetingUrl: Type.Object({ resultcode: ok, meetingUrl: Type.String() }),
  meetingKey: Type.Object({ resultcode: ok, meetingKey: Type.String() }),
  status: Type.Object({ resultcode: ok, status: Type.String() }),
  failure: Type.Object({ resultcode: Type.Literal(0), message: Type.String() }),
};
