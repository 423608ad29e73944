// One ioredis client per Lambda container, shaped for an authorizer that must never hang:
// every command is bounded by `commandTimeout`, a broken connection reconnects in the
// background while callers skip Redis at once (see `redisUsable`), and TLS + AUTH match
// how ElastiCache runs with encryption in transit and an AUTH token.
import type { ConnectionOptions } from "tls";
import { Redis } from "ioredis";
import { AuthorizerSettings } from "./settings";

export type RedisSettings = AuthorizerSettings["redis"];

export interface RedisClientOptions {
    /** Extra TLS options (tests pass their own CA; ElastiCache's chain is in Node's store). */
    tls?: ConnectionOptions;
    /** Bound on establishing a connection, in milliseconds (default: max(1000, 4 x timeoutMs)). */
    connectTimeoutMs?: number;
    /** Where connection errors are reported (default: console.warn, once per outage). */
    log?: (message: string) => void;
}

/** Creates the container's Redis client. Call once per container, reuse across invocations. */
export function createRedisClient(settings: RedisSettings, options: RedisClientOptions = {}): Redis {
    const log = options.log ?? ((m: string) => console.warn(m));
    const client = new Redis({
        host: settings.host,
        port: settings.port,
        password: settings.authToken === "" ? undefined : settings.authToken,
        tls: settings.tls ? { servername: settings.host, ...options.tls } : undefined,
        connectTimeout: options.connectTimeoutMs ?? Math.max(1000, 4 * settings.timeoutMs),
        // Every command, queued or written, fails after the bound instead of waiting.
        commandTimeout: settings.timeoutMs,
        // Commands issued before the first connection wait (bounded by commandTimeout);
        // during an outage callers skip Redis before queueing (redisUsable).
        enableOfflineQueue: true,
        // A command caught by a disconnect fails at once: the authorizer goes to 3scale.
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        // Reconnect forever in the background, quickly at first, at most every 2 s.
        retryStrategy: (times: number) => Math.min(50 * times, 2000),
        keepAlive: 10_000,
        lazyConnect: false,
    });
    let outage = false;
    client.on("error", (e: Error) => {
        if (!outage) log(`redis ${settings.host}:${settings.port}: ${e.message}`);
        outage = true;
    });
    client.on("ready", () => {
        outage = false;
    });
    return client;
}

/**
 * Whether a command is worth sending now: yes while connected or making the first
 * connection (bounded by commandTimeout); no while reconnecting after a failure, so a
 * dead Redis costs nothing per request.
 */
export function redisUsable(client: Redis): boolean {
    return client.status === "ready" || client.status === "wait" || client.status === "connecting" || client.status === "connect";
}

/** Races a promise against a timer; the timer never keeps the process alive. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
        timer.unref();
    });
    return Promise.race([work, bound]).finally(() => clearTimeout(timer));
}
