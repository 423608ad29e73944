// An OpenID Connect issuer on loopback for the tests: RS256 key pairs the test generates (jose),
// its JWKS served over HTTP, tokens signed with the newest key (or under a kid of the test's choice).
// Tests can make the endpoint fail (500), hang (never answer), answer slowly, or serve another
// document (a huge one, one with many keys) and count the fetches and the bytes served.
import * as http from "http";
import type { AddressInfo } from "net";
import { drained } from "./hostile-http";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { JWK } from "jose";

export type JwksFault = "none" | "500" | "hang" | "slow";

export interface Issuer {
    url: string;
    fetches: number;
    /** How the endpoint answers from now on. */
    fault: JwksFault;
    slowMs: number;
    /** Serves this instead of the key set (its fill repeated `repeat` times after `prefix`). */
    document?: { prefix: string; fill: string; repeat: number; suffix: string };
    bytesSent: number;
    /** The key set as served ({ keys: [...] }). */
    jwks(): { keys: JWK[] };
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
    const issuer: Issuer = {
        fetches: 0,
        url: "",
        fault: "none",
        slowMs: 200,
        bytesSent: 0,
        jwks: () => ({ keys: keys.map((k) => k.jwk) }),
        sign: async (claims: Record<string, unknown>, options: { kid?: string; expiresIn?: string } = {}) => {
            // An unknown kid is signed with the newest key but keeps the kid it was given.
            const key = keys.find((k) => k.kid === options.kid) ?? keys[0];
            return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: options.kid ?? key.kid }).setIssuedAt()
                .setExpirationTime(options.expiresIn ?? "5m").sign(key.privateKey);
        },
        rotate: async () => addKey(`key-${keys.length + 1}`),
        close: async () => new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        }),
    };
    const server = http.createServer((_req, res) => {
        issuer.fetches += 1;
        if (issuer.fault === "hang") return;
        const answer = async (): Promise<void> => {
            if (issuer.fault === "500") {
                res.writeHead(500, { "content-type": "text/plain" });
                res.end("internal error");
                return;
            }
            res.writeHead(200, { "content-type": "application/json" });
            const doc = issuer.document;
            if (!doc) {
                const body = JSON.stringify(issuer.jwks());
                issuer.bytesSent += body.length;
                res.end(body);
                return;
            }
            res.write(doc.prefix);
            for (let i = 0; i < doc.repeat && !res.destroyed; i++) {
                issuer.bytesSent += doc.fill.length;
                if (!res.write(doc.fill)) await drained(res);
            }
            res.end(doc.suffix);
        };
        if (issuer.fault === "slow") setTimeout(() => void answer(), issuer.slowMs).unref();
        else void answer();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    issuer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/jwks`;
    return issuer;
}

