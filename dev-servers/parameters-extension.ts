// A development stand-in for the AWS Parameters and Secrets Lambda Extension, the companion process the
// pair's functions read their secrets through (handlers/secrets.ts), for the tests, the benchmarks and the
// local run. Like the real extension it is a separate process's HTTP server on loopback that calls
// Parameter Store with its own SDK (here the Parameter Store stand-in, dev-servers/parameter-store.ts,
// through the real AWS SDK), so the function under test loads no SDK.
//
// Built from:
//   https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-integration-lambda-extensions.html
//     - `GET /systemsmanager/parameters/get?name=<URL-encoded name>&withDecryption=true` (version= or label=
//       optional), on PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (default 2773);
//     - the header X-Aws-Parameters-Secrets-Token carries the function's session token (AWS_SESSION_TOKEN);
//     - it calls ssm:GetParameter (one parameter a call) with the function's role; a SecureString comes back
//       decrypted only with withDecryption=true;
//     - values are cached for SSM_PARAMETER_STORE_TTL (default 300 s, at most 300; 0 bypasses the cache);
//     - SSM_PARAMETER_STORE_TIMEOUT_MILLIS defaults to 0, no timeout: a Parameter Store that hangs, hangs it;
//     - "The extension can be invoked only in the INVOKE phase ... and not during the INIT phase."
//   Lambda starts the runtime's init once the extensions have registered, not once they are ready (AWS's
//   explanation quoted in hashicorp/vault-lambda-extension issue 31): before `ready()` nothing listens.
//   Replies captured from the real extension (fedonev/lambda-params-secrets, data/test-responses.json):
//   200 with GetParameter's JSON (`LastModifiedDate` as an ISO string) plus `"ResultMetadata": {}`; a
//   parameter that does not exist or is not readable, or a bad version, is 400 with the generic text body
//   "an unexpected error occurred while executing request" (the cause goes to the function's logs only).
// Not documented anywhere found, so taken from its sister, the AWS Secrets Manager Agent (aws/aws-secretsmanager-agent
// src/server.rs), which uses the same header: a missing or wrong token is 403 "Bad Token", another path
// 404, another method 405. The functions treat every status but 200 alike, so these choices move no test.
// What it does not do: labels, Secrets Manager paths (/secretsmanager/get, /aws/reference/secretsmanager/),
// connection limits, its own logs.
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import * as http from "http";
import { listenOnLoopback } from "./loopback";
import type { ParameterStore } from "./parameter-store";

export const EXTENSION_GET_PATH = "/systemsmanager/parameters/get";
const GENERIC_ERROR = "an unexpected error occurred while executing request";
const DEFAULT_TTL_SECONDS = 300;

/** "down": nothing listens (before the Init phase ends, or the extension crashed); "hang": accepts and never answers. */
export type ExtensionFault = "none" | "down" | "hang";

export interface ExtensionCall {
    /** The parameter's name as decoded from the query ("" when none). */
    name: string;
    withDecryption: boolean;
    /** Whether the session token header matched. */
    token: boolean;
    status: number;
    /** Answered from the extension's cache, without a Parameter Store call. */
    cached: boolean;
}

export interface ParametersExtension {
    port: number;
    /** The Parameter Store stand-in it reads through. */
    store: ParameterStore;
    /** Every request, in order. */
    calls: ExtensionCall[];
    /**
     * What a function's environment needs to reach it: its port, and the execution environment's credentials
     * Lambda sets for every function (the extension reads Parameter Store with them and requires their session
     * token on each request; the function's own SDK clients, SNS's, sign with them too).
     */
    functionEnvironment(): Record<string, string>;
    /** Starts listening: the end of the Init phase. Started ready unless `ready: false` was given. */
    ready(): Promise<void>;
    setFault(fault: ExtensionFault): Promise<void>;
    /** Empties the cache (a new execution environment's extension starts empty). */
    clearCache(): void;
    close(): Promise<void>;
}

export interface ParametersExtensionOptions {
    /** The Parameter Store stand-in it reads through. */
    store: ParameterStore;
    /** The execution environment's session token; a made-up one by default. */
    sessionToken?: string;
    /** SSM_PARAMETER_STORE_TTL in seconds (0: no cache). */
    ttlSeconds?: number;
    /** false: not listening until ready() (a function's module load happens before the extension is ready). */
    ready?: boolean;
    now?: () => number;
}

