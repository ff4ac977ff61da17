/**
 * Decider tests as specifications (Emmett's DeciderSpecification): given the records already in a
 * stream, when a command is decided, then these records are appended — or this error is thrown.
 * The state is built by the stream's one fold, exactly as the command handler builds it, so a test
 * states only records and commands, never a hand-made state.
 *
 *   const spec = DeciderSpecification.for({ evolve: evolveJob, initialState: initialJobState, decide });
 *   spec.given([decision]).when(command).thenDecides(step);
 */
import { expect } from 'vitest';

export interface Decider<State, Record, Command, Decision> {
  readonly evolve: (state: State, record: Record) => State;
  readonly initialState: State;
  /** Pure: what the command decides on the folded state (records to append, or an answer). */
  readonly decide: (command: Command, state: State) => Decision;
}

export interface Then<Decision> {
  /** The decision equals `expected` (records to append, or the decider's answer). */
  thenDecides(expected: Decision): void;
  /** The decision satisfies `check` (for a field or two of a larger answer). */
  thenMatches(check: (decision: Decision) => void): void;
  /** Deciding throws an error of this class (and, if given, with this machine-readable reason). */
  thenThrows(errorClass: abstract new (...args: never[]) => Error, reason?: string): void;
}

export const DeciderSpecification = {
  for<State, Record, Command, Decision>(decider: Decider<State, Record, Command, Decision>) {
    return {
      given(records: readonly Record[]) {
        return {
          when(command: Command): Then<Decision> {
            const decide = () =>
              decider.decide(command, records.reduce(decider.evolve, decider.initialState));
            return {
              thenDecides: (expected) => expect(decide()).toEqual(expected),
              thenMatches: (check) => check(decide()),
              thenThrows: (errorClass, reason) => {
                let thrown: unknown;
                try {
                  decide();
                } catch (error) {
                  thrown = error;
                }
                expect(thrown).toBeInstanceOf(errorClass);
                if (reason !== undefined) expect((thrown as { reason?: unknown }).reason).toBe(reason);
              },
            };
          },
        };
      },
    };
  },
};
