// What API Gateway refuses on import or deployment (errors) and the upstream quirks it accepts
// (warnings), checked on the bundled document before anything is deployed; what the import would only
// warn of is added or moved before the body is put (method-responses.ts, model-schemas.ts).
import { Json, Operation, SpecProblem, isObject, operationsOf, pointer } from "./document";
import { gatewayResponseProblems } from "./gateway-responses";
import { compileRequestValidation } from "./request-validators";

const PATH_PART = /^([A-Za-z0-9._-]+|\{[A-Za-z0-9._-]+\+?\})$/;
const INTEGRATION_TYPES = ["http", "http_proxy", "aws", "aws_proxy", "mock"];
const REQUEST_TARGET = /^integration\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.[A-Za-z0-9._$-]+$/;
const REQUEST_SOURCE = /^(method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.[A-Za-z0-9._$-]+|method\.request\.body(\..+)?|'[^']*'|\$?stageVariables\.[A-Za-z0-9_]+|\$?context\.[A-Za-z0-9._]+)$/;
const RESPONSE_TARGET = /^method\.response\.header\.([A-Za-z0-9._$-]+)$/;
const RESPONSE_SOURCE = /^(integration\.response\.(header|multivalueheader)\.[A-Za-z0-9._$-]+|integration\.response\.body(\..+)?|method\.request\.(path|querystring|header)\.[A-Za-z0-9._$-]+|'[^']*'|\$?stageVariables\.[A-Za-z0-9_]+|\$?context\.[A-Za-z0-9._]+)$/;

type At = (string | number)[];

/** The errors and warnings of one check, in the order found. */
class Findings {
    readonly errors: SpecProblem[] = [];
    readonly warnings: SpecProblem[] = [];
    error(at: At, message: string): void {
        this.errors.push({ pointer: pointer(...at), message });
    }
    warn(at: At, message: string): void {
        this.warnings.push({ pointer: pointer(...at), message });
    }
}

/**
 * What API Gateway refuses on import or deployment (errors) and the upstream quirks it accepts
 * (warnings). The strict Swagger/OpenAPI schema is not applied: API Gateway does not apply it,
 * and real documents (edx/api-manager's among them) carry quirks it would refuse.
 */
export function checkDocument(doc: Json): { errors: SpecProblem[]; warnings: SpecProblem[] } {
    const findings = new Findings();
    checkPaths(doc, findings);
    const operationIds = new Map<string, Operation[]>();
    for (const op of operationsOf(doc)) {
        if (typeof op.operation.operationId === "string") {
            operationIds.set(op.operation.operationId, [...(operationIds.get(op.operation.operationId) ?? []), op]);
        }
        checkIntegration(op, findings);
    }
    warnSharedOperationIds(operationIds, findings);
    return { errors: [...findings.errors, ...gatewayRuleProblems(doc)], warnings: findings.warnings };
}

/**
 * What API Gateway's import refuses in the document's request validators and gateway responses: a
 * validator name the API does not define, a flag that is not true or false, a model that is no draft
 * 4 schema, a gateway response type API Gateway does not have, a status that is not one. One function
 * for the program (and so `npm run preview`) and `npm run local`, which serves these rules.
 */
export function gatewayRuleProblems(doc: Json): SpecProblem[] {
    return [...compileRequestValidation(doc).problems, ...gatewayResponseProblems(doc)];
}

/** Every route is a path API Gateway can make resources of: allowed parts, one variable child per resource. */
function checkPaths(doc: Json, findings: Findings): void {
    if (!isObject(doc.paths)) findings.error(["paths"], "no paths object: API Gateway imports routes from it");
    // Resource (path prefix) -> its variable child parts -> the first route using each.
    const variableChildren = new Map<string, Map<string, string>>();
    for (const route of Object.keys(isObject(doc.paths) ? doc.paths : {})) {
        if (!route.startsWith("/")) {
            findings.error(["paths", route], "a path must start with /");
            continue;
        }
        const parts = route === "/" ? [] : route.slice(1).replace(/\/$/, "").split("/");
        parts.forEach((part, i) => {
            if (!PATH_PART.test(part)) {
                findings.error(["paths", route], `path part "${part}": API Gateway allows only A-Z a-z 0-9 . _ - in a path part, or a whole {variable} or {variable+}`);
            } else if (part.endsWith("+}") && i !== parts.length - 1) {
                findings.error(["paths", route], `the greedy variable ${part} must be the last path part`);
            }
            if (part.startsWith("{")) {
                const parent = "/" + parts.slice(0, i).join("/");
                const names = variableChildren.get(parent) ?? new Map<string, string>();
                if (!names.has(part)) names.set(part, route);
                variableChildren.set(parent, names);
            }
        });
    }
    for (const [parent, names] of variableChildren) {
        const [first, ...others] = [...names];
        for (const [part, route] of others) {
            findings.error(["paths", route], `${part} is a second variable path part under ${parent} (${first[1]} has ${first[0]}); API Gateway allows one per resource`);
        }
    }
}

