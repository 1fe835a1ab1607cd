import { EventDataError } from './event-data-error';
import type { EventDefinition, EventOf, EventStorage } from './event-schema';

/** The domain events of a registry, as one union discriminated by `type`. */
export type RegisteredEvent<Registry> = Registry extends EventRegistry<infer Definition> ? EventOf<Definition> : never;
/** The type names of a registry's events. */
export type RegisteredEventType<Registry> = RegisteredEvent<Registry>['type'];

const describeIssues = (issues: readonly { path: readonly PropertyKey[]; message: string }[]): string =>
  issues.map((issue) => `${issue.path.map(String).join('.') || '(data)'}: ${issue.message}`).join('; ');

/**
 * Event definitions by type name: one per bounded context (e.g. `identityEvents`), and all of them
 * combined (`src/domain/domain-events.ts`). It answers the version to write, turns stored data of
 * any version into the current one (upcasting), and checks it against the schema (decoding).
 */
export class EventRegistry<Definition extends EventDefinition = EventDefinition> {
  private readonly byType = new Map<string, Definition>();

  constructor(readonly definitions: readonly Definition[]) {
    for (const definition of definitions) {
      if (this.byType.has(definition.type)) throw new Error(`event type ${definition.type} is defined twice`);
      this.byType.set(definition.type, definition);
    }
  }

  /** A registry with the events of every given one; a type name defined twice is an error. */
  static combine<Registries extends EventRegistry[]>(...registries: Registries): EventRegistry<Registries[number]['definitions'][number]> {
    return new EventRegistry(registries.flatMap((registry) => registry.definitions));
  }

  has(type: string): boolean {
    return this.byType.has(type);
  }

  definition(type: string): Definition | undefined {
    return this.byType.get(type);
  }

  /** The version events of this type are written with now. */
  currentVersion(type: string): number {
    return this.required(type).version;
  }

  /** The data of a new event as it is stored (the definition's storage form, if it has one). */
  toStored(type: string, data: object): Record<string, unknown> {
    const storage = this.required(type).storage as EventStorage | undefined;
    return storage ? storage.toStored(data) : (data as Record<string, unknown>);
  }

  /**
   * Stored data of `version` as data of the current version, through each upcaster in turn, then out
   * of the definition's storage form if it has one. Data
   * newer than the code (written by a later release) cannot be read by this one: EventDataError.
   */
  upcast(type: string, version: number, data: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const definition = this.required(type);
    if (version > definition.version) {
      throw new EventDataError(type, `stored with schema version ${version}, newer than this code's ${definition.version}`);
    }
    // Copied only for the upcasters (their input is theirs): data already at the current version is
    // passed on as it is (neither fromStored nor the schema's parse changes its input).
    let current = (version < definition.version ? { ...data } : data) as Record<string, unknown>;
    for (let from = version; from < definition.version; from++) current = definition.upcasters[from](current);
    return definition.storage ? definition.storage.fromStored(current) : current;
  }

  /** Upcasts, then checks the data against the current schema: a typed domain event, or EventDataError. */
  decode(type: string, version: number, data: Readonly<Record<string, unknown>>): EventOf<Definition> {
    const definition = this.required(type);
    const parsed = definition.data.safeParse(this.upcast(type, version, data));
    if (!parsed.success) throw new EventDataError(type, describeIssues(parsed.error.issues));
    return { type: definition.type, data: parsed.data } as EventOf<Definition>;
  }

  private required(type: string): Definition {
    const definition = this.byType.get(type);
    if (!definition) throw new EventDataError(type, 'not an event type this code knows');
    return definition;
  }
}
