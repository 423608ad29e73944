// domain:* (the live pointer's stack only): the custom domain whose base path mapping is the ring's
// live pointer, and whether the live pointer's program creates it.
import { Reader, shown } from "./reader";
import { otherRegion } from "./region";

export interface DomainConfig {
    name: string;
    /** Base path of the mapping; "" is API Gateway's `(none)`. */
    basePath: string;
    /** When set, the live pointer's program creates the custom domain with this regional ACM certificate. */
    certificateArn?: string;
    /** With certificateArn: the Route 53 zone that gets the alias record. */
    hostedZoneId?: string;
}

export const DOMAIN_KEYS: readonly string[] = ["domain:name", "domain:basePath", "domain:certificateArn", "domain:hostedZoneId"];

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
const NAME_EXPECTED = "a lower-case DNS name, e.g. api.example.edu";
const BASE_PATH = /^[A-Za-z0-9._-]+$/;

/** The domain:* keys of the live pointer's stack, which maps the custom domain to the live slot; `env` is where the AWS provider finds a region aws:region does not set. */
export function domainConfig(r: Reader, env: NodeJS.ProcessEnv = process.env): DomainConfig {
    const domain: DomainConfig = {
        name: r.required("domain:name", HOSTNAME, NAME_EXPECTED, "the live pointer maps the custom domain to the live slot"),
        basePath: r.string("domain:basePath", "", BASE_PATH, "a base path of letters, digits, . _ and - (leave unset for the root)"),
        certificateArn: r.string("domain:certificateArn", undefined, /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, "an ACM certificate ARN"),
        hostedZoneId: r.string("domain:hostedZoneId", undefined, /^Z[A-Z0-9]{1,31}$/, "a Route 53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ"),
    };
    // A regional domain takes an ACM certificate of the API's own region (API Gateway developer guide,
    // "Set up a Regional custom domain name in API Gateway"; the mock cloud's regional-certificate-region rule).
    // With no region known here the provider takes one from elsewhere (a profile's): nothing is refused on a guess.
    const elsewhere = otherRegion(domain.certificateArn, r.raw("aws:region"), env);
    if (elsewhere) {
        r.problem("domain:certificateArn", shown(domain.certificateArn ?? ""),
            `an ACM certificate in ${elsewhere.deployed.region} (${elsewhere.deployed.from}), the stack's region (this one is in ${elsewhere.arnRegion}; the domain is regional)`);
        domain.certificateArn = undefined;
    }
    if (domain.hostedZoneId && !domain.certificateArn) {
        r.problem("domain:hostedZoneId", shown(domain.hostedZoneId), "to be set together with domain:certificateArn (the alias record points at a domain the program creates)");
    }
    return domain;
}
