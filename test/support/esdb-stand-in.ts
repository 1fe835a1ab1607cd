import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb';
import { AppendReq, AppendResp, ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb';
import { Empty, StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb';

/**
 * A STAND-IN for EventStoreDB, not an engine: an in-memory gRPC server speaking the Streams
 * service of the client's own generated protocol code (`@eventstore/db-client/generated`), so the
 * real client (6.2.1) runs against it unchanged. It exists because no EventStoreDB can run here.
 *
 * It models only what our adapter's use of the client depends on, the way the real server
 * behaves (docs/event-store.md lists the facts): `$all` reads honour `count` and count system
 * events; a read call stays open, under HTTP/2 flow control, until all it asked for is sent or the
 * client cancels; at most 100 concurrent calls per connection; appends over `maxAppendSizeBytes`
 * are refused with `maximum-append-size-exceeded`; exact expected revisions with the same event
 * ids are idempotent. Switches reproduce what a shared or old server does: foreign events, `$all`
 * read denied, the pre-22.6 sentinel position on stream reads, subscriptions the server ends.
 * It does not implement ServerFeatures, so the client uses the plain `Append` call (as with a
 * server that does not announce batch appends). Not modelled: clustering, ACLs beyond `$all`,
 * persistence, scavenging, links, stream metadata, deletes.
 */

export interface StandInEvent {
  streamId: string;
  revision: bigint;
  id: string;
  type: string;
  contentType: string;
  data: Uint8Array;
  metadata: Uint8Array;
  position: bigint;
  createdTicks: bigint;
}

export interface StandInOptions {
  /** EventStoreDB's MaxAppendSize: 1 MiB by default. */
  maxAppendSizeBytes?: number;
  /** The server's concurrent streams per HTTP/2 connection (100 by default on EventStoreDB's Kestrel). */
  maxConcurrentStreams?: number;
}

const SENTINEL = '18446744073709551615';

interface OpenCall {
  kind: 'read-all' | 'read-stream' | 'subscription' | 'append';
  end(): void;
}

interface AppendRecord {
  streamId: string;
  expected: 'any' | 'no_stream' | 'stream_exists' | bigint;
  events: number;
  bytes: number;
}

export class EsdbStandIn {
  readonly events: StandInEvent[] = [];
  /** Every append received, accepted or not, in order. */
  readonly appends: AppendRecord[] = [];
  /** Read and subscription calls received so far. */
  readCalls = 0;
  /** `$all` reads (and subscriptions) answer PERMISSION_DENIED / access-denied. */
  denyAllReads = false;
  /** Stream reads answer positions as servers before 22.6 did. */
  oldServerSentinel = false;
  /** When set: this many more appends succeed, then one fails (UNAVAILABLE, nothing written). */
  appendsBeforeFailure: number | undefined;
  private readonly server: grpc.Server;
  private readonly open = new Set<OpenCall>();
  private readonly liveListeners = new Set<() => void>();
  private nextPosition = 1_000n;
  private port = 0;

  constructor(private readonly options: StandInOptions = {}) {
    this.server = new grpc.Server({ 'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? 100 });
    this.server.addService(StreamsService, {
      read: (call: grpc.ServerWritableStream<ReadReq, ReadResp>) => void this.read(call),
      append: (call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>) => this.append(call, callback),
    } as unknown as grpc.UntypedServiceImplementation);
  }

  async start(): Promise<void> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
    );
  }

  /** Connection string for the client. */
  get connectionString(): string {
    return `esdb://127.0.0.1:${this.port}?tls=false`;
  }

  /** Read calls and subscriptions the server still holds open (not ended, not cancelled). */
  openCalls(kind?: OpenCall['kind']): number {
    return [...this.open].filter((call) => kind === undefined || call.kind === kind).length;
  }

  /** Ends every live subscription normally (status OK), as a node stepping down may. */
  endSubscriptions(): void {
    for (const call of [...this.open]) if (call.kind === 'subscription') call.end();
  }

  async stop(): Promise<void> {
    for (const call of [...this.open]) call.end();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  /** Writes an event directly (system events, events other programs wrote). */
  seed(event: { streamId: string; type: string; data: Uint8Array | string; metadata?: Uint8Array | string; contentType?: string; id?: string }): StandInEvent {
    const revision = BigInt(this.events.filter((e) => e.streamId === event.streamId).length);
    const recorded: StandInEvent = {
      streamId: event.streamId,
      revision,
      id: event.id ?? randomUUID(),
      type: event.type,
      contentType: event.contentType ?? 'application/json',
      data: typeof event.data === 'string' ? Buffer.from(event.data, 'utf8') : event.data,
      metadata: event.metadata === undefined ? new Uint8Array() : typeof event.metadata === 'string' ? Buffer.from(event.metadata, 'utf8') : event.metadata,
      position: this.takePosition(),
      createdTicks: BigInt(Date.now()) * 10_000n, // 100 ns ticks since the Unix epoch, as the server sends them
    };
    this.events.push(recorded);
    this.notifyLive();
    return recorded;
  }

  private takePosition(): bigint {
    const position = this.nextPosition;
    this.nextPosition += 137n; // positions are byte offsets in the log: increasing, not consecutive
    return position;
  }

  private notifyLive(): void {
    for (const listener of [...this.liveListeners]) listener();
  }

  private track(kind: OpenCall['kind'], end: () => void): OpenCall {
    const call: OpenCall = { kind, end };
    this.open.add(call);
    return call;
  }

  private async read(call: grpc.ServerWritableStream<ReadReq, ReadResp>): Promise<void> {
    this.readCalls += 1;
    const options = call.request.getOptions();
    if (!options) return void call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'no options' });
    let cancelled = false;
    let ended = false;
    const isSubscription = options.hasSubscription();
    const kind: OpenCall['kind'] = isSubscription ? 'subscription' : options.hasAll() ? 'read-all' : 'read-stream';
    let wake: (() => void) | undefined;
    const tracked = this.track(kind, () => {
      if (ended) return;
      ended = true;
      this.open.delete(tracked);
      wake?.();
      call.end();
    });
    const finish = () => tracked.end();
    call.on('cancelled', () => {
      cancelled = true;
      ended = true;
      this.open.delete(tracked);
      wake?.();
    });
    call.on('error', () => {
      cancelled = true;
      this.open.delete(tracked);
      wake?.();
    });
    /** Writes under flow control: the call stays open while the client does not read. */
    const send = async (response: ReadResp): Promise<boolean> => {
      if (cancelled || ended) return false;
      if (!call.write(response)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          call.once('drain', resolve);
        });
      }
      return !cancelled && !ended;
    };

    if (options.hasStream()) {
      const streamOptions = options.getStream()!;
      const streamId = Buffer.from(streamOptions.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8');
      const forwards = options.getReadDirection() === ReadReq.Options.ReadDirection.FORWARDS;
      let stream = this.events.filter((e) => e.streamId === streamId);
      if (stream.length === 0) {
        const notFound = new ReadResp.StreamNotFound();
        notFound.setStreamIdentifier(identifier(streamId));
        const response = new ReadResp();
        response.setStreamNotFound(notFound);
        await send(response);
        return finish();
      }
      if (!forwards) stream = [...stream].reverse();
      if (streamOptions.hasRevision()) {
        const from = BigInt(streamOptions.getRevision());
        stream = stream.filter((e) => (forwards ? e.revision >= from : e.revision <= from));
      }
      const count = Number(options.getCount() || '0');
      for (const event of stream.slice(0, count)) {
        if (!(await send(this.eventResponse(event, 'stream')))) return;
      }
      return finish();
    }

    if (this.denyAllReads) {
      const metadata = new grpc.Metadata();
      metadata.set('exception', 'access-denied');
      this.open.delete(tracked);
      ended = true;
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'Access Denied', metadata });
      return;
    }

    const allOptions = options.getAll()!;
    const forwards = options.getReadDirection() === ReadReq.Options.ReadDirection.FORWARDS;
    const typeRegex = options.hasFilter() && options.getFilter()!.hasEventType() ? new RegExp(options.getFilter()!.getEventType()!.getRegex()) : undefined;
    const accepts = (event: StandInEvent) => typeRegex === undefined || typeRegex.test(event.type);

    if (isSubscription) {
      const confirmation = new ReadResp.SubscriptionConfirmation();
      confirmation.setSubscriptionId(randomUUID());
      const confirmed = new ReadResp();
      confirmed.setConfirmation(confirmation);
      if (!(await send(confirmed))) return;
      // A subscription from a position delivers what comes strictly after it.
      let after = allOptions.hasPosition() ? BigInt(allOptions.getPosition()!.getCommitPosition()) : allOptions.hasEnd() ? this.nextPosition : -1n;
      for (;;) {
        const pending = this.events.filter((e) => e.position > after);
        for (const event of pending) {
          after = event.position;
          if (!accepts(event)) continue;
          if (!(await send(this.eventResponse(event, 'all')))) return;
        }
        if (cancelled || ended) return;
        if (this.events.length > 0 && this.events[this.events.length - 1]!.position > after) continue; // appended while sending
        await new Promise<void>((resolve) => {
          const listener = () => {
            this.liveListeners.delete(listener);
            resolve();
          };
          wake = listener;
          this.liveListeners.add(listener);
        });
        if (cancelled || ended) return;
      }
    }

    // $all read: from a position inclusive, `count` events including system ones.
    let all = forwards ? this.events : [...this.events].reverse();
    if (allOptions.hasPosition()) {
      const from = BigInt(allOptions.getPosition()!.getCommitPosition());
      all = all.filter((e) => (forwards ? e.position >= from : e.position <= from));
    } else if (allOptions.hasEnd() && forwards) {
      all = [];
    }
    const count = Number(options.getCount() || '0');
    for (const event of all.slice(0, count)) {
      if (!(await send(this.eventResponse(event, 'all')))) return;
    }
    finish();
  }

  private eventResponse(event: StandInEvent, read: 'all' | 'stream'): ReadResp {
    const recorded = new ReadResp.ReadEvent.RecordedEvent();
    const id = new UUID();
    id.setString(event.id);
    recorded.setId(id);
    recorded.setStreamIdentifier(identifier(event.streamId));
    recorded.setStreamRevision(event.revision.toString());
    const position = read === 'stream' && this.oldServerSentinel ? SENTINEL : event.position.toString();
    recorded.setCommitPosition(position);
    recorded.setPreparePosition(position);
    recorded.getMetadataMap().set('type', event.type);
    recorded.getMetadataMap().set('content-type', event.contentType);
    recorded.getMetadataMap().set('created', event.createdTicks.toString());
    recorded.setData(event.data);
    recorded.setCustomMetadata(event.metadata);
    const readEvent = new ReadResp.ReadEvent();
    readEvent.setEvent(recorded);
    if (read === 'all') readEvent.setCommitPosition(event.position.toString());
    else readEvent.setNoPosition(new Empty());
    const response = new ReadResp();
    response.setEvent(readEvent);
    return response;
  }

  private append(call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>): void {
    let options: AppendReq.Options | undefined;
    const proposed: AppendReq.ProposedMessage[] = [];
    call.on('data', (request: AppendReq) => {
      if (request.hasOptions()) options = request.getOptions();
      else if (request.hasProposedMessage()) proposed.push(request.getProposedMessage()!);
    });
    call.on('end', () => {
      if (!options) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'no options' });
      callback(null, this.decideAppend(options, proposed, callback));
    });
  }

  private decideAppend(options: AppendReq.Options, proposed: AppendReq.ProposedMessage[], callback: grpc.sendUnaryData<AppendResp>): AppendResp | undefined {
    const streamId = Buffer.from(options.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8');
    const expected: AppendRecord['expected'] = options.hasRevision()
      ? BigInt(options.getRevision())
      : options.hasNoStream()
        ? 'no_stream'
        : options.hasStreamExists()
          ? 'stream_exists'
          : 'any';
    const bytes = proposed.reduce((sum, message) => sum + message.getData_asU8().length + message.getCustomMetadata_asU8().length, 0);
    this.appends.push({ streamId, expected, events: proposed.length, bytes });
    const maxAppendSize = this.options.maxAppendSizeBytes ?? 1024 * 1024;
    if (bytes > maxAppendSize) {
      const metadata = new grpc.Metadata();
      metadata.set('exception', 'maximum-append-size-exceeded');
      metadata.set('maximum-append-size', String(maxAppendSize));
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `Maximum Append Size of ${maxAppendSize} Exceeded.`, metadata });
      return undefined;
    }
    if (this.appendsBeforeFailure !== undefined) {
      if (this.appendsBeforeFailure === 0) {
        this.appendsBeforeFailure = undefined;
        callback({ code: grpc.status.UNAVAILABLE, details: 'stand-in: connection lost before the write' });
        return undefined;
      }
      this.appendsBeforeFailure -= 1;
    }
    const stream = this.events.filter((e) => e.streamId === streamId);
    const current = stream.length === 0 ? -1n : stream[stream.length - 1]!.revision;
    const ids = proposed.map((message) => message.getId()!.getString());
    // Idempotency as the server does it: for an exact expected revision, the same ids right after it;
    // otherwise (best effort on the server, from its cache of recent ids), the same ids in a row anywhere.
    const firstIndex = stream.findIndex((event) => event.id === ids[0]);
    const from = expected === 'no_stream' ? 0n : typeof expected === 'bigint' ? expected + 1n : firstIndex >= 0 ? BigInt(firstIndex) : undefined;
    if (from !== undefined && current >= from) {
      const already = stream.slice(Number(from), Number(from) + ids.length);
      if (already.length === ids.length && already.every((event, index) => event.id === ids[index])) {
        return success(already[already.length - 1]!.revision, already[already.length - 1]!.position);
      }
    }
    const matches =
      expected === 'any' || (expected === 'no_stream' && current === -1n) || (expected === 'stream_exists' && current >= 0n) || expected === current;
    if (!matches) {
      const wrong = new AppendResp.WrongExpectedVersion();
      if (current >= 0n) wrong.setCurrentRevision(current.toString());
      else wrong.setCurrentNoStream(new Empty());
      if (typeof expected === 'bigint') wrong.setExpectedRevision(expected.toString());
      else if (expected === 'no_stream') wrong.setExpectedNoStream(new Empty());
      else if (expected === 'stream_exists') wrong.setExpectedStreamExists(new Empty());
      else wrong.setExpectedAny(new Empty());
      const response = new AppendResp();
      response.setWrongExpectedVersion(wrong);
      return response;
    }
    let last: StandInEvent | undefined;
    for (const message of proposed) {
      const metadata = message.getMetadataMap();
      last = this.seed({
        streamId,
        id: message.getId()!.getString(),
        type: metadata.get('type') ?? '',
        contentType: metadata.get('content-type') ?? 'application/octet-stream',
        data: message.getData_asU8(),
        metadata: message.getCustomMetadata_asU8(),
      });
    }
    return success(last!.revision, last!.position);
  }
}

function identifier(streamId: string): StreamIdentifier {
  const id = new StreamIdentifier();
  id.setStreamName(Buffer.from(streamId, 'utf8'));
  return id;
}

function success(revision: bigint, position: bigint): AppendResp {
  const ok = new AppendResp.Success();
  ok.setCurrentRevision(revision.toString());
  const grpcPosition = new AppendResp.Position();
  grpcPosition.setCommitPosition(position.toString());
  grpcPosition.setPreparePosition(position.toString());
  ok.setPosition(grpcPosition);
  const response = new AppendResp();
  response.setSuccess(ok);
  return response;
}