/** An operation's x-amazon-apigateway-integration: present, of a known type, with what that type needs. */
function checkIntegration(op: Operation, findings: Findings): void {
    const integration = op.operation["x-amazon-apigateway-integration"];
    const at = [...op.at, "x-amazon-apigateway-integration"];
    if (!isObject(integration)) {
        findings.error(op.at, `${op.label} has no x-amazon-apigateway-integration: API Gateway cannot deploy a method without an integration`);
        return;
    }
    const type = String(integration.type ?? "").toLowerCase();
    if (!INTEGRATION_TYPES.includes(type)) {
        findings.error([...at, "type"], `integration type ${JSON.stringify(integration.type)}; expected one of ${INTEGRATION_TYPES.join(", ")}`);
        return;
    }
    if (type !== "mock") {
        if (typeof integration.uri !== "string" || (type.startsWith("http") && !/^https?:\/\//.test(integration.uri))) {
            findings.error([...at, "uri"], `a ${type} integration needs an absolute ${type.startsWith("http") ? "http(s) URL" : "integration URI"}`);
        }
        if (typeof integration.httpMethod !== "string") findings.error([...at, "httpMethod"], `a ${type} integration needs its httpMethod`);
    }
    checkRequestParameters(op, integration, at, findings);
    checkIntegrationResponses(op, integration, at, findings);
}

/** The parameters an operation declares (path-level ones included), as mapping sources name them: "querystring:page", "header:authorization". */
function declaredParameters(op: Operation): Set<string> {
    const out = new Set<string>();
    for (const list of [op.item.parameters, op.operation.parameters]) {
        for (const p of Array.isArray(list) ? list : []) {
            if (isObject(p) && typeof p.in === "string" && typeof p.name === "string") {
                out.add(p.in === "header" ? `header:${p.name.toLowerCase()}` : `${p.in === "query" ? "querystring" : p.in}:${p.name}`);
            }
        }
    }
    return out;
}

/** Each integration request parameter maps a mapping expression, from a method request parameter the operation declares. */
function checkRequestParameters(op: Operation, integration: Json, at: At, findings: Findings): void {
    const declared = declaredParameters(op);
    const pathVariables = [...op.route.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]);
    for (const [target, source] of Object.entries(isObject(integration.requestParameters) ? integration.requestParameters : {})) {
        const where = [...at, "requestParameters", target];
        if (!REQUEST_TARGET.test(target)) findings.error(where, `"${target}" is not an integration request parameter (integration.request.header|querystring|path.<name>)`);
        if (typeof source !== "string" || !REQUEST_SOURCE.test(source)) {
            findings.error(where, `${JSON.stringify(source)} is not a mapping expression (method.request.<where>.<name>, 'static', stageVariables.<name>, context.<name>)`);
            continue;
        }
        const from = /^method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.(.+)$/.exec(source);
        if (!from) continue;
        const kind = from[1].replace("multivalue", "");
        const known = kind === "path" ? pathVariables.includes(from[2]) : declared.has(`${kind}:${kind === "header" ? from[2].toLowerCase() : from[2]}`);
        if (!known) {
            findings.error(where, kind === "path"
                ? `maps ${source}, but ${op.route} has no {${from[2]}}`
                : `maps ${source}, which the operation does not declare; API Gateway needs method request parameters declared before they are mapped (add {name: ${from[2]}, in: ${kind}} to its parameters)`);
        }
    }
}

/** Each integration response: a valid selection pattern, an HTTP status, and headers the method response declares. */
function checkIntegrationResponses(op: Operation, integration: Json, at: At, findings: Findings): void {
    const responses = isObject(op.operation.responses) ? op.operation.responses : {};
    for (const [pattern, response] of Object.entries(isObject(integration.responses) ? integration.responses : {})) {
        const where = [...at, "responses", pattern];
        if (pattern !== "default") {
            try {
                new RegExp(pattern);
            } catch {
                findings.error(where, `"${pattern}" is not a regular expression (the selection pattern matched against the backend's status code)`);
            }
        }
        if (!isObject(response)) continue;
        const status = String(response.statusCode ?? "");
        // A status code the operation's responses lack gets its method response added (openapi/method-responses.ts).
        if (!/^[1-5]\d\d$/.test(status)) {
            findings.error([...where, "statusCode"], `statusCode ${JSON.stringify(response.statusCode)}; expected an HTTP status code such as "200"`);
        }
        const declaredHeaders = Object.keys(isObject(responses[status]) && isObject((responses[status] as Json).headers) ? (responses[status] as Json).headers as Json : {})
            .map((h) => h.toLowerCase());
        for (const [target, source] of Object.entries(isObject(response.responseParameters) ? response.responseParameters : {})) {
            const header = RESPONSE_TARGET.exec(target)?.[1];
            if (!header) findings.error([...where, "responseParameters", target], `"${target}" is not a method response header (method.response.header.<name>)`);
            else if (!declaredHeaders.includes(header.toLowerCase())) {
                findings.error([...where, "responseParameters", target], `maps the header ${header}, which response ${status} of the operation does not declare (add it to its headers)`);
            }
            if (typeof source !== "string" || !RESPONSE_SOURCE.test(source)) {
                findings.error([...where, "responseParameters", target], `${JSON.stringify(source)} is not a mapping expression (integration.response.header.<name>, integration.response.body, 'static', stageVariables.<name>, context.<name>)`);
            }
        }
    }
}

/**
 * An operationId on more than one operation: OpenAPI wants it unique, API Gateway stores it as each
 * method's operationName (API reference, Method), which it does not require to be unique, and no AWS
 * source lists it among what the import warns of (preview/aws-rules/rest-api-import.ts). A property-level
 * `required: true` is no warning here: openapi/model-schemas.ts moves it before the import.
 */
function warnSharedOperationIds(operationIds: Map<string, Operation[]>, findings: Findings): void {
    for (const [id, ops] of operationIds) {
        if (ops.length < 2) continue;
        findings.warn([...ops[1].at, "operationId"],
            `operationId ${id} is shared by ${ops.length} operations (${ops.map((o) => o.label).join(", ")}); ` +
            "OpenAPI wants operation ids unique; API Gateway keeps each as its method's operationName, which it does not require to be unique");
    }
}
