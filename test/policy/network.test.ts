// The network rules (policy/rules/network.ts) on the VPC awsx creates, as the offline preview
// models it, and on that VPC broken one way at a time.
import * as assert from "assert";
import { Violation, checkStack } from "../../policy/offline";
import { expandVpc } from "../../preview/aws-rules";
import type { PreviewResource } from "../../policy/stack-model";
import { Json, resource, stack } from "./fixtures";

const VPC_ARGS = { cidrBlock: "10.40.0.0/16", numberOfAvailabilityZones: 2, natGateways: { strategy: "Single" }, subnetStrategy: "Auto", subnetSpecs: [{ type: "Public", cidrMask: 24 }, { type: "Private", cidrMask: 22 }] };

/** The awsx VPC's children, a subnet group over its private subnets and a replication group in it. */
function network(): PreviewResource[] {
    const vpc = expandVpc("net", VPC_ARGS, "us-east-1", (prefix, seed) => `${prefix}-${seed}`);
    const children = vpc.children.map((c) => resource(c.type, c.name, { ...c.inputs }, { id: c.id, state: { id: c.id } }));
    return [
        resource("awsx:ec2:Vpc", "net", VPC_ARGS, { custom: false, id: "", state: vpc.outputs }),
        ...children,
        resource("aws:elasticache/subnetGroup:SubnetGroup", "cache-subnets", { name: "cache-subnets-1a2b3c4", subnetIds: vpc.outputs.privateSubnetIds }),
        resource("aws:elasticache/replicationGroup:ReplicationGroup", "redis", { subnetGroupName: "cache-subnets-1a2b3c4", transitEncryptionEnabled: true, atRestEncryptionEnabled: true, authToken: "[secret]" }, { secretInputs: ["authToken"] }),
    ];
}

function violations(resources: PreviewResource[], policy: string): Violation[] {
    return checkStack(stack(resources)).filter((v) => v.policy === policy);
}

function edit(resources: PreviewResource[], type: string, name: string, change: (inputs: Json) => void): PreviewResource[] {
    const found = resources.find((r) => r.type === type && r.name === name);
    assert.ok(found, `${type} ${name}`);
    change(found.inputs as Json);
    return resources;
}

describe("policy pack: the network", () => {
    it("the VPC awsx creates passes: private subnets route through the NAT gateway, Redis sits in them", () => {
        const resources = network();
        assert.deepStrictEqual(violations(resources, "private-subnets-egress-through-nat"), []);
        assert.deepStrictEqual(violations(resources, "redis-in-private-subnets"), []);
    });

    it("private-subnets-egress-through-nat: reports a private route table sending 0.0.0.0/0 to the internet gateway, and public addresses in a private subnet", () => {
        const resources = edit(network(), "aws:ec2/route:Route", "net-private-2", (i) => {
            i.gatewayId = "igw-net";
            delete i.natGatewayId;
        });
        edit(resources, "aws:ec2/subnet:Subnet", "net-private-1", (i) => { i.mapPublicIpOnLaunch = true; });
        assert.deepStrictEqual(violations(resources, "private-subnets-egress-through-nat").map((v) => v.message), [
            "net-private-1 is a private subnet but gives instances public addresses (mapPublicIpOnLaunch); turn it off.",
            "net-private-2 sends the private subnet net-private-2's traffic to 0.0.0.0/0 through gatewayId igw-net; a private subnet reaches the internet only through the VPC's NAT gateway.",
        ]);
    });

    it("redis-in-private-subnets: reports a subnet group with a public subnet, and a replication group without a subnet group", () => {
        const resources = edit(network(), "aws:elasticache/subnetGroup:SubnetGroup", "cache-subnets", (i) => { i.subnetIds = ["subnet-net-private-1", "subnet-net-public-1"]; });
        edit(resources, "aws:elasticache/replicationGroup:ReplicationGroup", "redis", (i) => { delete i.subnetGroupName; });
        assert.deepStrictEqual(violations(resources, "redis-in-private-subnets").map((v) => v.message), [
            "cache-subnets puts Redis in public subnet(s) subnet-net-public-1; use the VPC's private subnets.",
            "redis has no subnetGroupName, so ElastiCache would place it in the default VPC; give it a subnet group of the VPC's private subnets.",
        ]);
    });
});
