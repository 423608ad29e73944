// The two integration kinds the API uses, run the way API Gateway runs them:
// `mock` answers from the operation's mapping templates (Velocity, as API Gateway's are),
// `http`/`http_proxy` forwards to the URI after stage-variable and path substitution.
import { render } from "velocityjs";

export interface IntegrationRequest {
    method: string;
    /** Query string without the "?", or "". */
    query: string;
    headers: Record<string, string>;
    body: Buffer;
    params: Record<string, string>;
    stageVariables: Record<string, string>;
    /** Base URLs that replace `https://${stageVariables.name}` (local backends speak plain HTTP). */
    backends: Record<string, string>;
    requestId: string;
    stage: string;
    /** The authorizer's context, passed to the backend as x-api-ring-<key> headers. */
    authorizerContext: Record<string, string | number | boolean>;
}

export interface IntegrationResponse {
    status: number;
    headers: Record<string, string>;
    body: Buffer | string;
}

type Json = Record<string, unknown>;

export async function runIntegration(integration: Json, request: IntegrationRequest): Promise<IntegrationResponse> {
    const type = String(integration.type ?? "").toLowerCase();
    if (type === "mock") return runMock(integration, request);
    if (type === "http" || type === "http_proxy") return runHttp(integration, request);
    return { status: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ message: `integration type ${type} is not run locally` }) };
}

function templateContext(request: IntegrationRequest): Json {
    return {
        stageVariables: request.stageVariables,
        context: { requestId: request.requestId, stage: request.stage, authorizer: request.authorizerContext },
        input: { body: request.body.toString("utf8"), params: () => request.params },
    };
}

function runMock(integration: Json, request: IntegrationRequest): IntegrationResponse {
    const context = templateContext(request);
    const requestTemplate = ((integration.requestTemplates ?? {}) as Record<string, string>)["application/json"] ?? '{"statusCode": 200}';
    let statusCode = 200;
    try {
        statusCode = Number((JSON.parse(render(requestTemplate, context)) as { statusCode?: number }).statusCode ?? 200);
    } catch {
        return { status: 500, headers: { "content-type": "application/json" }, body: '{"message": "Internal server error"}' };
    }
    const responses = (integration.responses ?? {}) as Record<string, { statusCode?: string; responseTemplates?: Record<string, string> }>;
    // Response keys are regexes over the status; "default" catches the rest.
    const chosen = Object.entries(responses).find(([pattern]) => pattern !== "default" && new RegExp(`^${pattern}$`).test(String(statusCode)))?.[1] ?? responses.default;
    const template = chosen?.responseTemplates?.["application/json"] ?? "";
    return { status: Number(chosen?.statusCode ?? statusCode), headers: { "content-type": "application/json" }, body: render(template, context) };
}

/** The integration URI with stage variables, local backends and path parameters filled in. */
export function integrationUri(integration: Json, request: Pick<IntegrationRequest, "stageVariables" | "backends" | "params">): string {
    let uri = String(integration.uri);
    for (const [name, base] of Object.entries(request.backends)) {
        uri = uri.split(`https://\${stageVariables.${name}}`).join(base.replace(/\/$/, ""));
    }
    uri = uri.replace(/\$\{stageVariables\.([A-Za-z0-9_]+)\}/g, (_, name: string) => request.stageVariables[name] ?? "");
    const mapping = (integration.requestParameters ?? {}) as Record<string, string>;
    for (const [target, source] of Object.entries(mapping)) {
        const to = /^integration\.request\.path\.(.+)$/.exec(target)?.[1];
        const from = /^method\.request\.path\.(.+)$/.exec(source)?.[1];
        if (to && from && request.params[from] !== undefined) {
            const value = request.params[from];
            // A greedy {proxy+} keeps its slashes.
            uri = uri.split(`{${to}}`).join(value.split("/").map(encodeURIComponent).join("/"));
        }
    }
    return uri;
}

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "host", "content-length", "content-encoding", "proxy-connection"]);

async function runHttp(integration: Json, request: IntegrationRequest): Promise<IntegrationResponse> {
    const uri = integrationUri(integration, request);
    const url = request.query ? `${uri}${uri.includes("?") ? "&" : "?"}${request.query}` : uri;
    const declared = String(integration.httpMethod ?? "ANY").toUpperCase();
    const method = declared === "ANY" ? request.method : declared;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers)) if (!HOP_BY_HOP.has(k.toLowerCase())) headers[k] = v;
    for (const [k, v] of Object.entries(request.authorizerContext)) headers[`x-api-ring-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`] = String(v);
    const timeoutMs = Number(integration.timeoutInMillis ?? 29000);
    try {
        const response = await fetch(url, {
            method,
            headers,
            body: ["GET", "HEAD"].includes(method) ? undefined : request.body,
            signal: AbortSignal.timeout(timeoutMs),
            redirect: "manual",
        });
        const out: Record<string, string> = {};
        response.headers.forEach((v, k) => { if (!HOP_BY_HOP.has(k)) out[k] = v; });
        return { status: response.status, headers: out, body: Buffer.from(await response.arrayBuffer()) };
    } catch (e) {
        const timedOut = (e as Error).name === "TimeoutError";
        // API Gateway's answers: 504 when the integration times out, 502 when it cannot be reached.
        return {
            status: timedOut ? 504 : 502,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ message: timedOut ? "Endpoint request timed out" : "Internal server error" }),
        };
    }
}
