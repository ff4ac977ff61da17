/** The content vault in memory, for unit tests: passes the same contract suite as the DynamoDB adapter. */
import type { ContentKey, ContentVault, RetainedContent } from '../ports/content-vault.ts';

export class InMemoryContentVault implements ContentVault {
  readonly keys = new Map<string, ContentKey>();
  readonly items = new Map<string, RetainedContent>();

  async createKey(candidate: ContentKey): Promise<ContentKey> {
    const existing = this.keys.get(candidate.keyId);
    if (existing) return existing;
    this.keys.set(candidate.keyId, candidate);
    return candidate;
  }

  async readKeys(keyIds: readonly string[]): Promise<ContentKey[]> {
    return keyIds.flatMap((id) => {
      const key = this.keys.get(id);
      return key ? [key] : [];
    });
  }

  async write(changes: { retain: readonly RetainedContent[]; erase: readonly string[] }): Promise<void> {
    for (const item of changes.retain) this.items.set(item.id, { ...item });
    for (const id of changes.erase) this.items.delete(id);
  }

  async read(ids: readonly string[]): Promise<Map<string, RetainedContent>> {
    const found = new Map<string, RetainedContent>();
    for (const id of ids) {
      const item = this.items.get(id);
      if (item) found.set(id, { ...item });
    }
    return found;
  }

  async idsOfUser(userId: string): Promise<string[]> {
    return [...this.items.values()].filter((item) => item.userId === userId).map((item) => item.id);
  }
}