function isTrue(value: string | null): boolean {
    return value !== null && value.toLowerCase() === "true";
}

export async function startParametersExtension(options: ParametersExtensionOptions): Promise<ParametersExtension> {
    const sessionToken = options.sessionToken ?? "IQoJb3JpZ2luX2VjEXAMPLE-local-session-token";
    const ttlMs = Math.min(options.ttlSeconds ?? DEFAULT_TTL_SECONDS, DEFAULT_TTL_SECONDS) * 1000;
    const now = options.now ?? Date.now;
    const env = options.store.clientEnvironment();
    // The extension's own SDK client, signed with the function's credentials (never checked by the stand-in store).
    const ssm = new SSMClient({
        region: env.AWS_REGION,
        endpoint: env.AWS_ENDPOINT_URL_SSM,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken },
        maxAttempts: 1,
    });
    const cache = new Map<string, { body: string; until: number }>();
    const calls: ExtensionCall[] = [];
    let fault: ExtensionFault = "none";

    const answer = async (req: http.IncomingMessage): Promise<{ status: number; body: string; call: ExtensionCall }> => {
        const url = new URL(req.url ?? "/", "http://localhost");
        const name = url.searchParams.get("name") ?? "";
        const withDecryption = isTrue(url.searchParams.get("withDecryption"));
        const token = req.headers["x-aws-parameters-secrets-token"] === sessionToken;
        const call: ExtensionCall = { name, withDecryption, token, status: 200, cached: false };
        const fail = (status: number, body: string) => ({ status, body, call: { ...call, status } });
        if (req.method !== "GET") return fail(405, "Method not allowed");
        if (url.pathname !== EXTENSION_GET_PATH) return fail(404, "Not found");
        if (!token) return fail(403, "Bad Token");
        if (name === "") return fail(400, GENERIC_ERROR);
        const version = url.searchParams.get("version");
        const key = `${name}\0${version ?? ""}\0${withDecryption}`;
        const held = cache.get(key);
        if (held && now() < held.until) return { status: 200, body: held.body, call: { ...call, cached: true } };
        try {
            const reply = await ssm.send(new GetParameterCommand({ Name: version ? `${name}:${version}` : name, WithDecryption: withDecryption }));
            const p = reply.Parameter ?? {};
            const body = JSON.stringify({
                Parameter: {
                    ARN: p.ARN, DataType: p.DataType, LastModifiedDate: p.LastModifiedDate?.toISOString(), Name: p.Name,
                    Selector: version ? `:${version}` : null, SourceResult: null, Type: p.Type, Value: p.Value, Version: p.Version,
                },
                ResultMetadata: {},
            });
            if (ttlMs > 0) cache.set(key, { body, until: now() + ttlMs });
            return { status: 200, body, call };
        } catch {
            // Not found, not readable, throttled, unreachable: one generic 400 (the real one logs the cause).
            return fail(400, GENERIC_ERROR);
        }
    };

    const server = http.createServer((req, res) => {
        void (async () => {
            const { status, body, call } = await answer(req);
            calls.push(call);
            if (fault === "hang") return;
            res.writeHead(status, { "content-type": status === 200 ? "application/json" : "text/plain" });
            res.end(body);
        })().catch(() => res.destroy());
    });
    const loopback = await listenOnLoopback(server);
    let listening = true;
    if (options.ready === false) {
        await loopback.stop();
        listening = false;
    }
    const listen = async (on: boolean) => {
        if (on && !listening) await loopback.resume();
        if (!on && listening) await loopback.stop();
        listening = on;
    };
    return {
        port: loopback.port,
        store: options.store,
        calls,
        functionEnvironment: () => ({
            PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(loopback.port),
            AWS_REGION: env.AWS_REGION, AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: sessionToken,
        }),
        ready: () => listen(fault !== "down"),
        async setFault(next) {
            fault = next;
            await listen(next !== "down");
            if (next !== "hang") server.closeAllConnections();
        },
        clearCache: () => cache.clear(),
        async close() {
            await listen(false);
            ssm.destroy();
        },
    };
}
