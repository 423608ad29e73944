// OpenID Connect JWTs (DESIGN.md section 5): the signature is checked against the issuer's JWKS;
// `iss`, `aud` and `exp` are checked; a configured claim names the 3scale application. jose verifies
// (its local key set and jwtVerify); when to fetch the key set is decided here, because jose's remote
// key set forgets failures (a failing endpoint was fetched once per token) and drops its key set after
// ten minutes whatever the endpoint says (issue 17):
//   - one fetch at a time: concurrent requests share it;
//   - fetches at least `refreshCooldownMs` apart, whether the last one failed or not, so a failing or
//     hanging endpoint costs one fetch (and one request's wait) per period, and forged kids cannot
//     hammer the issuer;
//   - a key set older than JWKS_REFRESH_MS is refreshed in the background while it keeps serving;
//     a token naming a kid the set lacks waits for a refresh (key rotation);
//   - the last good key set serves while refreshes fail, up to `keySetMaxAgeMs`; past that, tokens
//     are refused (401) until the endpoint answers again;
//   - the document is read with a bound (MAX_JWKS_BYTES) and only signature keys of the accepted
//     algorithms are kept, public members only, at most MAX_JWKS_KEYS.
// jose is loaded on the first JWT, so the authorizer's cold start pays for it only when used.
import { readBoundedBody } from "./bounded-body";

/** The JOSE library, loaded on the first JWT; the archive carries it only with credentials jwt. */
export const JWT_PACKAGE = "jose";

/** Age at which a key set is refreshed (in the background: it keeps serving meanwhile). jose's default cacheMaxAge. */
export const JWKS_REFRESH_MS = 600_000;
/** Default for how long the last good key set serves while refreshes fail (authorizer:jwksMaxAgeSeconds). */
export const DEFAULT_KEY_SET_MAX_AGE_MS = 3_600_000;
/** Largest JWKS document read: a few RSA keys are 2-3 KiB. */
export const MAX_JWKS_BYTES = 64 * 1024;
/** Most signature keys kept from one document: issuers publish the current key and one or two others. */
export const MAX_JWKS_KEYS = 16;

export interface JwtSettings {
    /** The issuer's JWKS document, e.g. https://courses.example.edu/oauth2/jwks. */
    jwksUrl: string;
    /** Expected `iss`. */
    issuer: string;
    /** Expected `aud`: the token's aud (a string, or a list) must hold this audience, or one of these. */
    audience: string | string[];
    /** The claim whose string value is the 3scale application id (e.g. `client_id`, `preferred_username`). */
    appClaim: string;
    /** Bound on fetching the JWKS, in milliseconds. */
    timeoutMs: number;
    /** Least time between two JWKS fetches, failed or not: the back-off of a failing endpoint, and the cooldown for unknown kids. */
    refreshCooldownMs: number;
    /** How long the last good key set serves while refreshes fail; default DEFAULT_KEY_SET_MAX_AGE_MS. */
    keySetMaxAgeMs?: number;
}

export interface VerifiedJwt {
    /** The 3scale application id, from the configured claim. */
    appId: string;
    /** `exp`, in milliseconds since the epoch: no decision about this token outlives it. */
    expiresAt: number;
}

/** Why a JWT was refused; the authorizer answers Unauthorized and logs this. */
export class JwtRefused extends Error {
    constructor(readonly reason: string) {
        super(reason);
        this.name = "JwtRefused";
    }
}

export type JwtVerifier = (token: string) => Promise<VerifiedJwt>;

export interface JwtVerifierOptions {
    /** The clock key-set ages and the back-off are measured with (tests); token expiry is jose's, on the real clock. */
    now?: () => number;
}

/** Signature algorithms an OpenID Connect issuer signs with; `none` and HMAC are never accepted. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
const KEY_TYPES = ["RSA", "EC", "OKP"];
/** The public members a signature key needs (RFC 7517, 7518 section 6); private ones are never kept. */
const PUBLIC_MEMBERS = ["kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"];

type Jose = typeof import("jose");
type LocalKeySet = ReturnType<Jose["createLocalJWKSet"]>;
type Jwk = Record<string, unknown>;

