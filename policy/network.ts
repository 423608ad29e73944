// Functions that talk to Redis run inside the VPC, in its private subnets.
import type { StackValidationPolicy } from "@pulumi/policy";
import { Props, asList, ofType } from "./support";

export const lambdaPrivateSubnets: StackValidationPolicy = {
    name: "redis-lambdas-in-private-subnets",
    description: "Lambda functions that use Redis (REDIS_HOST in their environment) run in the VPC's private subnets.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        // awsx.ec2.Vpc reports its subnets as outputs; a real preview also shows aws:ec2/subnet children.
        const vpcs = ofType(args.resources, "awsx:ec2:Vpc").map((v) => v.props as Props);
        const subnets = ofType(args.resources, "aws:ec2/subnet:Subnet").map((s) => s.props as Props);
        const publicIds = new Set<string>([
            ...vpcs.flatMap((v) => asList<string>(v.publicSubnetIds)),
            ...subnets.filter((s) => s.mapPublicIpOnLaunch === true || s.tags?.SubnetType === "Public").map((s) => s.id as string),
        ]);
        const privateIds = new Set<string>([
            ...vpcs.flatMap((v) => asList<string>(v.privateSubnetIds)),
            ...subnets.filter((s) => s.tags?.SubnetType === "Private").map((s) => s.id as string),
        ]);
        for (const fn of ofType(args.resources, "aws:lambda/function:Function")) {
            const props = fn.props as Props;
            if (!props.environment?.variables || !("REDIS_HOST" in props.environment.variables)) continue;
            const subnetIds = asList<string>(props.vpcConfig?.subnetIds);
            if (subnetIds.length === 0 || asList(props.vpcConfig?.securityGroupIds).length === 0) {
                report(`${fn.name} uses Redis but has no vpcConfig with subnets and security groups; run it in the VPC's private subnets.`, fn.urn);
                continue;
            }
            const exposed = subnetIds.filter((s) => publicIds.has(s));
            if (exposed.length > 0) report(`${fn.name} runs in public subnet(s) ${exposed.join(", ")}; use the VPC's private subnets.`, fn.urn);
            // A secondary slot's functions use subnets of the primary's VPC, which this stack cannot see.
            const unknown = privateIds.size > 0 ? subnetIds.filter((s) => !privateIds.has(s) && !publicIds.has(s)) : [];
            if (unknown.length > 0) report(`${fn.name} runs in subnet(s) ${unknown.join(", ")} that are not private subnets of this stack's VPC.`, fn.urn);
        }
    },
};
