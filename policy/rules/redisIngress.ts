// Rule 2: Redis is reachable only from the Lambda security group, only on the Redis port.
// A stack validation: the replication group, its security groups, their rules (inline or
// separate resources) and the Lambdas' groups refer to each other by output values.
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, Unknown, elements, idOf, isOpaque, isSet, ofType, read, referenced } from "./support";
import { T } from "./types";

const DEFAULT_REDIS_PORT = 6379;

/** The security groups the stack's Lambdas run in: resources of the stack, plus ids of groups outside it. */
interface LambdaGroups {
    resources: Set<PolicyResource>;
    ids: Set<string>;
}

function lambdaGroups(all: readonly PolicyResource[], groups: readonly PolicyResource[]): LambdaGroups {
    const out: LambdaGroups = { resources: new Set(), ids: new Set() };
    for (const fn of ofType(all, T.lambdaFunction)) {
        const ids = elements(read(fn.props, "vpcConfig", "securityGroupIds"));
        const found = referenced(fn, "vpcConfig", ids === UNKNOWN ? [] : ids, groups);
        found.resources.forEach((g) => out.resources.add(g));
        found.unresolved.forEach((id) => out.ids.add(id));
    }
    for (const g of out.resources) {
        const id = idOf(g);
        if (id) out.ids.add(id);
    }
    return out;
}

/** A normalized ingress rule, from whichever resource shape it came. */
interface Rule {
    protocol: unknown;
    fromPort: unknown;
    toPort: unknown;
    cidrs: unknown[];
    ipv6Cidrs: unknown[];
    prefixLists: unknown[];
    self: unknown;
    /** Source security group ids (or opaque values). */
    sources: unknown[];
    /** The resource and property whose dependencies name the source groups. */
    owner: PolicyResource;
    property: string;
}

function list(value: unknown): unknown[] {
    const e = elements(value);
    return e === UNKNOWN ? [UNKNOWN] : e;
}

function present(values: unknown[]): unknown[] {
    return values.filter((v) => v !== undefined && v !== null && v !== "");
}

/** What is wrong with one rule; [] when it admits only Lambda groups on the Redis port. */
function problems(rule: Rule, port: number, target: PolicyResource, lambdas: LambdaGroups, groups: readonly PolicyResource[]): string[] {
    const out: string[] = [];
    const protocol = rule.protocol;
    if (protocol === "-1" || protocol === -1 || protocol === "all") {
        out.push("admits all protocols and ports (protocol -1)");
    } else if (!isOpaque(protocol) && protocol !== undefined && !["tcp", "6", 6].includes(protocol as string | number)) {
        out.push(`uses protocol ${String(protocol)} instead of tcp`);
    }
    const from = rule.fromPort;
    const to = rule.toPort;
    const portKnown = from !== UNKNOWN && to !== UNKNOWN;
    if (portKnown && !(Number(from) === port && Number(to) === port)) out.push(`opens ports ${String(from)}-${String(to)} instead of only ${port}`);
    const cidrs = present(rule.cidrs).filter((c) => c !== UNKNOWN);
    if (cidrs.length > 0) out.push(`admits CIDR ${cidrs.join(", ")}`);
    const v6 = present(rule.ipv6Cidrs).filter((c) => c !== UNKNOWN);
    if (v6.length > 0) out.push(`admits IPv6 CIDR ${v6.join(", ")}`);
    const prefixes = present(rule.prefixLists).filter((c) => c !== UNKNOWN);
    if (prefixes.length > 0) out.push(`admits prefix list ${prefixes.join(", ")}`);
    if (rule.self === true) out.push("admits its own members (self)");

    const sources = present(rule.sources);
    const found = referenced(rule.owner, rule.property, sources, groups);
    // Inline rules share the group's one `ingress` property, whose dependencies are every
    // rule's sources; use them only when this rule's own values are not known.
    const resources = rule.property === "ingress" && !found.opaque
        ? found.resources.filter((g) => sources.some((s) => s === idOf(g) || s === read(g.props, "arn")))
        : found.resources;
    for (const g of resources) {
        if (g === target) out.push("admits its own members (self)");
        else if (!lambdas.resources.has(g)) out.push(`admits security group ${g.name}, which no Lambda of this stack runs in`);
    }
    for (const id of found.unresolved) {
        if (!lambdas.ids.has(id)) out.push(`admits security group ${id}, which no Lambda of this stack runs in`);
    }
    const hasSource = sources.length > 0 || resources.length > 0 || rule.self === true || cidrs.length + v6.length + prefixes.length > 0;
    const anyUnknown = [rule.cidrs, rule.ipv6Cidrs, rule.prefixLists, rule.sources].some((l) => l.includes(UNKNOWN));
    if (!hasSource && !anyUnknown) out.push("names no source security group");
    return out;
}

