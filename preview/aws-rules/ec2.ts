// EC2's creation rules for the network: security groups (EC2 API reference, CreateSecurityGroup,
// IpPermission) and the VPC, subnets and routes that awsx creates (CreateVpc, CreateSubnet,
// CreateRoute; Amazon VPC user guide "VPC CIDR blocks").
import { AwsRule, Inputs, eachRule, stringRule } from "./rule";

const SG = "aws:ec2/securityGroup:SecurityGroup";
/** The characters EC2 allows in group names and descriptions, and in rule descriptions. */
const SG_TEXT = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

function cidrPrefix(cidr: unknown): number | undefined {
    const m = typeof cidr === "string" ? /^(\d{1,3}\.){3}\d{1,3}\/(\d{1,2})$/.exec(cidr) : null;
    return m ? Number(m[2]) : undefined;
}

export const EC2_RULES: AwsRule[] = [
    stringRule({
        id: "ec2.security-group-name", types: [SG], input: "name", required: true, max: 255, pattern: /^(?!sg-)[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/,
        rule: "up to 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*, not starting with sg-",
        source: "EC2 API reference, CreateSecurityGroup (API_CreateSecurityGroup.html), GroupName",
    }),
    stringRule({
        id: "ec2.security-group-description", types: [SG], input: "description", max: 255, pattern: SG_TEXT,
        rule: "up to 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*", source: "EC2 API reference, CreateSecurityGroup, GroupDescription",
    }),
    {
        id: "ec2.security-group-rule-description", types: [SG], input: "ingress/egress description",
        rule: "up to 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*", source: "EC2 API reference, IpRange / UserIdGroupPair (API_IpRange.html), Description",
        check(inputs) {
            return (["ingress", "egress"] as const).flatMap((direction) => (Array.isArray(inputs[direction]) ? inputs[direction] as Inputs[] : [])
                .map((r, i) => ({ input: `${direction}.${i}.description`, value: r.description }))
                .filter((f) => typeof f.value === "string" && (f.value.length > 255 || !SG_TEXT.test(f.value))));
        },
    },
    {
        id: "ec2.security-group-rule-ports", types: [SG], input: "ingress/egress ports",
        rule: "protocol -1 (all) takes ports 0 to 0; tcp and udp take fromPort <= toPort within 0-65535",
        source: "EC2 API reference, IpPermission (API_IpPermission.html), FromPort / ToPort / IpProtocol",
        check(inputs) {
            return (["ingress", "egress"] as const).flatMap((direction) => (Array.isArray(inputs[direction]) ? inputs[direction] as Inputs[] : [])
                .map((r, i) => ({ r, input: `${direction}.${i}` }))
                .filter(({ r }) => {
                    const from = Number(r.fromPort);
                    const to = Number(r.toPort);
                    if (String(r.protocol) === "-1") return !(from === 0 && to === 0);
                    return !(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= 65535);
                })
                .map(({ r, input }) => ({ input, value: `${r.protocol} ${r.fromPort}-${r.toPort}` })));
        },
    },
    eachRule({
        id: "ec2.vpc-cidr", types: ["aws:ec2/vpc:Vpc"], input: "cidrBlock", rule: "an IPv4 block from /16 to /28",
        source: "EC2 API reference, CreateVpc (API_CreateVpc.html), CidrBlock; Amazon VPC user guide, \"VPC CIDR blocks\"",
        accepts: (v) => { const p = cidrPrefix(v); return p !== undefined && p >= 16 && p <= 28 ? undefined : ""; },
    }),
    eachRule({
        id: "ec2.subnet-cidr", types: ["aws:ec2/subnet:Subnet"], input: "cidrBlock", rule: "an IPv4 block from /16 to /28",
        source: "EC2 API reference, CreateSubnet (API_CreateSubnet.html), CidrBlock; Amazon VPC user guide, \"Subnet CIDR blocks\"",
        accepts: (v) => { const p = cidrPrefix(v); return p !== undefined && p >= 16 && p <= 28 ? undefined : ""; },
    }),
    {
        id: "ec2.route-target", types: ["aws:ec2/route:Route"], input: "gatewayId/natGatewayId/...",
        rule: "a route has exactly one target", source: "EC2 API reference, CreateRoute (API_CreateRoute.html): \"You must specify exactly one of the following\"",
        check(inputs) {
            const targets = ["gatewayId", "natGatewayId", "networkInterfaceId", "transitGatewayId", "vpcPeeringConnectionId", "vpcEndpointId", "egressOnlyGatewayId", "carrierGatewayId", "localGatewayId", "coreNetworkArn"]
                .filter((k) => inputs[k] !== undefined && inputs[k] !== null && inputs[k] !== "");
            return targets.length === 1 ? [] : [{ input: targets.join(", ") || "target", value: targets.length }];
        },
    },
];
