// A development stand-in for AWS Systems Manager Parameter Store, for the tests, the benchmarks and the
// local run: an HTTP server speaking the AWS JSON 1.1 protocol of `GetParameter` and `GetParameters`
// as the AWS SDK for JavaScript v3 sends them (`POST /`, `X-Amz-Target: AmazonSSM.<operation>`,
// `Content-Type: application/x-amz-json-1.1`). The handlers reach it through the endpoint override the
// SDK honours, `AWS_ENDPOINT_URL_SSM`.
//
// Built from the API reference:
//   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
//   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html
//   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_Parameter.html
//   https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html
// - GetParameters takes 1 to 10 `Names` (each 1 to 2048 characters); a name it does not hold is listed in
//   `InvalidParameters` with status 200, and `Parameters` come in alphabetical order of name.
// - GetParameter answers 400 `ParameterNotFound` for a name it does not hold.
// - A SecureString is returned decrypted only with `WithDecryption: true`; otherwise its ciphertext
//   (base64), never the plain value. `WithDecryption` is ignored for String parameters.
// - Errors are 400 (500 for InternalServerError) with the type in `X-Amzn-ErrorType` and in the body's
//   `__type`, as the JSON protocols do; a request without a SigV4 `Authorization` header is refused with
//   `MissingAuthenticationTokenException`.
// What it does not do: check SigV4 signatures (it requires the header and that its credential scope names
// the `ssm` service, nothing more), KMS, IAM, labels, versions or ARNs as names, parameter policies.
import { randomBytes } from "crypto";
import * as http from "http";
import { listenOnLoopback } from "./loopback";

/** Faults for every request: "down" refuses connections, "hang" never answers, the others answer that error. */
export type ParameterStoreFault = "none" | "down" | "hang" | "5xx" | "throttle" | "denied";

export interface ParameterStoreCall {
    operation: string;
    names: string[];
    withDecryption: boolean;
    status: number;
}

export interface StoredParameter {
    name: string;
    /** Default SecureString. */
    type?: "String" | "SecureString";
    value: string;
}

export interface ParameterStore {
    /** The endpoint to hand the SDK (`AWS_ENDPOINT_URL_SSM`). */
    url: string;
    region: string;
    /** Creates or overwrites a parameter (a new version). */
    put(name: string, value: string, type?: "String" | "SecureString"): void;
    remove(name: string): void;
    /** Every request, in order. */
    calls: ParameterStoreCall[];
    /** What the AWS SDK reads to reach this stand-in: region, the endpoint override, throwaway credentials (never checked). */
    clientEnvironment(): Record<string, string>;
    setFault(fault: ParameterStoreFault): Promise<void>;
    close(): Promise<void>;
}

const CONTENT_TYPE = "application/x-amz-json-1.1";
const ACCOUNT = "123456789012";
const MAX_NAMES = 10;
const MAX_NAME_LENGTH = 2048;
/** Requests carry two small JSON fields; anything past this is not a Parameter Store request. */
const MAX_BODY_BYTES = 64 * 1024;

class ServiceError extends Error {
    constructor(readonly status: number, readonly type: string, message: string) {
        super(message);
    }
}

interface Held {
    type: "String" | "SecureString";
    value: string;
    version: number;
    modified: number;
    ciphertext: string;
}

function readBody(req: http.IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        req.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY_BYTES) {
                reject(new ServiceError(400, "ValidationException", "request body too large"));
                req.destroy();
                return;
            }
            chunks.push(c);
        });
        req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        req.on("error", reject);
    });
}

function checkName(name: unknown, member: string): string {
    if (typeof name !== "string" || name.length < 1 || name.length > MAX_NAME_LENGTH) {
        throw new ServiceError(400, "ValidationException", `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length between 1 and ${MAX_NAME_LENGTH}`);
    }
    return name;
}

