/** The content vault in memory, for unit tests: passes the same contract suite as the DynamoDB adapter. */
import { VersionConflictError } from '../errors.ts';
import type * as port from '../ports/content-vault.ts';

export class InMemoryContentVault implements port.ContentVault {
  /** Key items as stored: wrapped (a test may put a legacy clear key here too). */
  readonly keys = new Map<string, port.StoredContentKey>();
  readonly seeds = new Map<string, port.HashSeed>();
  readonly items = new Map<string, port.StoredContent>();

  async createKey(key: port.WrappedContentKey): Promise<void> {
    if (this.keys.has(key.keyId)) throw new VersionConflictError(key.keyId, 0);
    this.keys.set(key.keyId, { kind: 'wrapped', ...key });
  }

  async readKeys(keyIds: readonly string[]): Promise<port.StoredContentKey[]> {
    return [...new Set(keyIds)].flatMap((id) => {
      const key = this.keys.get(id);
      return key ? [key] : [];
    });
  }

  async createSeed(candidate: port.HashSeed): Promise<port.HashSeed> {
    const existing = this.seeds.get(candidate.id);
    if (existing) return existing;
    this.seeds.set(candidate.id, candidate);
    return candidate;
  }

  async readSeed(id: string): Promise<port.HashSeed | null> {
    return this.seeds.get(id) ?? null;
  }

  async retainNew(items: readonly port.RetainedContent[]): Promise<Map<string, port.RetainOutcome>> {
    const outcomes = new Map<string, port.RetainOutcome>();
    for (const item of items) {
      if (outcomes.has(item.id)) continue; // the first of an id answers for the others
      const existing = this.items.get(item.id);
      if (existing) outcomes.set(item.id, { kind: 'existing', item: { ...existing } });
      else {
        this.items.set(item.id, { ...item });
        outcomes.set(item.id, { kind: 'retained' });
      }
    }
    return outcomes;
  }

  async write(changes: { retain: readonly port.RetainedContent[]; erase: readonly string[] }): Promise<void> {
    for (const item of changes.retain) this.items.set(item.id, { ...item });
    for (const id of changes.erase) this.items.set(id, { id, erased: true });
  }

  async read(ids: readonly string[]): Promise<Map<string, port.StoredContent>> {
    const found = new Map<string, port.StoredContent>();
    for (const id of ids) {
      const item = this.items.get(id);
      if (item) found.set(id, { ...item });
    }
    return found;
  }

  async idsOfUser(userId: string): Promise<string[]> {
    return [...this.items.values()]
      .filter((item) => 'userId' in item && item.userId === userId)
      .map((item) => item.id);
  }
}
