// network:* (primary only): the VPC the cache and the authorizers run in.
import { Reader, shown } from "./reader";

export interface NetworkConfig {
    cidrBlock: string;
    availabilityZones: number;
}

export const NETWORK_KEYS: readonly string[] = ["network:cidrBlock", "network:availabilityZones"];

/** The VPC's block: an IPv4 network address (no host bits set) from /16 to /24. */
function networkCidr(r: Reader): string {
    const key = "network:cidrBlock";
    const fallback = "10.40.0.0/16";
    const raw = r.raw(key);
    if (raw === undefined) return fallback;
    const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(raw);
    const octets = match?.slice(1, 5).map(Number) ?? [];
    const prefix = Number(match?.[5]);
    if (!match || octets.some((o, i) => o > 255 || String(o) !== match[i + 1]) || prefix < 16 || prefix > 24) {
        r.problem(key, shown(raw), "an IPv4 network address from /16 to /24, e.g. 10.40.0.0/16");
        return fallback;
    }
    const address = octets.reduce((a, o) => a * 256 + o, 0);
    const network = address - (address % 2 ** (32 - prefix));
    if (network !== address) {
        const dotted = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256).join(".");
        r.problem(key, shown(raw), `the network address ${dotted}/${prefix} (host bits must be zero)`);
        return fallback;
    }
    return raw;
}

/** The network:* keys of the primary. */
export function networkConfig(r: Reader): NetworkConfig {
    return {
        cidrBlock: networkCidr(r),
        availabilityZones: r.number("network:availabilityZones", 2, 2, 3, true),
    };
}
