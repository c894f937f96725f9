/** The admin API's answers, as far as the console reads them (see src/api/native/schemas.ts). */

export interface Source { on: boolean; mutedByHost: boolean }

export interface LivePerson {
  id: string;
  externalId: string | null;
  name: string;
  role: string;
  joinedAt: string;
  connection: 'connected' | 'reconnecting';
  audio: Source;
  video: Source;
  screen: Source;
  handRaised: boolean;
  speaking: boolean;
}

export interface LiveMeeting {
  meeting: { id: string; key: string; title: string; status: string };
  account: { id: string; name: string };
  live: boolean;
  since: string | null;
  participants: LivePerson[];
  lobby: { id: string; name: string; since: string }[];
}

export interface ServiceState {
  running: boolean;
  enabled: boolean;
  addresses?: string[];
  media?: { state: string; workers: number; alive: number; error?: string };
}

export interface Account {
  id: string;
  name: string;
  timeZone: string;
  accountSid: string;
  maxMeetings: number;
  maxUsers: number;
  serviceControl: boolean;
  createdAt: string;
}

export interface User {
  id: string;
  username: string;
  displayName: string;
  apiPermission: boolean;
  hasApiKey: boolean;
  selfRegistered: boolean;
  apiKey?: string;
}

export type Credentials = Record<'accountId' | 'accountSid' | 'authToken' | 'apiUsername' | 'apiKey' | 'serverKey' | 'nativeAppKey' | 'apiToken', string>;

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  description: string;
  enabled: boolean;
}

export interface WebhookDelivery {
  id: string;
  eventType: string;
  state: 'pending' | 'delivered' | 'failed';
  createdAt: string;
  attempts: { at: string; statusCode: number | null; error: string | null }[];
}

/** GET /admin/nodes: a node of the cluster as of its last heartbeat. */
export interface ClusterNode {
  id: string;
  url: string;
  state: 'live' | 'draining';
  participants: number;
  streams: number;
  cpu: number;
  eventLoop: number;
  seenAt: string;
  meetings: { id: string; title: string; accountId: string; status: number }[];
}
