// The pair's secrets, the 3scale service token and the Redis AUTH token (and the reporter's porta access
// token when one is configured), live in SSM Parameter Store as SecureStrings (encrypted with the slot's own
// KMS key), never in the functions' configuration: the environment names the parameters, and each container
// reads its own on its first invocation, then keeps them for its life.
//
// They are read through the AWS Parameters and Secrets Lambda Extension (a layer of AWS's, running beside
// the function in its execution environment): one HTTP GET a parameter on loopback, with the execution
// environment's session token as the extension requires. No AWS SDK is loaded in the function: loading the
// runtime's SSM client cost a cold start 134 ms, more than the rest of the authorizer (README, figures).
// The extension is ready only once the Init phase ends (it answers 400 "not ready to serve traffic" before),
// so the read starts with the first invocation, never at module load.
//
// The read is bounded (SECRETS_TIMEOUT_MS, counted among the authorizer's bounds), concurrent callers
// share it, and after a failure no new read starts before a back-off (1 s, doubling, at most 30 s): a
// store that hangs costs one request's wait per back-off, and callers meanwhile are refused at once so
// the failure mode can answer. Messages name the parameter and the cause, never a value.
import * as http from "http";
import type { Environment } from "./settings";

/** Names of the parameters holding the secrets, as the environment gives them ("" for a Redis without AUTH, or no porta). */
export interface SecretParameters {
    serviceToken: string;
    redisAuthToken: string;
    /** The reporter's alone, and only with porta configured (threescale:accessToken); unset or "" otherwise. */
    portaAccessToken?: string;
}

export interface PairSecrets {
    serviceToken: string;
    /** "" when Redis has no AUTH. */
    redisAuthToken: string;
    /** Only when a porta access token's parameter is named (the reporter's, with porta configured). */
    portaAccessToken?: string;
}

/** The environment variables that name the parameters (the program writes them, settings.ts reads them). */
export const SECRET_PARAMETER_VARIABLES: Record<keyof SecretParameters, string> = {
    serviceToken: "THREESCALE_SERVICE_TOKEN_PARAMETER",
    redisAuthToken: "REDIS_AUTH_TOKEN_PARAMETER",
    portaAccessToken: "THREESCALE_ACCESS_TOKEN_PARAMETER",
};

/** Bound on reading the secrets at cold start. Here because config.ts counts it among the authorizer's bounds. */
export const SECRETS_TIMEOUT_MS = 1000;

const FIRST_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

/** The secrets could not be read; the message names what and why, never a value. */
export class SecretsUnavailable extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SecretsUnavailable";
    }
}

export interface SecretsReaderOptions {
    /** Where the extension's port (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT) and the session token it requires (AWS_SESSION_TOKEN) are. */
    env: Environment;
    timeoutMs?: number;
    now?: () => number;
    log?: (message: string) => void;
}

export interface SecretsReader {
    /**
     * The secrets: read on the first call (callers share the read), then kept. During a back-off after a
     * failed read, rejects at once with the last failure.
     */
    get(): Promise<PairSecrets>;
}

/** Where the extension serves parameters (AWS Systems Manager user guide, "Using Parameter Store parameters in AWS Lambda functions"). */
const EXTENSION_PATH = "/systemsmanager/parameters/get";
/**
 * The guide says localhost; the address itself spares a cold start the DNS lookup (loading `dns` and
 * starting libuv's thread pool: 11 ms here). Lambda's execution environment is reached on IPv4 loopback:
 * its own Runtime API is AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001.
 */
const EXTENSION_HOST = "127.0.0.1";
const EXTENSION_DEFAULT_PORT = 2773;
/** A GetParameter reply holds one parameter of at most 8 KB (advanced tier) and its metadata. */
const MAX_REPLY_BYTES = 64 * 1024;
/** How much of an error reply a message quotes (the extension sends a generic line; the cause is in its log). */
const QUOTED_BYTES = 120;

class ReadFailure extends Error {}

/** The extension's port: PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, which the extension itself reads, else its default. */
function extensionPort(env: Environment): number {
    const raw = env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT;
    if (raw === undefined || raw === "") return EXTENSION_DEFAULT_PORT;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ReadFailure(`PARAMETERS_SECRETS_EXTENSION_HTTP_PORT is ${JSON.stringify(raw)}, expected a port from 1 to 65535`);
    return port;
}

/**
 * One parameter's value, decrypted, through the extension: a GET on loopback with the session token the
 * extension requires. node:http rather than fetch: fetch's first use loads undici, which a cold start
 * would pay for (README, figures).
 */
