// The pair's secrets, the 3scale service token and the Redis AUTH token (and the reporter's porta access
// token when one is configured), live in SSM Parameter Store as SecureStrings (encrypted with the slot's own KMS key), never in the functions' configuration: the
// environment names the parameters, and each container reads its own at cold start in one `GetParameters`
// call through the AWS SDK the Lambda runtime ships, then keeps them for its life.
//
// The read is bounded (SECRETS_TIMEOUT_MS, counted among the authorizer's bounds), concurrent callers
// share it, and after a failure no new read starts before a back-off (1 s, doubling, at most 30 s): a
// store that hangs costs one request's wait per back-off, and callers meanwhile are refused at once so
// the failure mode can answer. Messages name the parameter and the cause, never a value.
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
    /** Where the SDK finds its region, credentials and endpoint override (AWS_ENDPOINT_URL_SSM). */
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

type Ssm = typeof import("@aws-sdk/client-ssm");

/** One GetParameters call for the names given; the values by name. */
async function readParameters(names: string[], env: Environment, timeoutMs: number): Promise<{ values: Map<string, string>; invalid: string[] }> {
    // Loaded here, not at module load: the runtime's SDK is needed only for this one call.
    const ssm: Ssm = await import("@aws-sdk/client-ssm");
    const explicit = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN } }
        : {};
    const client = new ssm.SSMClient({
        region: env.AWS_REGION,
        // The SDK honours AWS_ENDPOINT_URL_SSM in process.env itself; `env` may be another map (tests, the local run).
        endpoint: env.AWS_ENDPOINT_URL_SSM || env.AWS_ENDPOINT_URL || undefined,
        maxAttempts: 1,
        // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes.
        requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true },
        ...explicit,
    });
    try {
        const reply = await client.send(new ssm.GetParametersCommand({ Names: names, WithDecryption: true }), { abortSignal: AbortSignal.timeout(timeoutMs) });
        const values = new Map<string, string>();
        for (const p of reply.Parameters ?? []) if (p.Name !== undefined && p.Value !== undefined) values.set(p.Name, p.Value);
        return { values, invalid: reply.InvalidParameters ?? [] };
    } finally {
        client.destroy();
    }
}

function causeOf(e: unknown, timeoutMs: number): string {
    const err = e as Error & { code?: string; cause?: { code?: string } };
    if (err.name === "TimeoutError" || err.name === "AbortError") return `no answer within ${timeoutMs} ms`;
    const code = err.code ?? err.cause?.code;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ETIMEDOUT") return `the parameter store is unreachable (${code})`;
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

    const read = async (): Promise<PairSecrets> => {
        const names = [...new Set(wanted.map((k) => parameters[k] ?? ""))];
        let got: Awaited<ReturnType<typeof readParameters>>;
        try {
            got = await readParameters(names, options.env, timeoutMs);
        } catch (e) {
            throw new SecretsUnavailable(`could not read ${names.join(", ")}: ${causeOf(e, timeoutMs)}`);
        }
        const out: PairSecrets = { serviceToken: "", redisAuthToken: "" };
        const problems: string[] = [];
        for (const k of wanted) {
            const name = parameters[k] ?? "";
            const value = got.values.get(name);
            if (value === undefined) problems.push(`${SECRET_PARAMETER_VARIABLES[k]} names ${name}, which was not found (or is not readable)`);
            else if (value.trim() === "") problems.push(`${SECRET_PARAMETER_VARIABLES[k]} names ${name}, which is empty`);
            else out[k] = value;
        }
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
