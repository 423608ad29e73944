// An OpenID Connect issuer on loopback for the tests: RS256 key pairs the test generates (jose),
// its JWKS served over HTTP, tokens signed with the newest key (or under a kid of the test's choice).
import * as http from "http";
import type { AddressInfo } from "net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { JWK } from "jose";

export interface Issuer {
    url: string;
    fetches: number;
    sign(claims: Record<string, unknown>, options?: { kid?: string; expiresIn?: string }): Promise<string>;
    rotate(): Promise<void>;
    close(): Promise<void>;
}

/** An OpenID Connect issuer on loopback: an RS256 key pair this test generates, its JWKS served over HTTP. */
export async function startIssuer(): Promise<Issuer> {
    const keys: Array<{ kid: string; privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"]; jwk: JWK }> = [];
    const addKey = async (kid: string) => {
        const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
        keys.unshift({ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } });
    };
    await addKey("key-1");
    const issuer = {
        fetches: 0,
        url: "",
        sign: async (claims: Record<string, unknown>, options: { kid?: string; expiresIn?: string } = {}) => {
            // An unknown kid is signed with the newest key but keeps the kid it was given.
            const key = keys.find((k) => k.kid === options.kid) ?? keys[0];
            return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: options.kid ?? key.kid }).setIssuedAt()
                .setExpirationTime(options.expiresIn ?? "5m").sign(key.privateKey);
        },
        rotate: async () => addKey(`key-${keys.length + 1}`),
        close: async () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
    const server = http.createServer((_req, res) => {
        issuer.fetches += 1;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/jwks`;
    return issuer;
}

