// threescale:*: the 3scale service the authorizer checks keys against, and how it reaches it.
import * as pulumi from "@pulumi/pulumi";
import { Reader, shown } from "./reader";

export interface ThreescaleConfig {
    serviceId: string;
    backendUrl: string;
    serviceToken: pulumi.Output<string>;
    timeoutMs: number;
    /**
     * porta (the admin portal) and an access token with the Analytics and Account Management read
     * scopes: both or neither. With them the reporter settles reports of applications without limits
     * from their hourly usage (handlers/porta.ts).
     */
    porta?: { adminUrl: string; accessToken: pulumi.Output<string> };
}

export const THREESCALE_KEYS: readonly string[] = [
    "threescale:serviceId", "threescale:serviceToken", "threescale:backendUrl", "threescale:timeoutMs",
    "threescale:adminUrl", "threescale:accessToken",
];

/** An https base URL of a 3scale API: a host and optional port, nothing else, no credentials in it. */
function httpsBase(r: Reader, key: string, what: string, example: string, credential: string): string | undefined {
    const expected = `an https:// URL of ${what} with no path, query or fragment, e.g. ${example}`;
    const raw = r.raw(key);
    if (raw === undefined) return undefined;
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        r.problem(key, shown(raw), expected);
        return undefined;
    }
    if (url.username !== "" || url.password !== "") {
        // The URL ends up in the Lambda environment and in logs; the credential is a secret of its own.
        r.problem(key, "a URL with credentials", `${expected}, with no user name or password (${credential}, a secret)`);
        return undefined;
    }
    if (url.protocol !== "https:" || !/^\/?$/.test(url.pathname) || url.search !== "" || url.hash !== "" || /[\s]/.test(raw)) {
        r.problem(key, shown(raw), expected);
        return undefined;
    }
    return raw;
}

/** porta's URL and access token, both or neither. */
function porta(r: Reader): ThreescaleConfig["porta"] {
    const adminUrl = httpsBase(r, "threescale:adminUrl", "the 3scale admin portal", "https://ACME-admin.3scale.net", "the access token is threescale:accessToken");
    const token = r.optionalSecret("threescale:accessToken", /^\S{8,256}$/, "a 3scale access token with the Analytics and Account Management read scopes (8-256 characters, no spaces)");
    const adminGiven = r.raw("threescale:adminUrl") !== undefined;
    const tokenGiven = r.raw("threescale:accessToken") !== undefined;
    if (adminGiven && !tokenGiven) {
        r.problem("threescale:accessToken", "nothing", "an access token with threescale:adminUrl (set it with `pulumi config set --secret threescale:accessToken <token>`), or no threescale:adminUrl");
    }
    if (tokenGiven && !adminGiven) r.problem("threescale:adminUrl", "nothing", "the admin portal's https:// URL with threescale:accessToken, e.g. https://ACME-admin.3scale.net");
    return adminUrl !== undefined && token !== undefined ? { adminUrl, accessToken: pulumi.secret(token) } : undefined;
}

/** The threescale:* keys of one slot. */
export function threescaleConfig(r: Reader): ThreescaleConfig {
    return {
        serviceId: r.required("threescale:serviceId", /^[A-Za-z0-9_-]{1,64}$/, "the 3scale service id (letters, digits, - and _)", "the authorizer checks keys against this service"),
        backendUrl: httpsBase(r, "threescale:backendUrl", "the Service Management API", "https://su1.3scale.net", "the service token is threescale:serviceToken") ?? "https://su1.3scale.net",
        serviceToken: r.secret("threescale:serviceToken", /^\S{8,256}$/, "a 3scale service token (8-256 characters, no spaces)"),
        timeoutMs: r.number("threescale:timeoutMs", 2000, 100, 10000, true),
        porta: porta(r),
    };
}
