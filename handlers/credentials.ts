// Who the caller is: the credential an API Gateway authorizer event carries, as APIcast reads
// 3scale credentials (its `credentials_location` and authentication modes): a user_key, an
// app_id with an app_key, or an OpenID Connect JWT; in a header or in the query string.
// Anything missing, empty, over-long or malformed is `Unauthorized` (401) before any I/O.
import type { APIGatewayRequestAuthorizerEvent, APIGatewayTokenAuthorizerEvent } from "aws-lambda";

/** API Gateway turns exactly this error message into a 401. */
export const UNAUTHORIZED = "Unauthorized";

export type CredentialKind = "user_key" | "app_id_app_key" | "jwt";
export const CREDENTIAL_KINDS: readonly CredentialKind[] = ["user_key", "app_id_app_key", "jwt"];
export type CredentialLocation = "header" | "query";
export const CREDENTIAL_LOCATIONS: readonly CredentialLocation[] = ["header", "query"];

export interface CredentialSettings {
    kind: CredentialKind;
    location: CredentialLocation;
    /** user_key and jwt: the header (e.g. X-Api-Key, Authorization) or query parameter (e.g. user_key) that carries it. */
    name: string;
    /** app_id_app_key: the header or query parameter names of the two values (APIcast's defaults: app_id, app_key). */
    appIdName: string;
    appKeyName: string;
    /** Whole-value pattern for a user_key, an app_id and an app_key; proven linear-time when config is read. */
    tokenPattern: string;
}

/** Where the credential travels: what the program configures API Gateway and checks the document with. */
export type CredentialSource = Pick<CredentialSettings, "kind" | "location" | "name" | "appIdName" | "appKeyName">;

/** A user_key in one header, the simplest source (tests, the local run's defaults). */
export function userKeyInHeader(name: string): CredentialSource {
    return { kind: "user_key", location: "header", name, appIdName: "app_id", appKeyName: "app_key" };
}

/** The header or query parameter names the credential is read from. */
export function credentialNames(c: CredentialSource): string[] {
    return c.kind === "app_id_app_key" ? [c.appIdName, c.appKeyName] : [c.name];
}

export type Credential =
    | { kind: "user_key"; userKey: string }
    | { kind: "app_id_app_key"; appId: string; appKey: string }
    | { kind: "jwt"; token: string };

export type AuthorizerEvent = APIGatewayTokenAuthorizerEvent | APIGatewayRequestAuthorizerEvent;

/** Longest key or id accepted; API Gateway allows far longer headers, 3scale keys are short. */
export const MAX_KEY_BYTES = 512;
/** Longest JWT accepted: an OpenID Connect ID token with generous claims. */
export const MAX_JWT_BYTES = 8192;
/** JWS compact serialization: three base64url parts; linear-time by construction. */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Open edX clients send `JWT <token>`, OAuth clients `Bearer <token>`. */
const SCHEME = /^(Bearer|JWT) +/i;

/**
 * The authorizer type and identity sources API Gateway needs to hand this credential over: a TOKEN
 * authorizer sees exactly one header, so query strings and the app_id + app_key pair need REQUEST.
 */
export function identitySource(c: CredentialSource): { type: "token" | "request"; identitySource: string } {
    const source = credentialNames(c).map((n) => `method.request.${c.location === "header" ? "header" : "querystring"}.${n}`).join(", ");
    return { type: authorizerType(c), identitySource: source };
}

/** TOKEN when the credential is one header, REQUEST otherwise. */
function authorizerType(c: CredentialSource): "token" | "request" {
    return c.location === "header" && c.kind !== "app_id_app_key" ? "token" : "request";
}

/** The single string a credential is cached under (hashed): never stored raw. */
export function credentialText(c: Credential): string {
    switch (c.kind) {
        case "user_key": return c.userKey;
        case "app_id_app_key": return `${c.appId}\n${c.appKey}`;
        case "jwt": return c.token;
    }
}

/** Case-insensitive header lookup; API Gateway keeps the client's spelling in REQUEST events. */
function header(event: APIGatewayRequestAuthorizerEvent, name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (const [key, value] of Object.entries(event.headers ?? {})) {
        if (key.toLowerCase() === wanted && typeof value === "string") return value;
    }
    return undefined;
}

function read(event: AuthorizerEvent, settings: CredentialSettings, name: string): string | undefined {
    if (event?.type === "TOKEN") {
        // A TOKEN authorizer is configured with this one header as its identity source; any other
        // credential cannot arrive in a TOKEN event.
        if (authorizerType(settings) !== "token") return undefined;
        return typeof event.authorizationToken === "string" ? event.authorizationToken : undefined;
    }
    if (event?.type !== "REQUEST") return undefined;
    if (settings.location === "header") return header(event, name);
    const value = event.queryStringParameters?.[name];
    return typeof value === "string" ? value : undefined;
}

function checked(value: string | undefined, pattern: RegExp, maxBytes: number): string {
    if (value === undefined) throw new Error(UNAUTHORIZED);
    const trimmed = value.trim();
    if (trimmed === "" || Buffer.byteLength(trimmed, "utf8") > maxBytes || !pattern.test(trimmed)) throw new Error(UNAUTHORIZED);
    return trimmed;
}

/** The configured pattern must match the whole value. */
export function wholeValue(pattern: string): RegExp {
    return new RegExp(`^(?:${pattern})$`);
}

/** The caller's credential, or `Unauthorized` (thrown) when it is missing or malformed. No I/O. */
export function extractCredential(event: AuthorizerEvent, settings: CredentialSettings, pattern: RegExp = wholeValue(settings.tokenPattern)): Credential {
    switch (settings.kind) {
        case "user_key": {
            const raw = read(event, settings, settings.name);
            // Keys in a header may come as `Bearer <key>`, as the seed's clients sent them.
            return { kind: "user_key", userKey: checked(raw?.replace(SCHEME, ""), pattern, MAX_KEY_BYTES) };
        }
        case "app_id_app_key":
            return {
                kind: "app_id_app_key",
                appId: checked(read(event, settings, settings.appIdName), pattern, MAX_KEY_BYTES),
                appKey: checked(read(event, settings, settings.appKeyName), pattern, MAX_KEY_BYTES),
            };
        case "jwt": {
            const raw = read(event, settings, settings.name);
            return { kind: "jwt", token: checked(raw?.replace(SCHEME, ""), JWS_COMPACT, MAX_JWT_BYTES) };
        }
    }
}
