/** In-memory ports for the projector, recording what each effect did, with scriptable failures. */

import type { EntryFailure } from '../../src/batching/partial-retry.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryEffectMarkers } from '../../src/memory/in-memory-effect-markers.ts';
import { InMemoryJobsTable } from '../../src/memory/in-memory-jobs-table.ts';
import { errorFacts } from '../../src/observability/error-facts.ts';
import type { AnnouncementEntry, Announcer } from '../../src/ports/announcer.ts';
import type { JobStatusResult, PlannedJobStatus } from '../../src/ports/jobs-table.ts';
import type { ProviderQueues, QueueMessage } from '../../src/ports/provider-queues.ts';
import type { ProtectedProjectorPorts } from '../../src/projections/content-retention.ts';
import { contentKeyRing, testKeyService } from './content.ts';

export const QUEUE_URLS = {
  fal: 'https://sqs.us-east-1.amazonaws.com/123456789012/FalJobQueue-test',
  replicate: 'https://sqs.us-east-1.amazonaws.com/123456789012/ReplicateJobQueue-test',
};

export class RecordingQueues implements ProviderQueues {
  readonly sent: { queueUrl: string; message: QueueMessage }[] = [];
  calls = 0;
  /** Per call: entries to refuse (by dispatchId), or an error to throw. */
  refuse: (message: QueueMessage, call: number) => EntryFailure | undefined = () => undefined;
  throwOnCall: (call: number) => Error | undefined = () => undefined;

  async sendBatch(queueUrl: string, messages: readonly QueueMessage[]) {
    const call = ++this.calls;
    const error = this.throwOnCall(call);
    if (error) throw error;
    const failures = new Map<string, EntryFailure>();
    for (const message of messages) {
      const refused = this.refuse(message, call);
      if (refused) failures.set(message.id, refused);
      else this.sent.push({ queueUrl, message });
    }
    return failures;
  }
}

export class RecordingBus implements Announcer {
  readonly published: AnnouncementEntry[] = [];
  calls = 0;
  refuse: (entry: AnnouncementEntry, call: number) => EntryFailure | undefined = () => undefined;
  throwOnCall: (call: number) => Error | undefined = () => undefined;

  async publish(entries: readonly AnnouncementEntry[]) {
    const call = ++this.calls;
    const error = this.throwOnCall(call);
    if (error) throw error;
    const failures = new Map<string, EntryFailure>();
    for (const entry of entries) {
      const refused = this.refuse(entry, call);
      if (refused) failures.set(entry.id, refused);
      else this.published.push(entry);
    }
    return failures;
  }
}

/** The in-memory Jobs table, counting the statuses written, with scriptable per-entry failures. */
export class InMemoryJobs extends InMemoryJobsTable {
  /** Status writes attempted (one per entry, as a statement of a batched write). */
  calls = 0;
  fail: (update: PlannedJobStatus) => Error | undefined = () => undefined;

  override async write(updates: readonly PlannedJobStatus[]): Promise<JobStatusResult[]> {
    this.calls += updates.length;
    const results = await Promise.all(
      updates.map(async (update): Promise<JobStatusResult> => {
        const error = this.fail(update);
        if (error) return { ok: false, ...errorFacts(error) };
        return (await super.write([update]))[0] as JobStatusResult;
      }),
    );
    return results;
  }
}

export class FlakyMarkers extends InMemoryEffectMarkers {
  failRead = false;
  failWrite = false;
  override async read(ids: readonly string[]) {
    if (this.failRead) throw new Error('markers unavailable');
    return super.read(ids);
  }
  override async write(markers: Parameters<InMemoryEffectMarkers['write']>[0]) {
    if (this.failWrite) throw new Error('markers unavailable');
    return super.write(markers);
  }
}

export function fakePorts() {
  const queues = new RecordingQueues();
  const bus = new RecordingBus();
  const jobs = new InMemoryJobs();
  const markers = new FlakyMarkers();
  const vault = new InMemoryContentVault();
  const ports: ProtectedProjectorPorts = {
    markers,
    sender: queues,
    queueUrls: QUEUE_URLS,
    publisher: bus,
    jobs,
    now: () => new Date('2026-11-25T10:00:05.000Z'),
    retry: { extraAttempts: 2, backoffMs: () => 0 },
    content: { keys: contentKeyRing(vault, testKeyService, 'projector'), store: vault, retentionDays: 30 },
  };
  return { ports, queues, bus, jobs, markers, vault };
}
