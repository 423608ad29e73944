// awsx.ec2.Vpc is a remote component: the awsx provider creates its children, so under Pulumi's
// mock runtime the program registers one `awsx:ec2:Vpc` and nothing below it. This expands it into
// the children awsx creates, from awsx's own source (pulumi/pulumi-awsx awsx/ec2/vpc.ts, Vpc.initialize,
// and awsx/ec2/subnetDistributorNew.ts, getSubnetSpecs / allocateSubnetCidrBlocks / nextNetmask,
// snapshot e60adf3c, after v3.8.0), for the arguments this program passes: an explicit cidrBlock,
// numberOfAvailabilityZones, subnetStrategy "Auto" with typed subnetSpecs and cidrMasks, and a
// natGateways strategy of "Single", "OnePerAz" or "None".
//
// What awsx creates, in its order and with its names and parents:
//   aws.ec2.Vpc `${name}` (parent: the component), aws.ec2.InternetGateway `${name}` (parent: the vpc);
//   per availability zone, its subnet specs sorted Public, Private, Isolated, each:
//     aws.ec2.Subnet `${name}-${type}-${az}` (parent: the vpc; mapPublicIpOnLaunch for Public;
//       tags Name and SubnetType), aws.ec2.RouteTable (parent: the subnet),
//       aws.ec2.RouteTableAssociation (parent: the route table);
//     on a Public subnet where the strategy wants a NAT gateway: aws.ec2.Eip `${name}-${az}` and
//       aws.ec2.NatGateway `${name}-${az}` (parent: the subnet);
//     aws.ec2.Route 0.0.0.0/0 (parent: the route table): to the internet gateway from a Public
//       subnet, to the NAT gateway (the first one for "Single", the zone's for "OnePerAz") from a
//       Private one; none from an Isolated one.

export interface VpcChild {
    type: string;
    name: string;
    /** The parent, by type and name: the component itself or another child. */
    parent: { type: string; name: string };
    inputs: Record<string, unknown>;
    id: string;
}

export interface ExpandedVpc {
    children: VpcChild[];
    outputs: { vpcId: string; publicSubnetIds: string[]; privateSubnetIds: string[]; isolatedSubnetIds: string[] };
}

interface SubnetSpec {
    type: "Public" | "Private" | "Isolated";
    cidrMask: number;
    name?: string;
}

const ORDER = { Public: 0, Private: 1, Isolated: 2 } as const;

function toInt(address: string): number {
    return address.split(".").reduce((a, o) => a * 256 + Number(o), 0);
}

