import type { Decider, DomainEvent } from '../../src/domain/shared/decider';

/** given(events).when(command).then(expected) / .thenThrows(ErrorClass): the shape of every decider test. */
export function deciderSpec<Command, State, Event extends DomainEvent>(decider: Decider<Command, State, Event>) {
  return {
    given(events: Event[]) {
      const state = events.reduce(decider.evolve, decider.initialState());
      return {
        when(command: Command) {
          return {
            then(expected: Event[]): void {
              expect(decider.decide(command, state)).toEqual(expected);
            },
            thenThrows(errorClass: new (...args: never[]) => Error, message?: string | RegExp): void {
              expect(() => decider.decide(command, state)).toThrow(errorClass);
              if (message !== undefined) expect(() => decider.decide(command, state)).toThrow(message);
            },
          };
        },
      };
    },
  };
}
