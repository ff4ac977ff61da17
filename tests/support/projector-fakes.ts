/** In-memory ports for the projector, recording what each effect did, with scriptable failures. */

import { ContentKeyRing } from '../../src/content/content-key-ring.ts';
import { InMemoryContentVault } from '../../src/memory/in-memory-content-vault.ts';
import { InMemoryEffectMarkers } from '../../src/memory/in-memory-effect-markers.ts';
import type { AnnouncementEntry, Announcer } from '../../src/ports/announcer.ts';
import type { JobStatusOutcome, JobsTable } from '../../src/ports/jobs-table.ts';
import type { ProviderQueues, QueueMessage } from '../../src/ports/provider-queues.ts';
import type { ProtectedProjectorPorts } from '../../src/projections/content-retention.ts';
import type { PlannedJobStatus } from '../../src/projections/effects.ts';
import type { EntryFailure } from '../../src/projections/partial-batch-retry.ts';

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

/** Applies the same convergence rule as the DynamoDB condition. */
export class InMemoryJobs implements JobsTable {
  readonly items = new Map<string, Record<string, unknown>>();
  calls = 0;
  fail: (update: PlannedJobStatus) => Error | undefined = () => undefined;

  async projectStatus(update: PlannedJobStatus): Promise<JobStatusOutcome> {
    this.calls++;
    const error = this.fail(update);
    if (error) throw error;
    const item = this.items.get(update.jobId);
    const version = item?.routingVersion as number | undefined;
    const status = item?.status as string | undefined;
    if (
      (version !== undefined && version > update.routingVersion) ||
      (status && !['SUBMITTED', 'PENDING', 'ROUTED', 'REJECTED'].includes(status))
    ) {
      return 'superseded';
    }
    this.items.set(update.jobId, { ...item, ...update });
    return 'applied';
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
    content: { keys: new ContentKeyRing(vault), store: vault, retentionDays: 30 },
  };
  return { ports, queues, bus, jobs, markers, vault };
}