function toAddress(n: number): string {
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** awsx's nextNetmask: the block of `bits` that follows the last address of `previous`. */
function nextBlock(previous: { base: number; bits: number }, bits: number): { base: number; bits: number } {
    const last = previous.base + 2 ** (32 - previous.bits) - 1;
    const size = 2 ** (32 - bits);
    return { base: Math.floor(last / size) * size + size, bits };
}

/** Refuses what this expansion does not model, naming the argument, rather than guessing. */
export class UnmodelledVpcArgs extends Error {}

function subnetSpecs(inputs: Record<string, unknown>): SubnetSpec[] {
    const specs = inputs.subnetSpecs;
    if (inputs.subnetStrategy !== "Auto" || !Array.isArray(specs) || specs.length === 0) {
        throw new UnmodelledVpcArgs(`awsx:ec2:Vpc: the offline preview models subnetStrategy "Auto" with subnetSpecs (got ${JSON.stringify(inputs.subnetStrategy)})`);
    }
    return specs.map((s: Record<string, unknown>) => {
        if (!["Public", "Private", "Isolated"].includes(String(s.type)) || typeof s.cidrMask !== "number") {
            throw new UnmodelledVpcArgs(`awsx:ec2:Vpc: subnetSpecs entry ${JSON.stringify(s)} needs a type Public, Private or Isolated and a cidrMask`);
        }
        return { type: s.type as SubnetSpec["type"], cidrMask: s.cidrMask, name: typeof s.name === "string" ? s.name : undefined };
    });
}

/** The children awsx creates for a Vpc named `name` with these inputs, in `region`; `id(kind, seed)` makes AWS-shaped ids. */
export function expandVpc(name: string, inputs: Record<string, unknown>, region: string, id: (prefix: string, seed: string) => string): ExpandedVpc {
    const cidr = typeof inputs.cidrBlock === "string" ? inputs.cidrBlock : "10.0.0.0/16";
    const [base, bitsText] = cidr.split("/");
    const zones = typeof inputs.numberOfAvailabilityZones === "number" ? inputs.numberOfAvailabilityZones : 3;
    const strategy = String((inputs.natGateways as Record<string, unknown> | undefined)?.strategy ?? "OnePerAz");
    if (!["Single", "OnePerAz", "None"].includes(strategy)) throw new UnmodelledVpcArgs(`awsx:ec2:Vpc: natGateways.strategy ${JSON.stringify(strategy)}`);
    const specs = subnetSpecs(inputs);
    const tags = (inputs.tags ?? {}) as Record<string, string>;
    const shared = { Name: name, ...tags };
    // One block per zone (the VPC's prefix plus enough bits for the zones), subnets packed in it in the spec order.
    const zoneBits = Number(bitsText) + Math.ceil(Math.log2(zones));
    const children: VpcChild[] = [];
    const component = { type: "awsx:ec2:Vpc", name };
    const vpc = { type: "aws:ec2/vpc:Vpc", name };
    const vpcId = id("vpc", name);
    children.push({ ...vpc, parent: component, id: vpcId, inputs: { cidrBlock: cidr, enableDnsHostnames: inputs.enableDnsHostnames, enableDnsSupport: inputs.enableDnsSupport, tags: shared } });
    const igwId = id("igw", name);
    children.push({ type: "aws:ec2/internetGateway:InternetGateway", name, parent: vpc, id: igwId, inputs: { vpcId, tags: shared } });

    const outputs: ExpandedVpc["outputs"] = { vpcId, publicSubnetIds: [], privateSubnetIds: [], isolatedSubnetIds: [] };
    const natIds: string[] = [];
    for (let zone = 0; zone < zones; zone++) {
        const zoneBase = toInt(base) + zone * 2 ** (32 - zoneBits);
        let block: { base: number; bits: number } | undefined;
        const blocks = specs.map((spec) => {
            block = block === undefined ? { base: zoneBase, bits: spec.cidrMask } : nextBlock(block, spec.cidrMask);
            return { spec, cidrBlock: `${toAddress(block.base)}/${block.bits}` };
        });
        for (const { spec, cidrBlock } of [...blocks].sort((a, b) => ORDER[a.spec.type] - ORDER[b.spec.type])) {
            const subnetName = `${name}-${spec.name ?? spec.type.toLowerCase()}-${zone + 1}`;
            const subnet = { type: "aws:ec2/subnet:Subnet", name: subnetName };
            const subnetId = id("subnet", subnetName);
            children.push({
                ...subnet, parent: vpc, id: subnetId,
                inputs: { vpcId, availabilityZone: `${region}${String.fromCharCode(97 + zone)}`, mapPublicIpOnLaunch: spec.type === "Public", cidrBlock, assignIpv6AddressOnCreation: false, tags: { ...shared, Name: subnetName, SubnetType: spec.type } },
            });
            outputs[spec.type === "Public" ? "publicSubnetIds" : spec.type === "Private" ? "privateSubnetIds" : "isolatedSubnetIds"].push(subnetId);
            const table = { type: "aws:ec2/routeTable:RouteTable", name: subnetName };
            const tableId = id("rtb", subnetName);
            children.push({ ...table, parent: subnet, id: tableId, inputs: { vpcId, tags: { ...shared, Name: subnetName, SubnetType: spec.type } } });
            children.push({ type: "aws:ec2/routeTableAssociation:RouteTableAssociation", name: subnetName, parent: table, id: id("rtbassoc", subnetName), inputs: { routeTableId: tableId, subnetId } });
            const wantsNat = strategy === "Single" ? natIds.length < 1 : strategy === "OnePerAz" ? natIds.length < zone + 1 : false;
            if (spec.type === "Public" && wantsNat) {
                const natName = `${name}-${zone + 1}`;
                const allocationId = id("eipalloc", natName);
                children.push({ type: "aws:ec2/eip:Eip", name: natName, parent: subnet, id: allocationId, inputs: { tags: { ...tags, Name: natName } } });
                const natId = id("nat", natName);
                children.push({ type: "aws:ec2/natGateway:NatGateway", name: natName, parent: subnet, id: natId, inputs: { subnetId, allocationId, tags: { ...tags, Name: natName } } });
                natIds.push(natId);
            }
            if (spec.type === "Public") {
                children.push({ type: "aws:ec2/route:Route", name: subnetName, parent: table, id: `r-${tableId}1080289494`, inputs: { routeTableId: tableId, gatewayId: igwId, destinationCidrBlock: "0.0.0.0/0" } });
            } else if (spec.type === "Private" && strategy !== "None") {
                const natGatewayId = strategy === "Single" ? natIds[0] : natIds[zone];
                children.push({ type: "aws:ec2/route:Route", name: subnetName, parent: table, id: `r-${tableId}1080289494`, inputs: { routeTableId: tableId, natGatewayId, destinationCidrBlock: "0.0.0.0/0" } });
            }
        }
    }
    return { children, outputs };
}