export async function startParameterStore(options: { region?: string; parameters?: StoredParameter[] } = {}): Promise<ParameterStore> {
    const region = options.region ?? "us-east-1";
    const held = new Map<string, Held>();
    const calls: ParameterStoreCall[] = [];
    let fault: ParameterStoreFault = "none";

    const arnOf = (name: string): string => `arn:aws:ssm:${region}:${ACCOUNT}:parameter/${name.replace(/^\//, "")}`;
    const describe = (name: string, p: Held, withDecryption: boolean): Record<string, unknown> => ({
        Name: name,
        Type: p.type,
        Value: p.type === "SecureString" && !withDecryption ? p.ciphertext : p.value,
        Version: p.version,
        LastModifiedDate: p.modified / 1000,
        ARN: arnOf(name),
        DataType: "text",
    });

    const answer = (operation: string, input: Record<string, unknown>): Record<string, unknown> => {
        const withDecryption = input.WithDecryption === true;
        if (input.WithDecryption !== undefined && typeof input.WithDecryption !== "boolean") {
            throw new ServiceError(400, "ValidationException", "WithDecryption must be a boolean");
        }
        switch (operation) {
            case "GetParameter": {
                const name = checkName(input.Name, "name");
                const p = held.get(name);
                if (!p) throw new ServiceError(400, "ParameterNotFound", `Parameter ${name} not found.`);
                return { Parameter: describe(name, p, withDecryption) };
            }
            case "GetParameters": {
                const names = input.Names;
                if (!Array.isArray(names) || names.length < 1 || names.length > MAX_NAMES) {
                    throw new ServiceError(400, "ValidationException", `1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and ${MAX_NAMES}`);
                }
                const unique = [...new Set(names.map((n, i) => checkName(n, `names.${i + 1}.member`)))];
                const found = unique.filter((n) => held.has(n)).sort();
                return {
                    Parameters: found.map((n) => describe(n, held.get(n) as Held, withDecryption)),
                    InvalidParameters: unique.filter((n) => !held.has(n)),
                };
            }
            default:
                throw new ServiceError(400, "UnknownOperationException", `operation ${operation} is not served by this stand-in`);
        }
    };

    const server = http.createServer((req, res) => {
        void (async () => {
            let operation = "";
            let input: Record<string, unknown> = {};
            let status = 200;
            let body: Record<string, unknown>;
            let errorType: string | undefined;
            try {
                const body_ = await readBody(req);
                const target = String(req.headers["x-amz-target"] ?? "");
                operation = target.startsWith("AmazonSSM.") ? target.slice("AmazonSSM.".length) : target;
                const auth = String(req.headers.authorization ?? "");
                // SigV4: "AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, ..."
                const scope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request,/.exec(auth);
                if (!scope) throw new ServiceError(400, "MissingAuthenticationTokenException", "Missing Authentication Token");
                if (scope[1] !== "ssm") throw new ServiceError(400, "InvalidSignatureException", `Credential should be scoped to correct service: 'ssm'.`);
                if (req.method !== "POST" || !String(req.headers["content-type"] ?? "").startsWith(CONTENT_TYPE)) {
                    throw new ServiceError(400, "UnknownOperationException", "expected a POST of application/x-amz-json-1.1");
                }
                try {
                    input = body_ === "" ? {} : JSON.parse(body_) as Record<string, unknown>;
                } catch {
                    throw new ServiceError(400, "SerializationException", "the body is not JSON");
                }
                if (fault === "5xx") throw new ServiceError(500, "InternalServerError", "An error occurred on the server side.");
                if (fault === "throttle") throw new ServiceError(400, "ThrottlingException", "Rate exceeded");
                if (fault === "denied") throw new ServiceError(400, "AccessDeniedException", `User is not authorized to perform: ssm:${operation}`);
                body = answer(operation, input);
            } catch (e) {
                if (!(e instanceof ServiceError)) throw e;
                status = e.status;
                errorType = e.type;
                body = { __type: e.type, message: e.message };
            }
            const names = Array.isArray(input.Names) ? input.Names.map(String) : typeof input.Name === "string" ? [input.Name] : [];
            calls.push({ operation, names, withDecryption: input.WithDecryption === true, status });
            if (fault === "hang") return;
            res.writeHead(status, { "content-type": CONTENT_TYPE, "x-amzn-requestid": randomBytes(16).toString("hex"), ...(errorType ? { "x-amzn-errortype": errorType } : {}) });
            res.end(JSON.stringify(body));
        })().catch(() => res.destroy());
    });

    const loopback = await listenOnLoopback(server);
    const port = loopback.port;

    const store: ParameterStore = {
        url: `http://127.0.0.1:${port}`,
        region,
        calls,
        clientEnvironment: () => ({ AWS_REGION: region, AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: "AKIDLOCALSTANDIN", AWS_SECRET_ACCESS_KEY: "local-stand-in" }),
        put(name, value, type = "SecureString") {
            checkName(name, "name");
            const version = (held.get(name)?.version ?? 0) + 1;
            held.set(name, { type, value, version, modified: Date.now(), ciphertext: randomBytes(48 + value.length).toString("base64") });
        },
        remove(name) {
            held.delete(name);
        },
        async setFault(next) {
            if (next === "down" && fault !== "down") await loopback.stop();
            if (next !== "down" && fault === "down") await loopback.resume();
            if (next !== "hang") server.closeAllConnections();
            fault = next;
        },
        async close() {
            await loopback.stop();
        },
    };
    for (const p of options.parameters ?? []) store.put(p.name, p.value, p.type);
    return store;
}
