// EC2's creation rules for the network: security groups (EC2 API reference, CreateSecurityGroup,
// IpPermission) and the VPC, subnets, route tables, routes, internet gateway, Elastic IP and NAT
// gateway that awsx creates (CreateVpc, CreateSubnet, CreateRouteTable, AssociateRouteTable,
// CreateRoute, AttachInternetGateway, AllocateAddress, CreateNatGateway; Amazon VPC user guide "VPC
// CIDR blocks"), and EC2's tag restrictions for all of them.
import { AwsRule, Inputs, eachRule, enumRule, stringRule } from "./rule";

const SG = "aws:ec2/securityGroup:SecurityGroup";
/** The characters EC2 allows in group names and descriptions, and in rule descriptions. */
const SG_TEXT = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

/** A VPC id as EC2 makes them: vpc- and 8 or 17 hex digits. */
const VPC_ID = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
/** The EC2 resource types the program creates that take tags (routes and route table associations take none). */
const TAGGED = ["aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", SG, "aws:ec2/internetGateway:InternetGateway", "aws:ec2/routeTable:RouteTable", "aws:ec2/eip:Eip", "aws:ec2/natGateway:NatGateway"];

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
    stringRule({
        id: "ec2.internet-gateway-vpc", types: ["aws:ec2/internetGateway:InternetGateway"], input: "vpcId", pattern: VPC_ID,
        rule: "the id of the VPC to attach to (vpc-...)", source: "EC2 API reference, AttachInternetGateway (API_AttachInternetGateway.html), VpcId; terraform-provider-aws internal/service/ec2/vpc_internet_gateway.go (vpc_id)",
    }),
    stringRule({
        id: "ec2.route-table-vpc", types: ["aws:ec2/routeTable:RouteTable"], input: "vpcId", required: true, pattern: VPC_ID,
        rule: "the id of the route table's VPC (vpc-...), required", source: "EC2 API reference, CreateRouteTable (API_CreateRouteTable.html), VpcId (Required: Yes)",
    }),
    {
        id: "ec2.route-table-association-target", types: ["aws:ec2/routeTableAssociation:RouteTableAssociation"], input: "subnetId/gatewayId",
        rule: "a route table is associated with exactly one of a subnet or a gateway",
        source: "EC2 API reference, AssociateRouteTable (API_AssociateRouteTable.html), SubnetId / GatewayId; terraform-provider-aws internal/service/ec2/vpc_route_table_association.go (ExactlyOneOf subnet_id, gateway_id)",
        check(inputs) {
            const targets = ["subnetId", "gatewayId"].filter((k) => typeof inputs[k] === "string" && inputs[k] !== "");
            const routeTable = typeof inputs.routeTableId === "string" && inputs.routeTableId.startsWith("rtb-") ? [] : [{ input: "routeTableId", value: inputs.routeTableId, detail: "a route table id (rtb-...) is required" }];
            return [...routeTable, ...(targets.length === 1 ? [] : [{ input: targets.join(", ") || "subnetId", value: targets.length, detail: `${targets.length} targets` }])];
        },
    },
    enumRule({
        id: "ec2.eip-domain", types: ["aws:ec2/eip:Eip"], input: "domain", allowed: ["vpc", "standard"],
        source: "EC2 API reference, AllocateAddress (API_AllocateAddress.html), Domain (vpc | standard); terraform-provider-aws internal/service/ec2/ec2_eip.go (domain)",
    }),
    {
        id: "ec2.nat-gateway-allocation", types: ["aws:ec2/natGateway:NatGateway"], input: "allocationId",
        rule: "connectivityType public (the default) or private; a public NAT gateway in a subnet takes an Elastic IP's allocationId (eipalloc-...), a private one none",
        source: "EC2 API reference, CreateNatGateway (API_CreateNatGateway.html), AllocationId (\"[Public NAT gateways only]\") and ConnectivityType (private | public); " +
            "terraform-provider-aws internal/service/ec2/vpc_nat_gateway.go",
        check(inputs) {
            const connectivity = inputs.connectivityType ?? "public";
            if (connectivity !== "public" && connectivity !== "private") return [{ input: "connectivityType", value: connectivity }];
            const allocation = inputs.allocationId;
            if (connectivity === "private") return allocation === undefined ? [] : [{ input: "allocationId", value: allocation, detail: "a private NAT gateway takes no Elastic IP" }];
            if (inputs.subnetId === undefined) return []; // a regional NAT gateway picks its addresses per zone
            return typeof allocation === "string" && allocation.startsWith("eipalloc-") ? [] : [{ input: "allocationId", value: allocation, detail: "a public NAT gateway needs an Elastic IP" }];
        },
    },
    eachRule({
        id: "ec2.tags", types: TAGGED, input: "tags",
        rule: "at most 50 tags; keys of 1 to 127 characters not beginning with aws: (reserved for AWS), values of at most 255",
        source: "Amazon EC2 user guide, \"Tag your Amazon EC2 resources\", Tag restrictions",
        accepts: (tags) => {
            if (typeof tags !== "object" || tags === null) return "a map of keys to values";
            const entries = Object.entries(tags);
            if (entries.length > 50) return `${entries.length} tags`;
            const bad = entries.find(([k, v]) => k.length < 1 || k.length > 127 || /^aws:/i.test(k) || typeof v !== "string" || v.length > 255);
            return bad ? `tag ${JSON.stringify(bad[0])} = ${JSON.stringify(bad[1])}` : undefined;
        },
    }),
];
