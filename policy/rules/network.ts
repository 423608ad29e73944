// The network the decision cache lives in: private subnets reach the internet only through a NAT
// gateway (never an internet gateway, never a public address), and Redis runs only in private
// subnets. Stack validations over the VPC's children (awsx creates them; the offline preview
// models them from awsx's source) and the ElastiCache subnet group.
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { subnetMap } from "./lambdaNetwork";
import { UNKNOWN, elements, idOf, isOpaque, ofType, read } from "./support";
import { T } from "./types";

const DEFAULT_ROUTES = ["0.0.0.0/0", "::/0"];

function known(value: unknown): string | undefined {
    return typeof value === "string" && !isOpaque(value) ? value : undefined;
}

function privateEgress(all: readonly PolicyResource[], report: ReportViolation): void {
    const map = subnetMap(all);
    const nats = new Set(ofType(all, T.natGateway).map(idOf).filter((id): id is string => id !== undefined));
    const privateSubnets = ofType(all, T.subnet).filter((s) => map.privateResources.has(s) || map.private.has(idOf(s) ?? ""));
    for (const subnet of privateSubnets) {
        if (read(subnet.props, "mapPublicIpOnLaunch") === true) {
            report(`${subnet.name} is a private subnet but gives instances public addresses (mapPublicIpOnLaunch); turn it off.`, subnet.urn);
        }
        const subnetId = idOf(subnet);
        const tables = ofType(all, T.routeTableAssociation)
            .filter((a) => subnetId !== undefined && known(read(a.props, "subnetId")) === subnetId)
            .map((a) => known(read(a.props, "routeTableId")));
        for (const route of ofType(all, T.route).filter((r) => tables.includes(known(read(r.props, "routeTableId"))))) {
            const destination = read(route.props, "destinationCidrBlock") ?? read(route.props, "destinationIpv6CidrBlock");
            if (!DEFAULT_ROUTES.includes(String(destination))) continue;
            const nat = known(read(route.props, "natGatewayId"));
            if (nat !== undefined && (nats.size === 0 || nats.has(nat))) continue;
            if (read(route.props, "natGatewayId") === UNKNOWN) continue;
            const target = ["gatewayId", "networkInterfaceId", "transitGatewayId", "vpcPeeringConnectionId", "egressOnlyGatewayId"]
                .map((k) => [k, known(read(route.props, k))]).find(([, v]) => v !== undefined);
            report(`${route.name} sends the private subnet ${subnet.name}'s traffic to ${destination} through ${target ? `${target[0]} ${target[1]}` : "no NAT gateway"}; ` +
                "a private subnet reaches the internet only through the VPC's NAT gateway.", route.urn);
        }
    }
}

function redisPrivate(all: readonly PolicyResource[], report: ReportViolation): void {
    const map = subnetMap(all);
    const canClassify = map.private.size + map.public.size + map.privateResources.size + map.publicResources.size > 0;
    const publicIds = new Set([...map.public, ...[...map.publicResources].map(idOf).filter((id): id is string => id !== undefined)]);
    const privateIds = new Set([...map.private, ...[...map.privateResources].map(idOf).filter((id): id is string => id !== undefined)]);
    const groups = ofType(all, T.cacheSubnetGroup);
    for (const group of groups) {
        const ids = elements(read(group.props, "subnetIds"));
        if (ids === UNKNOWN) continue;
        const subnetIds = ids.map(known).filter((id): id is string => id !== undefined);
        const exposed = subnetIds.filter((id) => publicIds.has(id));
        const strangers = subnetIds.filter((id) => !publicIds.has(id) && !privateIds.has(id));
        if (exposed.length > 0) report(`${group.name} puts Redis in public subnet(s) ${exposed.join(", ")}; use the VPC's private subnets.`, group.urn);
        else if (canClassify && strangers.length > 0) report(`${group.name} puts Redis in subnet(s) ${strangers.join(", ")}, which are not private subnets of the VPC; use the VPC's private subnets.`, group.urn);
    }
    const groupNames = new Set(groups.map((g) => known(read(g.props, "name"))).filter((n): n is string => n !== undefined));
    for (const redis of ofType(all, T.replicationGroup)) {
        const name = read(redis.props, "subnetGroupName");
        if (name === UNKNOWN) continue;
        if (name === undefined || name === null) {
            report(`${redis.name} has no subnetGroupName, so ElastiCache would place it in the default VPC; give it a subnet group of the VPC's private subnets.`, redis.urn);
        } else if (known(name) !== undefined && canClassify && !groupNames.has(String(name).toLowerCase()) && !groupNames.has(String(name))) {
            report(`${redis.name} uses the subnet group ${name}, which this stack does not define over its private subnets.`, redis.urn);
        }
    }
}

export const privateSubnetsEgressThroughNat: StackValidationPolicy = {
    name: "private-subnets-egress-through-nat",
    description: "A private subnet's default route (0.0.0.0/0, ::/0) goes to the VPC's NAT gateway, never an internet gateway or anything else, and it assigns no public addresses.",
    remediationSteps: "Keep the awsx Vpc's natGateways strategy (Single or OnePerAz); do not add routes to the internet gateway in private route tables.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => privateEgress(args.resources, report),
};

export const redisInPrivateSubnets: StackValidationPolicy = {
    name: "redis-in-private-subnets",
    description: "ElastiCache runs only in private subnets: every subnet of its subnet group is a private subnet of the VPC, and the replication group uses such a subnet group.",
    remediationSteps: "Create the subnet group with subnetIds: vpc.privateSubnetIds and pass its name as the replication group's subnetGroupName.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => redisPrivate(args.resources, report),
};
