// The OpenAPI document a slot serves: bundled from its files, checked against the stage
// variables, and given the ring's Lambda authorizer on every operation not marked public.
import SwaggerParser from "@apidevtools/swagger-parser";
import { createHash } from "crypto";
import * as path from "path";

/** The security scheme the ring injects; its x-amazon-apigateway-authorizer is the Lambda authorizer. */
export const AUTHORIZER_SCHEME = "threescale";
/** Stands for the authorizer's invocation URI until the function exists; also what specSha256 hashes. */
export const AUTHORIZER_URI_PLACEHOLDER = "${authorizerUri}";

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "x-amazon-apigateway-any-method"];

type Json = Record<string, unknown>;

export interface AuthorizerSpec {
    /** Header API Gateway reads the token from. */
    identityHeader: string;
    /** API Gateway's own authorizer result cache, seconds (0 = off). */
    resultTtlSeconds: number;
}

export interface BundledSpec {
    /** "2.0" (Swagger) or "3.x" (OpenAPI). */
    version: string;
    /** The single-document API with the authorizer injected; the URI is a placeholder. */
    document: Json;
    /** sha256 of `render(AUTHORIZER_URI_PLACEHOLDER)`: changes exactly when the served API changes. */
    sha256: string;
    /** Stage variables the integrations reference (`${stageVariables.x}`). */
    stageVariables: string[];
    /** "METHOD /path" of every operation marked public (`security: []`). */
    publicOperations: string[];
    /** The document as JSON with the authorizer's real invocation URI. */
    render(authorizerUri: string): string;
}

export class SpecError extends Error {
    constructor(readonly file: string, reason: string) {
        super(`gateway:spec: cannot use ${file}: ${reason}`);
        this.name = "SpecError";
    }
}

/**
 * Bundles the document at `specPath` (multi-file $refs become one document), validates it
 * as Swagger 2.0 or OpenAPI 3, and injects the authorizer.
 */
export async function bundleSpec(specPath: string, authorizer: AuthorizerSpec): Promise<BundledSpec> {
    const file = path.resolve(specPath);
    let bundled: Json;
    try {
        bundled = (await SwaggerParser.bundle(file)) as unknown as Json;
        // validate() dereferences in place, so it gets its own copy.
        await SwaggerParser.validate(structuredClone(bundled) as never);
    } catch (e) {
        throw new SpecError(path.relative(process.cwd(), file) || file, describeParserError(e));
    }
    const version = typeof bundled.swagger === "string" ? bundled.swagger : String(bundled.openapi);
    const publicOperations = injectAuthorizer(bundled, authorizer, version === "2.0");
    const text = JSON.stringify(bundled);
    const render = (uri: string) => text.split(JSON.stringify(AUTHORIZER_URI_PLACEHOLDER)).join(JSON.stringify(uri));
    return {
        version,
        document: bundled,
        sha256: sha256(render(AUTHORIZER_URI_PLACEHOLDER)),
        stageVariables: [...new Set([...text.matchAll(/\$\{?stageVariables(?:\.|\[')([A-Za-z0-9_]+)/g)].map((m) => m[1]))].sort(),
        publicOperations,
        render,
    };
}

function describeParserError(e: unknown): string {
    const err = e as { message?: string; source?: string; path?: string; details?: unknown[] };
    const message = (err.message ?? String(e)).split("\n")[0];
    return err.source && !message.includes(err.source) ? `${message} (in ${err.source})` : message;
}

/**
 * Every operation without an explicit `security: []` gets the authorizer; returns the
 * public operations. An explicit empty list is OpenAPI's own way to say "no auth".
 */
function injectAuthorizer(doc: Json, authorizer: AuthorizerSpec, swagger2: boolean): string[] {
    const scheme = {
        type: "apiKey",
        name: authorizer.identityHeader,
        in: "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {
            type: "token",
            authorizerUri: AUTHORIZER_URI_PLACEHOLDER,
            authorizerResultTtlInSeconds: authorizer.resultTtlSeconds,
            identitySource: `method.request.header.${authorizer.identityHeader}`,
        },
    };
    if (swagger2) {
        doc.securityDefinitions = { ...(doc.securityDefinitions as Json | undefined), [AUTHORIZER_SCHEME]: scheme };
    } else {
        const components = (doc.components ?? {}) as Json;
        components.securitySchemes = { ...(components.securitySchemes as Json | undefined), [AUTHORIZER_SCHEME]: scheme };
        doc.components = components;
    }
    const publicOperations: string[] = [];
    for (const [route, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
        for (const method of METHODS) {
            const operation = item[method] as Json | undefined;
            if (!operation) continue;
            if (Array.isArray(operation.security) && operation.security.length === 0) {
                publicOperations.push(`${method === "x-amazon-apigateway-any-method" ? "ANY" : method.toUpperCase()} ${route}`);
            } else {
                operation.security = [{ [AUTHORIZER_SCHEME]: [] }];
            }
        }
    }
    return publicOperations;
}

export function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}
