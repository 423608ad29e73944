// threescale:*: the 3scale service the authorizer checks keys against, and how it reaches it.
import type * as pulumi from "@pulumi/pulumi";
import { Reader, shown } from "./reader";

export interface ThreescaleConfig {
    serviceId: string;
    backendUrl: string;
    serviceToken: pulumi.Output<string>;
    timeoutMs: number;
}

export const THREESCALE_KEYS: readonly string[] = [
    "threescale:serviceId", "threescale:serviceToken", "threescale:backendUrl", "threescale:timeoutMs",
];

/** The 3scale Service Management API's base URL: https, a host and optional port, nothing else. */
function backendUrl(r: Reader): string {
    const key = "threescale:backendUrl";
    const fallback = "https://su1.3scale.net";
    const expected = "an https:// URL of the Service Management API with no path, query or fragment, e.g. https://su1.3scale.net";
    const raw = r.raw(key);
    if (raw === undefined) return fallback;
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        r.problem(key, shown(raw), expected);
        return fallback;
    }
    if (url.username !== "" || url.password !== "") {
        // The URL ends up in the Lambda environment and in logs; the credential is threescale:serviceToken.
        r.problem(key, "a URL with credentials", `${expected}, with no user name or password (the service token is threescale:serviceToken, a secret)`);
        return fallback;
    }
    if (url.protocol !== "https:" || !/^\/?$/.test(url.pathname) || url.search !== "" || url.hash !== "" || /[\s]/.test(raw)) {
        r.problem(key, shown(raw), expected);
        return fallback;
    }
    return raw;
}

/** The threescale:* keys of one slot. */
export function threescaleConfig(r: Reader): ThreescaleConfig {
    return {
        serviceId: r.required("threescale:serviceId", /^[A-Za-z0-9_-]{1,64}$/, "the 3scale service id (letters, digits, - and _)", "the authorizer checks keys against this service"),
        backendUrl: backendUrl(r),
        serviceToken: r.secret("threescale:serviceToken", /^\S{8,256}$/, "a 3scale service token (8-256 characters, no spaces)"),
        timeoutMs: r.number("threescale:timeoutMs", 2000, 100, 10000, true),
    };
}
