// gateway:*: the slot's REST API and stage: the document, its stage variables, logging and throttling.
import { MEDIA_TYPE } from "./media-type";
import { Reader, isStringList, isStringMap, shown } from "./reader";

export type LogLevel = "OFF" | "ERROR" | "INFO";
const LOG_LEVELS: readonly LogLevel[] = ["OFF", "ERROR", "INFO"];
const CACHE_CLUSTER_SIZES = ["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"] as const;
export type CacheClusterSize = (typeof CACHE_CLUSTER_SIZES)[number];

export interface GatewayConfig {
    logLevel: LogLevel;
    metrics: boolean;
    caching: boolean;
    cacheClusterSize: CacheClusterSize;
    /** Requests per second, steady state. */
    rateLimit: number;
    /** Requests admitted at once above the steady rate. */
    burstLimit: number;
    /** Stage variables naming backend hosts (edxapp_host, discovery_host, ...). */
    hosts: Record<string, string>;
    /** Path of the OpenAPI document, relative to the project. */
    specPath: string;
    /** URL prefix of remote `$ref`s to the local folder (relative to the project) that mirrors it. */
    specMirrors: Record<string, string>;
    /** Operations served without any auth, as "METHOD /path" (ANY for x-amazon-apigateway-any-method); never one the document protects. */
    publicRoutes: string[];
    /** Operations put behind the ring's authorizer in place of the document's own auth, as "METHOD /path". */
    authorizerRoutes: string[];
    /** Whether OPTIONS operations the document leaves open are public (CORS preflights). */
    publicPreflights: boolean;
    /** A public catch-all at the root, or no operation left protected, is meant (refused otherwise). */
    allowPublicCatchAll: boolean;
    /** Stage variables other than hosts the document uses (e.g. landing_page, a URL). */
    stageVariables: Record<string, string>;
    /** Media types API Gateway passes through as binary, added to the document's. */
    binaryMediaTypes: string[];
    /** Release id (stage variable `id`); defaults to one derived from the spec hash. */
    releaseId?: string;
    /**
     * The region's API Gateway CloudWatch role, which every stage's logs need: "create" (this stack, the
     * primary, owns it), "existing" (the account has one), or unset (nothing is created or assumed).
     */
    cloudWatchRole?: CloudWatchRole;
}

export type CloudWatchRole = "create" | "existing";
const CLOUDWATCH_ROLES: readonly CloudWatchRole[] = ["create", "existing"];

export const GATEWAY_KEYS: readonly string[] = [
    "gateway:logLevel", "gateway:metrics", "gateway:caching", "gateway:cacheClusterSize", "gateway:rateLimit",
    "gateway:burstLimit", "gateway:hosts", "gateway:spec", "gateway:releaseId",
    "gateway:specMirrors", "gateway:publicRoutes", "gateway:authorizerRoutes", "gateway:publicPreflights", "gateway:allowPublicCatchAll",
    "gateway:stageVariables", "gateway:binaryMediaTypes", "gateway:cloudWatchRole",
];

