import type { AccountRecord, PageQuery, PresetPermissions, PresetRecord, Repositories, Store } from '../store/index.js';
import { UniqueViolation } from '../store/index.js';
import { conflict, CoreError, invalid, notFound } from './errors.js';
import type { CoreEventBus } from './events.js';
import { LIMITS, lookupKey, matching, plural, requiredText } from './limits.js';
import { PATTERNS } from './limits.js';
import { newId } from './secrets.js';

export const DEFAULT_PRESET = 'Preset-1';

const FULL: PresetPermissions = {
  publishAudio: true, publishVideo: true, shareScreen: true, chat: true, moderate: false, record: false,
  startAudioMuted: false, startVideoOff: false,
};

export const PERMISSION_FIELDS = Object.keys(FULL) as (keyof PresetPermissions)[];

function presetName(value: string | undefined): string {
  return matching('name', requiredText('name', value, LIMITS.presetName), PATTERNS.presetName,
    'letters, digits, spaces and . _ - (starting with a letter or digit)');
}

/** Named bundles of what a participant may do and how they start. */
export class PresetService {
  constructor(private readonly store: Store, private readonly events?: CoreEventBus) {}

  async insertDefault(tx: Repositories, accountId: string, now: Date): Promise<void> {
    await tx.presets.insert({ id: newId('pst'), accountId, name: DEFAULT_PRESET, ...FULL, createdAt: now, updatedAt: now });
  }

  async create(account: AccountRecord, input: { name?: string } & Partial<PresetPermissions>): Promise<PresetRecord> {
    const now = new Date();
    const preset: PresetRecord = { id: newId('pst'), accountId: account.id, name: presetName(input.name), ...FULL, createdAt: now, updatedAt: now };
    for (const field of PERMISSION_FIELDS) if (input[field] !== undefined) preset[field] = input[field];
    try {
      await this.store.presets.insert(preset);
    } catch (error) {
      if (error instanceof UniqueViolation) throw conflict(`a preset named "${preset.name}" already exists`);
      throw error;
    }
    return preset;
  }

  async get(account: AccountRecord, id: string): Promise<PresetRecord> {
    const preset = await this.store.presets.findById(account.id, lookupKey('presetId', id));
    if (!preset) throw notFound('preset');
    return preset;
  }

  /** Resolves a preset by name, for APIs that refer to presets by name (Livebox). */
  async requireByName(accountId: string, name: string, field: string, repos: Repositories = this.store): Promise<PresetRecord> {
    const preset = await repos.presets.findByName(accountId, lookupKey(field, name));
    if (!preset) throw invalid(field, `names no preset of this account: "${name}"`);
    return preset;
  }

  list(account: AccountRecord, page: PageQuery): Promise<PresetRecord[]> {
    return this.store.presets.list(account.id, page);
  }

  async update(account: AccountRecord, id: string, input: { name?: string } & Partial<PresetPermissions>): Promise<PresetRecord> {
    const preset = await this.get(account, id);
    const patch: Partial<PresetRecord> = { updatedAt: new Date() };
    for (const field of PERMISSION_FIELDS) if (input[field] !== undefined) patch[field] = input[field];
    if (input.name !== undefined) patch.name = presetName(input.name);
    // New meetings and anyone without a preset of their own get the default by this name.
    if (preset.name === DEFAULT_PRESET && patch.name !== undefined && patch.name !== DEFAULT_PRESET) {
      throw new CoreError('conflict', `the default preset "${DEFAULT_PRESET}" cannot be renamed; change its permissions instead`, { field: 'name' });
    }
    try {
      await this.store.transaction(async (tx) => {
        await tx.presets.update(id, patch);
        // Meetings refer to presets by name, as the Livebox API does: follow a rename.
        if (patch.name && patch.name !== preset.name) await tx.meetings.renamePreset(account.id, preset.name, patch.name);
      });
    } catch (error) {
      if (error instanceof UniqueViolation) throw conflict(`a preset named "${patch.name}" already exists`);
      throw error;
    }
    this.events?.emit('preset.changed', { accountId: account.id, name: patch.name ?? preset.name, previousName: preset.name });
    return { ...preset, ...patch };
  }

  async delete(account: AccountRecord, id: string): Promise<void> {
    const preset = await this.get(account, id);
    if (preset.name === DEFAULT_PRESET) throw conflict(`the default preset "${DEFAULT_PRESET}" cannot be deleted`);
    // Deleting a preset someone still has would silently give them the default's rights.
    const used = await this.store.meetings.countUsingPreset(account.id, preset.name);
    const users: string[] = [];
    if (used.meetings > 0) users.push(plural(used.meetings, 'meeting'));
    if (used.participants > 0) users.push(plural(used.participants, 'participant'));
    if (users.length > 0) throw conflict(`preset "${preset.name}" is used by ${users.join(' and ')}; change them first`);
    await this.store.presets.delete(id);
    this.events?.emit('preset.changed', { accountId: account.id, name: preset.name, previousName: preset.name });
  }
}
