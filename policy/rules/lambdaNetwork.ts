// Rule 3: functions that talk to Redis run in the VPC, in its private subnets.
// A stack validation: the subnets are outputs of the awsx.ec2.Vpc (or its aws:ec2/subnet
// children under a real preview, or the primary slot's outputs behind a StackReference).
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, elements, idOf, isOpaque, keysOf, ofType, read, referenced } from "./support";
import { T } from "./types";

/** Subnet ids known to be private or public, from every source the stack shows. */
export interface SubnetMap {
    private: Set<string>;
    public: Set<string>;
    privateResources: Set<PolicyResource>;
    publicResources: Set<PolicyResource>;
}

function strings(value: unknown): string[] {
    const e = elements(value);
    return e === UNKNOWN ? [] : e.filter((v): v is string => typeof v === "string" && !isOpaque(v));
}

/** Which subnets the stack shows as private or public. */
export function subnetMap(all: readonly PolicyResource[]): SubnetMap {
    const map: SubnetMap = { private: new Set(), public: new Set(), privateResources: new Set(), publicResources: new Set() };
    for (const vpc of ofType(all, T.awsxVpc)) {
        strings(read(vpc.props, "privateSubnetIds")).forEach((s) => map.private.add(s));
        strings(read(vpc.props, "isolatedSubnetIds")).forEach((s) => map.private.add(s));
        strings(read(vpc.props, "publicSubnetIds")).forEach((s) => map.public.add(s));
    }
    for (const ref of ofType(all, T.stackReference)) {
        strings(read(ref.props, "outputs", "privateSubnetIds")).forEach((s) => map.private.add(s));
        strings(read(ref.props, "outputs", "publicSubnetIds")).forEach((s) => map.public.add(s));
    }
    for (const subnet of ofType(all, T.subnet)) {
        const kind = read(subnet.props, "tags", "SubnetType");
        const isPublic = kind === "Public" || read(subnet.props, "mapPublicIpOnLaunch") === true;
        const isPrivate = !isPublic && (kind === "Private" || kind === "Isolated");
        const id = idOf(subnet);
        if (isPublic) {
            map.publicResources.add(subnet);
            if (id) map.public.add(id);
        } else if (isPrivate) {
            map.privateResources.add(subnet);
            if (id) map.private.add(id);
        }
    }
    return map;
}

/** Whether a function's environment names REDIS_HOST (the whole environment may be unknown in preview). */
function usesRedis(fn: PolicyResource): boolean {
    return keysOf(read(fn.props, "environment", "variables")).includes("REDIS_HOST");
}

function check(all: readonly PolicyResource[], report: ReportViolation): void {
    const map = subnetMap(all);
    const subnets = ofType(all, T.subnet);
    const canClassify = map.private.size + map.public.size + map.privateResources.size + map.publicResources.size > 0;
    for (const fn of ofType(all, T.lambdaFunction).filter(usesRedis)) {
        const vpcConfig = read(fn.props, "vpcConfig");
        if (vpcConfig === UNKNOWN) continue;
        const subnetIds = elements(read(vpcConfig, "subnetIds"));
        const groupIds = elements(read(vpcConfig, "securityGroupIds"));
        const missing = [
            ...(subnetIds !== UNKNOWN && subnetIds.length === 0 ? ["subnetIds"] : []),
            ...(groupIds !== UNKNOWN && groupIds.length === 0 ? ["securityGroupIds"] : []),
        ];
        if (vpcConfig === undefined || vpcConfig === null) {
            report(`${fn.name} uses Redis (REDIS_HOST) but has no vpcConfig; give it vpcConfig with the VPC's private subnet ids and the Lambda security group.`, fn.urn);
            continue;
        }
        if (missing.length > 0) {
            report(`${fn.name} uses Redis (REDIS_HOST) but its vpcConfig has no ${missing.join(" and no ")}; set the VPC's private subnet ids and the Lambda security group.`, fn.urn);
            continue;
        }
        if (subnetIds === UNKNOWN) continue;
        const found = referenced(fn, "vpcConfig", subnetIds, subnets);
        const exposed = [
            ...found.resources.filter((s) => map.publicResources.has(s)).map((s) => s.name),
            ...found.unresolved.filter((s) => map.public.has(s)),
        ];
        if (exposed.length > 0) {
            report(`${fn.name} runs in public subnet(s) ${exposed.join(", ")}; use the VPC's private subnets (awsx Vpc privateSubnetIds).`, fn.urn);
            continue;
        }
        // Subnet ids neither side knows: not provably private. Only judged when the stack shows
        // which subnets are private (a stack without the VPC and without a reference to it cannot tell).
        const strangers = found.unresolved.filter((s) => !map.private.has(s));
        if (canClassify && strangers.length > 0) {
            report(`${fn.name} runs in subnet(s) ${strangers.join(", ")}, which are not private subnets of the VPC; use the VPC's private subnets.`, fn.urn);
        }
    }
}

export const redisLambdasInPrivateSubnets: StackValidationPolicy = {
    name: "redis-lambdas-in-private-subnets",
    description: "Lambda functions that use Redis (REDIS_HOST in their environment) have a vpcConfig with subnets and security groups, and every subnet is a private subnet of the VPC.",
    remediationSteps: "Pass vpcConfig: { subnetIds: vpc.privateSubnetIds, securityGroupIds: [lambdaSecurityGroup.id] } to the function.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => check(args.resources, report),
};