/** The signature keys of a JWKS document, public members only; throws when it is no key set or holds too many. */
export function verificationKeys(document: unknown): Jwk[] {
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new Error("not a JWK set (no keys list)");
    const usable = keys.filter((k): k is Jwk => typeof k === "object" && k !== null && KEY_TYPES.includes((k as Jwk).kty as string) &&
        ((k as Jwk).use === undefined || (k as Jwk).use === "sig") && ((k as Jwk).alg === undefined || ALGORITHMS.includes((k as Jwk).alg as string)));
    if (usable.length > MAX_JWKS_KEYS) throw new Error(`${usable.length} signature keys, more than the ${MAX_JWKS_KEYS} an issuer needs`);
    return usable.map((k) => Object.fromEntries(PUBLIC_MEMBERS.filter((m) => k[m] !== undefined).map((m) => [m, k[m]])));
}

export function createJwtVerifier(settings: JwtSettings, options: JwtVerifierOptions = {}): JwtVerifier {
    const now = options.now ?? Date.now;
    const maxAge = settings.keySetMaxAgeMs ?? DEFAULT_KEY_SET_MAX_AGE_MS;
    let jose: Promise<Jose> | undefined;
    let good: { keys: LocalKeySet; at: number } | undefined;
    let lastAttempt = -Infinity;
    let lastFailure = "no key set fetched yet";
    let inflight: Promise<void> | undefined;

    const fetchKeys = async (j: Jose): Promise<void> => {
        lastAttempt = now();
        const response = await fetch(settings.jwksUrl, {
            redirect: "manual",
            headers: { accept: "application/json, application/jwk-set+json" },
            signal: AbortSignal.timeout(settings.timeoutMs),
        });
        if (response.status !== 200) {
            await response.body?.cancel().catch(() => undefined);
            throw new Error(`the JWKS endpoint answered ${response.status}`);
        }
        const text = await readBoundedBody(response, MAX_JWKS_BYTES);
        if (text === undefined) throw new Error(`the JWKS document is over ${MAX_JWKS_BYTES} bytes or not UTF-8`);
        const keys = verificationKeys(JSON.parse(text));
        good = { keys: j.createLocalJWKSet({ keys }), at: now() };
    };
    /** One fetch at a time; its failure is remembered, never thrown. */
    const refresh = (j: Jose): Promise<void> => (inflight ??= fetchKeys(j)
        .catch((e: Error) => {
            lastFailure = e.name === "TimeoutError" ? `no answer within ${settings.timeoutMs} ms` : e.message;
        })
        .finally(() => {
            inflight = undefined;
        }));
    const mayFetch = (): boolean => inflight !== undefined || now() - lastAttempt >= settings.refreshCooldownMs;
    const usable = () => (good && now() - good.at <= maxAge ? good : undefined);

    const keyFor = (j: Jose) => async (header: Parameters<LocalKeySet>[0], token: Parameters<LocalKeySet>[1]) => {
        let set = usable();
        if (!set) {
            if (mayFetch()) await refresh(j);
            set = usable();
            if (!set) throw new JwtRefused(`ERR_JWKS_UNAVAILABLE: no key set younger than ${maxAge} ms (${lastFailure})`);
        } else if (now() - set.at >= JWKS_REFRESH_MS && mayFetch()) {
            void refresh(j);
        }
        try {
            return await set.keys(header, token);
        } catch (e) {
            // A kid the set lacks: the issuer may have rotated its key. Refetch, at most once per cooldown.
            if ((e as { code?: string }).code !== "ERR_JWKS_NO_MATCHING_KEY" || !mayFetch()) throw e;
            await refresh(j);
            return (usable() ?? set).keys(header, token);
        }
    };

    return async (token) => {
        const j = await (jose ??= import("jose"));
        let payload: Record<string, unknown>;
        try {
            ({ payload } = await j.jwtVerify(token, keyFor(j), { issuer: settings.issuer, audience: settings.audience, algorithms: ALGORITHMS, requiredClaims: ["exp"] }));
        } catch (e) {
            if (e instanceof JwtRefused) throw e;
            const code = (e as { code?: string }).code ?? "ERR_JWT_INVALID";
            throw new JwtRefused(`${code}: ${(e as Error).message}`);
        }
        // Only the token's own claim, read as a string: another type is no application name.
        const appId = Object.hasOwn(payload, settings.appClaim) ? payload[settings.appClaim] : undefined;
        if (appId === undefined) throw new JwtRefused(`claim ${settings.appClaim} is missing`);
        if (typeof appId !== "string") throw new JwtRefused(`claim ${settings.appClaim} is ${Array.isArray(appId) ? "a list" : `a ${typeof appId}`}, not a string naming the application`);
        if (appId === "") throw new JwtRefused(`claim ${settings.appClaim} is empty`);
        return { appId, expiresAt: Number(payload.exp) * 1000 };
    };
}