function readParameter(name: string, env: Environment, timeoutMs: number): Promise<string> {
    const token = env.AWS_SESSION_TOKEN;
    if (!token) return Promise.reject(new ReadFailure("AWS_SESSION_TOKEN is not set; the Parameters and Secrets extension requires it as X-Aws-Parameters-Secrets-Token"));
    let port: number;
    try {
        port = extensionPort(env);
    } catch (e) {
        return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
        const request = http.get({
            host: EXTENSION_HOST, port, agent: false, timeout: timeoutMs,
            path: `${EXTENSION_PATH}?name=${encodeURIComponent(name)}&withDecryption=true`,
            headers: { "X-Aws-Parameters-Secrets-Token": token },
            signal: AbortSignal.timeout(timeoutMs),
        }, (response) => {
            const chunks: Buffer[] = [];
            let size = 0;
            response.on("data", (chunk: Buffer) => {
                size += chunk.length;
                if (size > MAX_REPLY_BYTES) {
                    response.destroy();
                    reject(new ReadFailure(`a reply over ${MAX_REPLY_BYTES} bytes`));
                } else chunks.push(chunk);
            });
            response.on("error", reject);
            response.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                if (response.statusCode !== 200) {
                    const quoted = text.slice(0, QUOTED_BYTES).replace(/[^\x20-\x7e]/g, "?");
                    return reject(new ReadFailure(`the extension answered ${response.statusCode} "${quoted}" (a parameter that does not exist or the role may not read answers 400; the cause is in the function's log)`));
                }
                try {
                    const value = (JSON.parse(text) as { Parameter?: { Value?: unknown } }).Parameter?.Value;
                    if (typeof value !== "string") return reject(new ReadFailure("the extension's reply holds no Parameter.Value"));
                    resolve(value);
                } catch {
                    reject(new ReadFailure("the extension's reply is not JSON"));
                }
            });
        });
        request.on("timeout", () => request.destroy(Object.assign(new Error("timeout"), { name: "TimeoutError" })));
        request.on("error", reject);
    });
}

function causeOf(e: unknown, timeoutMs: number): string {
    const err = e as Error & { code?: string; cause?: { code?: string } };
    if (err instanceof ReadFailure) return err.message;
    if (err.name === "TimeoutError" || err.name === "AbortError") return `no answer within ${timeoutMs} ms`;
    const code = err.code ?? err.cause?.code;
    if (code === "ECONNREFUSED") return "the Parameters and Secrets extension is not listening (ECONNREFUSED): is its layer on the function?";
    if (code !== undefined) return `the Parameters and Secrets extension is unreachable (${code})`;
    return `${err.name}: ${err.message}`;
}

export function createSecretsReader(parameters: SecretParameters, options: SecretsReaderOptions): SecretsReader {
    const timeoutMs = options.timeoutMs ?? SECRETS_TIMEOUT_MS;
    const now = options.now ?? Date.now;
    const log = options.log ?? ((m: string) => console.warn(m));
    const wanted = (Object.keys(SECRET_PARAMETER_VARIABLES) as (keyof SecretParameters)[]).filter((k) => (parameters[k] ?? "") !== "");
    let secrets: PairSecrets | undefined;
    let reading: Promise<PairSecrets> | undefined;
    let failure: { error: SecretsUnavailable; retryAt: number; backoffMs: number } | undefined;

    // One GET a parameter, side by side; each failure names its variable and parameter.
    const read = async (): Promise<PairSecrets> => {
        const results = await Promise.allSettled(wanted.map((k) => readParameter(parameters[k] ?? "", options.env, timeoutMs)));
        const out: PairSecrets = { serviceToken: "", redisAuthToken: "" };
        const problems: string[] = [];
        wanted.forEach((k, i) => {
            const result = results[i];
            const named = `${SECRET_PARAMETER_VARIABLES[k]} names ${parameters[k] ?? ""}`;
            if (result.status === "rejected") problems.push(`${named}, which could not be read: ${causeOf(result.reason, timeoutMs)}`);
            else if (result.value.trim() === "") problems.push(`${named}, which is empty`);
            else out[k] = result.value;
        });
        if (problems.length > 0) throw new SecretsUnavailable(problems.join("; "));
        return out;
    };

    return {
        get() {
            if (secrets) return Promise.resolve(secrets);
            if (reading) return reading;
            if (failure && now() < failure.retryAt) {
                return Promise.reject(new SecretsUnavailable(`${failure.error.message} (next read in ${Math.ceil((failure.retryAt - now()) / 1000)} s)`));
            }
            reading = read().then((s) => {
                secrets = s;
                failure = undefined;
                return s;
            }, (e: SecretsUnavailable) => {
                const backoffMs = failure ? Math.min(MAX_BACKOFF_MS, failure.backoffMs * 2) : FIRST_BACKOFF_MS;
                failure = { error: e, retryAt: now() + backoffMs, backoffMs };
                log(`secrets: ${e.message}; next read in ${backoffMs / 1000} s`);
                throw e;
            }).finally(() => {
                reading = undefined;
            });
            return reading;
        },
    };
}
