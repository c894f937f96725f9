import { parseIceUrl } from '../config.js';

/** What a coturn configuration for Parley is made from (`parley turn-config` fills it from the environment). */
export interface CoturnSettings {
  /** The TURN realm: PUBLIC_URL's host name. */
  realm: string;
  /** TURN_SECRET, coturn's static-auth-secret. */
  secret: string;
  /** TURN_URLS: their ports become coturn's listening ports. */
  urls: string[];
  /** The addresses Parley's media announces: the peers relayed participants talk to. */
  mediaAddresses: string[];
  /** coturn's own addresses (listening-ip, relay-ip); unset, all interfaces. */
  listeningIps?: string[];
  relayIps?: string[];
  /** The UDP ports coturn relays from. */
  relayPorts?: { min: number; max: number };
}

/**
 * Peers a public relay must not reach: this network's own hosts, the relay's loopback, link-local
 * and the reserved and documentation ranges (the list coturn's maintainers recommend). Multicast
 * is refused by no-multicast-peers.
 */
export const DENIED_PEER_RANGES = [
  '0.0.0.0-0.255.255.255', '10.0.0.0-10.255.255.255', '100.64.0.0-100.127.255.255', '127.0.0.0-127.255.255.255',
  '169.254.0.0-169.254.255.255', '172.16.0.0-172.31.255.255', '192.0.0.0-192.0.0.255', '192.0.2.0-192.0.2.255',
  '192.88.99.0-192.88.99.255', '192.168.0.0-192.168.255.255', '198.18.0.0-198.19.255.255', '198.51.100.0-198.51.100.255',
  '203.0.113.0-203.0.113.255', '240.0.0.0-255.255.255.255',
  '::1', '64:ff9b::-64:ff9b::ffff:ffff', '::ffff:0.0.0.0-::ffff:255.255.255.255', '100::-100::ffff:ffff:ffff:ffff',
  '2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', '2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

/** The plain (UDP and TCP) port and the TLS port the TURN URLs name; defaults 3478 and 443. */
export function turnPorts(urls: string[]): { plain: number; tls?: number } {
  let plain: number | undefined;
  let tls: number | undefined;
  for (const url of urls) {
    const parsed = parseIceUrl(url);
    if (typeof parsed === 'string' || parsed.scheme === 'stun') continue;
    if (parsed.scheme === 'turns') tls ??= parsed.port ?? 5349;
    else plain ??= parsed.port ?? 3478;
  }
  return { plain: plain ?? 3478, tls };
}

/** A turnserver.conf for Parley's relay: shared-secret credentials, a public relay's peer rules. */
export function coturnConfig(s: CoturnSettings): string {
  const { plain, tls } = turnPorts(s.urls);
  const relay = s.relayPorts ?? { min: 49152, max: 65535 };
  const lines = [
    '# coturn (turnserver.conf) for Parley, printed by `parley turn-config`.',
    `# Parley's side: TURN_URLS=${s.urls.join(',')}`,
    '# and TURN_SECRET set to the static-auth-secret below (keep it secret; never in ICE_SERVERS).',
    '',
    '# Credentials: Parley mints one per participant, "<expiry unix time>:<participant id>" with',
    '# password base64(HMAC-SHA1(secret, username)); coturn refuses them once expired.',
    'use-auth-secret',
    `static-auth-secret=${s.secret}`,
    `realm=${s.realm}`,
    'fingerprint',
    '',
    `# TURN over UDP and TCP (the URLs turn:…:${plain} and turn:…:${plain}?transport=tcp).`,
    `listening-port=${plain}`,
    ...(tls !== undefined ? [
      `# TURN over TLS (turns:…:${tls}), for firewalls that pass only HTTPS. Port 443 needs root or`,
      '# CAP_NET_BIND_SERVICE (see docs/operations.md). Placeholders: your certificate for the realm.',
      `tls-listening-port=${tls}`,
      `cert=/etc/letsencrypt/live/${s.realm}/fullchain.pem`,
      `pkey=/etc/letsencrypt/live/${s.realm}/privkey.pem`,
      'no-tlsv1',
      'no-tlsv1_1',
      'no-dtls',
    ] : [
      '# No turns: URL in TURN_URLS: no TLS listener. For firewalls that pass only HTTPS, add',
      `# turns:${s.realm}:443?transport=tcp to TURN_URLS and run this command again.`,
      'no-tls',
      'no-dtls',
    ]),
    ...(s.listeningIps ?? []).map((ip) => `listening-ip=${ip}`),
    ...(s.relayIps ?? []).map((ip) => `relay-ip=${ip}`),
    '# Behind NAT (a cloud VM), add: external-ip=<public address>/<private address>',
    '',
    '# Relayed UDP ports: the firewall must let them in.',
    `min-port=${relay.min}`,
    `max-port=${relay.max}`,
    '',
    '# A public relay: no peers on this network, loopback, link-local or reserved ranges …',
    'no-multicast-peers',
    ...DENIED_PEER_RANGES.map((range) => `denied-peer-ip=${range}`),
    "# … except Parley's media (its announced addresses, ANNOUNCED_IP): relayed participants talk to it.",
    '# Add any other address of Parley here if its media announces more than one.',
    ...s.mediaAddresses.map((ip) => `allowed-peer-ip=${ip}`),
    '',
    '# Hardening.',
    'no-cli',
    'no-software-attribute',
    'no-rfc5780',
    'no-stun-backward-compatibility',
    'response-origin-only-with-rfc5780',
    'stale-nonce=600',
    '# Allocations per participant (credentials are per participant): 2 transports x 3 URLs x a few',
    '# network interfaces, with room for an ICE restart; a leaked credential cannot open more.',
    'user-quota=30',
    '',
  ];
  return lines.join('\n');
}

/** The realm: PUBLIC_URL's host (any string works; browsers learn it from the relay). */
export function realmOf(publicUrl: string): string {
  return new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
}
