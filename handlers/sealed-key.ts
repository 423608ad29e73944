// Fallback for backends that do not name the application in authrep replies (apisonator
// does, through the list_app_keys extension): the usage record must then carry the
// user_key itself, because 3scale's transactions.xml accepts only app_id or user_key.
// It is never stored raw: AES-256-GCM with a key derived by HKDF-SHA256 from the
// service token (which Redis never sees). The nonce is derived from the user key
// (HMAC), so one user key always seals to the same text and its hits aggregate under
// one usage field; that reveals only equality, which the sha256 cache key already does.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from "crypto";

export interface KeySealer {
    seal(userKey: string): string;
    /** undefined when the text was not sealed with this service token (rotated or tampered). */
    open(sealed: string): string | undefined;
}

export function createKeySealer(serviceToken: string, serviceId: string): KeySealer {
    const material = Buffer.from(hkdfSync("sha256", serviceToken, serviceId, "api-ring usage user_key v1", 64));
    const encKey = material.subarray(0, 32);
    const nonceKey = material.subarray(32);
    return {
        seal(userKey) {
            const iv = createHmac("sha256", nonceKey).update(userKey, "utf8").digest().subarray(0, 12);
            const cipher = createCipheriv("aes-256-gcm", encKey, iv);
            const body = Buffer.concat([cipher.update(userKey, "utf8"), cipher.final()]);
            return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
        },
        open(sealed) {
            try {
                const raw = Buffer.from(sealed, "base64url");
                if (raw.length < 29) return undefined;
                const decipher = createDecipheriv("aes-256-gcm", encKey, raw.subarray(0, 12));
                decipher.setAuthTag(raw.subarray(12, 28));
                return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
            } catch {
                return undefined;
            }
        },
    };
}
