import type { AccountRecord } from '../store/index.js';
import { CoreError } from './errors.js';

/** Who asks: an account (for Livebox, through a server key or a native-app key), or the operator. */
export type Actor = { account: AccountRecord; client?: 'server' | 'native' } | 'operator';

/** Native apps hold a key that ships inside an app: it never reaches server-wide or account-wide switches. */
export function assertNotNativeApp(actor: Actor, what: string): void {
  if (actor !== 'operator' && actor.client === 'native') throw new CoreError('forbidden', `a Nativeappkey may not ${what}; use the Serverkey`);
}
