// OpenID Connect JWTs (DESIGN.md section 5): the signature is checked against the issuer's JWKS,
// fetched once per container and cached, refetched when a token names an unknown `kid` (jose's
// remote key set does both, with a cooldown so a flood of bad kids cannot hammer the issuer);
// `iss`, `aud` and `exp` are checked; a configured claim names the 3scale application.
// jose is loaded on the first JWT, so the authorizer's cold start pays for it only when used.

/** The JOSE library, loaded on the first JWT; the archive carries it only with credentials jwt. */
export const JWT_PACKAGE = "jose";

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
    /** Least time between two JWKS fetches for unknown kids, so a flood of forged kids cannot hammer the issuer. */
    refreshCooldownMs: number;
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

/** Signature algorithms an OpenID Connect issuer signs with; `none` and HMAC are never accepted. */
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

export function createJwtVerifier(settings: JwtSettings): JwtVerifier {
    type Jose = typeof import("jose");
    let keys: Promise<{ jose: Jose; keySet: ReturnType<Jose["createRemoteJWKSet"]> }> | undefined;
    const load = () => (keys ??= import("jose").then((jose) => ({
        jose,
        keySet: jose.createRemoteJWKSet(new URL(settings.jwksUrl), { timeoutDuration: settings.timeoutMs, cooldownDuration: settings.refreshCooldownMs, cacheMaxAge: 600_000 }),
    })));
    return async (token) => {
        const { jose, keySet } = await load();
        let payload: Record<string, unknown>;
        try {
            ({ payload } = await jose.jwtVerify(token, keySet, { issuer: settings.issuer, audience: settings.audience, algorithms: ALGORITHMS, requiredClaims: ["exp"] }));
        } catch (e) {
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