function inlineRules(group: PolicyResource): Rule[] | Unknown {
    const ingress = elements(read(group.props, "ingress"));
    if (ingress === UNKNOWN) return UNKNOWN;
    return ingress.map((r) => ({
        protocol: read(r, "protocol"), fromPort: read(r, "fromPort"), toPort: read(r, "toPort"),
        cidrs: list(read(r, "cidrBlocks")), ipv6Cidrs: list(read(r, "ipv6CidrBlocks")), prefixLists: list(read(r, "prefixListIds")),
        self: read(r, "self"), sources: list(read(r, "securityGroups")), owner: group, property: "ingress",
    }));
}

function separateRule(r: PolicyResource): Rule | undefined {
    if (r.type === T.vpcIngressRule) {
        return {
            protocol: read(r.props, "ipProtocol"), fromPort: read(r.props, "fromPort"), toPort: read(r.props, "toPort") ?? read(r.props, "fromPort"),
            cidrs: list(read(r.props, "cidrIpv4")), ipv6Cidrs: list(read(r.props, "cidrIpv6")), prefixLists: list(read(r.props, "prefixListId")),
            self: undefined, sources: list(read(r.props, "referencedSecurityGroupId")), owner: r, property: "referencedSecurityGroupId",
        };
    }
    const type = read(r.props, "type");
    if (type !== "ingress") return undefined;
    return {
        protocol: read(r.props, "protocol"), fromPort: read(r.props, "fromPort"), toPort: read(r.props, "toPort"),
        cidrs: list(read(r.props, "cidrBlocks")), ipv6Cidrs: list(read(r.props, "ipv6CidrBlocks")), prefixLists: list(read(r.props, "prefixListIds")),
        self: read(r.props, "self"), sources: list(read(r.props, "sourceSecurityGroupId")), owner: r, property: "sourceSecurityGroupId",
    };
}

function check(all: readonly PolicyResource[], report: ReportViolation): void {
    const groups = ofType(all, T.securityGroup);
    const lambdas = lambdaGroups(all, groups);
    const separate = ofType(all, T.vpcIngressRule, T.ec2SecurityGroupRule);
    for (const redis of ofType(all, T.replicationGroup)) {
        const portValue = read(redis.props, "port");
        const port = typeof portValue === "number" ? portValue : DEFAULT_REDIS_PORT;
        const ids = elements(read(redis.props, "securityGroupIds"));
        const attached = referenced(redis, "securityGroupIds", ids === UNKNOWN ? [] : ids, groups);
        if (ids !== UNKNOWN && !isSet(ids) && attached.resources.length === 0) {
            report(`${redis.name}: no securityGroupIds, so the VPC's default security group applies; attach a group that admits only the Lambda security group on port ${port}.`, redis.urn);
            continue;
        }
        for (const group of attached.resources) {
            const where = `${group.name} (security group of Redis ${redis.name})`;
            const rules = inlineRules(group);
            if (rules !== UNKNOWN) {
                rules.forEach((rule, i) => {
                    for (const p of problems(rule, port, group, lambdas, groups)) {
                        report(`${where}: ingress[${i}] ${p}; admit only the Lambda security group, on port ${port}.`, group.urn);
                    }
                });
            }
            for (const r of separate) {
                const target = read(r.props, "securityGroupId");
                const on = referenced(r, "securityGroupId", [target], groups);
                if (!on.resources.includes(group)) continue;
                const rule = separateRule(r);
                if (!rule) continue;
                for (const p of problems(rule, port, group, lambdas, groups)) {
                    report(`${r.name} (ingress rule of ${where}): ${p}; admit only the Lambda security group, on port ${port}.`, r.urn);
                }
            }
        }
    }
}

export const redisIngressLambdaOnly: StackValidationPolicy = {
    name: "redis-ingress-lambda-only",
    description: "The security groups of each Redis replication group admit only the security group(s) the stack's Lambdas run in, only on the Redis port: no CIDR, IPv6 CIDR, prefix list or self rule, inline or as separate rule resources.",
    remediationSteps: "Give the Redis security group one ingress rule: protocol tcp, fromPort = toPort = the Redis port, securityGroups: [the Lambda security group id]; remove every other ingress.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => check(args.resources, report),
};