// Stage variable rules from API Gateway: names [A-Za-z0-9_], values [A-Za-z0-9-._~:/?#&=,]{1,2048}.
const STAGE_VARIABLE_NAME = /^[A-Za-z0-9_]+$/;
const STAGE_VARIABLE_VALUE = /^[A-Za-z0-9\-._~:/?#&=,]{1,2048}$/;
/** A backend host as integration URIs embed it (`https://${stageVariables.x}/...`): a DNS name, optionally :port. */
const BACKEND_HOST = /^(?=[^:]{1,253}(:|$))[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+(:([1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?$/;
// "GET /discovery/v1/catalogs", "ANY /{proxy+}": an operation as the preview lists it.
const OPERATION = /^(GET|PUT|POST|DELETE|OPTIONS|HEAD|PATCH|ANY) \/\S*$/;
// A URL prefix that ends at a path segment, so a mirror never matches half a segment.
const MIRROR_PREFIX = /^https?:\/\/[^\s/]+\/(\S*\/)?$/;

/** gateway:hosts, required: the stage variables naming the backend hosts the document's integrations call. */
function backendHosts(r: Reader): Record<string, string> {
    const hosts = r.json("gateway:hosts", {}, isStringMap,
        "a map of stage variable names to host names, e.g. {edxapp_host: courses.example.edu, discovery_host: discovery.example.edu}");
    if (r.raw("gateway:hosts") === undefined) {
        r.problem("gateway:hosts", "nothing", "a map of stage variables to backend hosts, e.g. {edxapp_host: ..., discovery_host: ...}");
    }
    for (const [name, value] of Object.entries(hosts)) {
        if (!STAGE_VARIABLE_NAME.test(name)) r.problem(`gateway:hosts.${name}`, shown(name), "a stage variable name of letters, digits and _");
        if (name === "id") r.problem("gateway:hosts.id", shown(value), "no `id` entry: the stage variable `id` is the release id (gateway:releaseId)");
        if (!BACKEND_HOST.test(value)) {
            r.problem(`gateway:hosts.${name}`, shown(value), "a host name, optionally with :port, e.g. courses.example.edu " +
                "(no scheme, path, query, fragment or credentials: the document's integration URIs add those)");
        }
    }
    return hosts;
}

/** gateway:stageVariables: the document's other stage variables, none of them one gateway:hosts sets. */
function stageVariables(r: Reader, hosts: Record<string, string>): Record<string, string> {
    const variables = r.json("gateway:stageVariables", {}, isStringMap,
        "a map of stage variable names to values, e.g. {landing_page: https://www.example.edu/api}");
    for (const [name, value] of Object.entries(variables)) {
        const key = `gateway:stageVariables.${name}`;
        if (!STAGE_VARIABLE_NAME.test(name)) r.problem(key, shown(name), "a stage variable name of letters, digits and _");
        if (name === "id") r.problem(key, shown(value), "no `id` entry: the stage variable `id` is the release id (gateway:releaseId)");
        if (name in hosts) r.problem(key, shown(value), `no entry for ${name}, which gateway:hosts already sets (one source per stage variable)`);
        if (!STAGE_VARIABLE_VALUE.test(value)) r.problem(key, shown(value), "a value of the characters API Gateway allows in stage variables (A-Z a-z 0-9 - . _ ~ : / ? # & = ,), 1-2048 long");
    }
    return variables;
}

/** gateway:specMirrors: the local folders that remote `$ref`s resolve from. */
function specMirrors(r: Reader): Record<string, string> {
    const mirrors = r.json("gateway:specMirrors", {}, isStringMap,
        "a map of URL prefixes to local folders, e.g. {\"https://raw.githubusercontent.com/\": \"vendor/raw.githubusercontent.com/\"}");
    for (const [prefix, folder] of Object.entries(mirrors)) {
        if (!MIRROR_PREFIX.test(prefix)) r.problem(`gateway:specMirrors.${prefix}`, shown(prefix), "an http(s) URL prefix ending with / (e.g. https://raw.githubusercontent.com/)");
        if (folder.trim() === "") r.problem(`gateway:specMirrors.${prefix}`, shown(folder), "a folder, relative to the project, that mirrors the URLs under the prefix");
    }
    return mirrors;
}

/** A list of operations as the preview names them ("METHOD /path"), under `key`. */
function operations(r: Reader, key: string, example: string): string[] {
    const routes = r.json(key, [], isStringList, `a list of operations, e.g. ${example}`);
    for (const route of routes) {
        if (!OPERATION.test(route)) r.problem(key, shown(route), "an operation as METHOD /path (GET, PUT, POST, DELETE, OPTIONS, HEAD, PATCH or ANY, then the path as the document writes it)");
    }
    return routes;
}

/** gateway:cloudWatchRole: one stack per account and region may own the setting, and only the primary does. */
function cloudWatchRole(r: Reader, isPrimary: boolean): CloudWatchRole | undefined {
    const key = "gateway:cloudWatchRole";
    const role = r.raw(key) === undefined ? undefined : r.oneOf<CloudWatchRole | "">(key, "", CLOUDWATCH_ROLES) || undefined;
    if (role === "create" && !isPrimary) {
        r.problem(key, shown("create"), "existing, or nothing: the API Gateway account settings are one per account and region, " +
            "so only the primary creates the CloudWatch role (set gateway:cloudWatchRole: create on the primary)");
        return undefined;
    }
    return role;
}

/** The gateway:* keys of one slot. */
export function gatewayConfig(r: Reader, isPrimary: boolean): GatewayConfig {
    const hosts = backendHosts(r);
    const variables = stageVariables(r, hosts);
    const mirrors = specMirrors(r);
    const publicRoutes = operations(r, "gateway:publicRoutes", "[\"GET /heartbeat\", \"ANY /registrar/login\"]");
    const authorizerRoutes = operations(r, "gateway:authorizerRoutes", "[\"POST /adoptions\"]");
    const binaryMediaTypes = r.json("gateway:binaryMediaTypes", ["multipart/form-data"], isStringList, "a list of media types, e.g. [multipart/form-data, image/*]");
    for (const type of binaryMediaTypes) {
        if (!MEDIA_TYPE.test(type)) r.problem("gateway:binaryMediaTypes", shown(type), "a media type such as multipart/form-data or image/*");
    }
    const rateLimit = r.number("gateway:rateLimit", 500, 1, 10000, false);
    const burstLimit = r.number("gateway:burstLimit", 1000, 1, 5000, true);
    if (burstLimit < rateLimit) r.problem("gateway:burstLimit", String(burstLimit), `a burst no smaller than gateway:rateLimit (${rateLimit})`);
    return {
        logLevel: r.oneOf("gateway:logLevel", "OFF", LOG_LEVELS),
        metrics: r.boolean("gateway:metrics", false),
        caching: r.boolean("gateway:caching", false),
        cacheClusterSize: r.oneOf("gateway:cacheClusterSize", "0.5", CACHE_CLUSTER_SIZES),
        rateLimit,
        burstLimit,
        hosts,
        specPath: r.string("gateway:spec", "api/openapi.yaml", /\.(ya?ml|json)$/, "a path to a .yaml, .yml or .json OpenAPI document"),
        specMirrors: mirrors,
        publicRoutes,
        authorizerRoutes,
        publicPreflights: r.boolean("gateway:publicPreflights", true),
        allowPublicCatchAll: r.boolean("gateway:allowPublicCatchAll", false),
        stageVariables: variables,
        binaryMediaTypes,
        releaseId: r.string("gateway:releaseId", undefined, STAGE_VARIABLE_VALUE, "a release tag of A-Z a-z 0-9 - . _ ~ : / ? # & = ,"),
        cloudWatchRole: cloudWatchRole(r, isPrimary),
    };
}
