/** The hold backlog in memory, for unit tests: keeps what was sent, in order, with its delay. */
import { backlogDelaySec, type HoldBacklog, type HoldMessage } from '../ports/hold-backlog.ts';

export class InMemoryHoldBacklog implements HoldBacklog {
  readonly sent: { readonly message: HoldMessage; readonly delaySec: number }[] = [];

  async send(message: HoldMessage, delaySec: number): Promise<void> {
    this.sent.push({ message, delaySec: backlogDelaySec(delaySec) });
  }

  /** Takes every message sent so far (the test then handles them, as the holds handler would). */
  take(): HoldMessage[] {
    return this.sent.splice(0).map((entry) => entry.message);
  }
}
