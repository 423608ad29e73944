// The decision cache: encrypted, authenticated, and reachable from the authorizer Lambdas only.
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { Props, asList, forTypes, ofType } from "./support";

const REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup";
const SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup";
const INGRESS_RULES = ["aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "aws:ec2/securityGroupRule:SecurityGroupRule"];

export const redisEncryption: ResourceValidationPolicy = {
    name: "redis-encryption-and-auth",
    description: "ElastiCache Redis encrypts in transit and at rest and requires an AUTH token.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([REPLICATION_GROUP], (props, args, report) => {
        if (props.transitEncryptionEnabled !== true) report(`${args.name}: transitEncryptionEnabled is not true; set it so tokens and decisions never cross the VPC in clear text.`);
        if (props.atRestEncryptionEnabled !== true) report(`${args.name}: atRestEncryptionEnabled is not true; set it so cached decisions are encrypted on disk.`);
        if (!props.authToken) report(`${args.name}: no authToken; set one (a Pulumi secret) so only clients with the token can connect.`);
    }),
};

/** What is wrong with one ingress rule of a Redis security group; `strangers` are source groups no Lambda uses. */
function ruleProblems(rule: Props, port: number, strangers: string[]): string[] {
    const problems: string[] = [];
    const from = Number(rule.fromPort);
    const to = Number(rule.toPort);
    if (!(from === port && to === port)) problems.push(`opens ports ${from}-${to} instead of only ${port}`);
    const cidrs = [...asList<string>(rule.cidrBlocks), rule.cidrIpv4].filter(Boolean);
    if (cidrs.length > 0) problems.push(`admits CIDR ${cidrs.join(", ")}`);
    if (asList(rule.ipv6CidrBlocks).length > 0 || rule.cidrIpv6) problems.push("admits an IPv6 CIDR");
    if (rule.self === true) problems.push("admits the group itself (self)");
    if (strangers.length > 0) problems.push(`admits security group ${strangers.join(", ")}, which no Lambda uses`);
    return problems;
}

/** Security groups a property of `resource` refers to (the engine's property dependencies). */
function groupsIn(resource: PolicyResource, property: string): PolicyResource[] {
    return (resource.propertyDependencies[property] ?? []).filter((d) => d.type === SECURITY_GROUP);
}

export const redisIngress: StackValidationPolicy = {
    name: "redis-ingress-lambda-only",
    description: "The security groups of the Redis replication group admit only the Lambda security group, on the Redis port.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const lambdaGroups = new Set(ofType(args.resources, "aws:lambda/function:Function").flatMap((f) => groupsIn(f, "vpcConfig")).map((g) => g.urn));
        const strangersIn = (resource: PolicyResource, property: string) =>
            groupsIn(resource, property).filter((g) => !lambdaGroups.has(g.urn)).map((g) => g.name);
        for (const redis of ofType(args.resources, REPLICATION_GROUP)) {
            const port = Number((redis.props as Props).port ?? 6379);
            const groups = groupsIn(redis, "securityGroupIds");
            if (asList((redis.props as Props).securityGroupIds).length === 0) {
                report(`${redis.name}: no securityGroupIds, so the VPC's default group applies; attach a group that admits only the Lambda group.`, redis.urn);
                continue;
            }
            for (const group of groups) {
                const rules = asList<Props>((group.props as Props).ingress);
                // Inline rules share one property: its dependencies are every source group of the group.
                const strangers = strangersIn(group, "ingress");
                rules.forEach((rule, i) => {
                    for (const problem of ruleProblems(rule, port, i === 0 ? strangers : [])) {
                        report(`${group.name} (Redis of ${redis.name}) ingress[${i}] ${problem}; admit only the Lambda security group on port ${port}.`, group.urn);
                    }
                });
            }
            const groupUrns = new Set(groups.map((g) => g.urn));
            for (const rule of args.resources.filter((r) => INGRESS_RULES.includes(r.type))) {
                const p = rule.props as Props;
                const target = groupsIn(rule, "securityGroupId")[0];
                if (p.type === "egress" || !target || !groupUrns.has(target.urn)) continue;
                const strangers = [...strangersIn(rule, "referencedSecurityGroupId"), ...strangersIn(rule, "sourceSecurityGroupId")];
                for (const problem of ruleProblems({ ...p, fromPort: p.fromPort, toPort: p.toPort ?? p.fromPort }, port, strangers)) {
                    report(`${rule.name} (Redis of ${redis.name}) ${problem}; admit only the Lambda security group on port ${port}.`, rule.urn);
                }
            }
        }
    },
};
