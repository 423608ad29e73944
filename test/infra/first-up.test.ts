// A first `pulumi up` in a fresh AWS account, as the offline preview's mock cloud (AWS's own
// creation rules, preview/aws-rules/) judges it: both stacks go through with nothing refused, the
// account's CloudWatch role owned by the primary, the REST API body importing with no warning, and
// every ARN in the region's partition.
import * as assert from "assert";
import { OfflineRun, previewStack } from "../../preview/cli";
import { previewFails } from "../support/preview";
import { upstreamOverrides } from "../support/upstream";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserting on preview data

function only(run: OfflineRun, type: string): Json {
    const found = run.resources.filter((r) => r.type === type);
    assert.strictEqual(found.length, 1, `one ${type} in ${run.stack}, found ${found.length}`);
    return found[0].inputs as Json;
}

describe("a first pulumi up in a fresh account (the mock cloud's AWS rules)", function () {
    this.timeout(180_000);
    const runs = new Map<string, OfflineRun>();
    /** Each stack's preview, run once; a refused one fails each test that needs it. */
    const preview = (stack: string): OfflineRun => {
        if (!runs.has(stack)) runs.set(stack, previewStack(stack));
        return runs.get(stack) as OfflineRun;
    };

    it("previews both stacks with nothing AWS would refuse, the primary owning the region's API Gateway CloudWatch role", () => {
        const red = preview("red");
        const account = only(red, "aws:apigateway/account:Account");
        const role = red.resources.find((r) => r.type === "aws:iam/role:Role" && String((r.inputs as Json).assumeRolePolicy?.Statement?.[0]?.Principal?.Service ?? JSON.stringify(r.inputs)).includes("apigateway.amazonaws.com"));
        assert.ok(role, "a role API Gateway assumes");
        assert.strictEqual(account.cloudwatchRoleArn, (role.state as Json).arn);
        assert.strictEqual(red.outputs.gatewayCloudWatchRoleArn, (role.state as Json).arn);
        // black reads nothing of it and owns nothing of it: one owner per account and region.
        assert.strictEqual(preview("black").resources.filter((r) => r.type === "aws:apigateway/account:Account").length, 0);
    });

    it("refuses a stage that logs in an account with no CloudWatch role, naming the fix", () => {
        const details = previewFails("red", { "gateway:cloudWatchRole": null });
        assert.match(details, /aws:apigateway\/stage:Stage "red-gateway-stage": accessLogSettings\.destinationArn .* refused: CloudWatch Logs role ARN must be set in account settings/);
        assert.match(details, /gateway:cloudWatchRole/);
    });

    it("counts another stack's CloudWatch role only in that stack's region: a slot in another region previews as a fresh region", () => {
        // red (us-east-1) owns the role; black in eu-west-1 logs where no setting names one.
        const details = previewFails("black", { "aws:region": "eu-west-1" });
        assert.match(details, /aws:apigateway\/stage:Stage "black-gateway-stage": accessLogSettings\.destinationArn .* refused: CloudWatch Logs role ARN must be set in account settings/);
        assert.doesNotThrow(() => previewStack("black", { overrides: { "aws:region": "eu-west-1", "gateway:cloudWatchRole": "existing" } }));
    });

    it("writes the gateway responses' statusCode as the string the extension documents, and sets failOnWarnings", () => {
        const api = only(preview("red"), "aws:apigateway/restApi:RestApi");
        assert.strictEqual(api.failOnWarnings, true);
        const responses = JSON.parse(api.body)["x-amazon-apigateway-gateway-responses"];
        for (const [type, response] of Object.entries(responses)) assert.strictEqual(typeof (response as Json).statusCode, "string", type);
    });

    it("imports a document whose integration responses use undeclared status codes with no warning: it adds the method responses and lists them", () => {
        const run = previewStack("red", { overrides: upstreamOverrides() });
        const body = JSON.parse(only(run, "aws:apigateway/restApi:RestApi").body);
        const operation = Object.values(body.paths as Record<string, Json>).flatMap((item) => Object.values(item))
            .find((op: Json) => Object.values(op?.["x-amazon-apigateway-integration"]?.responses ?? {}).some((r) => (r as Json).statusCode === "201")) as Json;
        assert.ok(operation, "the upstream fixture maps a backend status to 201");
        assert.ok("201" in operation.responses, "a method response 201 was added");
        assert.ok(run.diagnostics.some((d) => /method response 201 added/.test(d.message)), JSON.stringify(run.diagnostics));
    });

    it("shows the VPC's children as awsx creates them for the program's arguments, under the VPC", () => {
        const red = preview("red");
        const vpc = red.resources.find((r) => r.type === "awsx:ec2:Vpc") as OfflineRun["resources"][number];
        const under = (urn: string): OfflineRun["resources"] => red.resources.filter((r) => r.parent === urn).flatMap((r) => [r, ...under(r.urn)]);
        const children = under(vpc.urn);
        const count = (type: string) => children.filter((r) => r.type === `aws:ec2/${type}`).length;
        assert.deepStrictEqual([count("vpc:Vpc"), count("internetGateway:InternetGateway"), count("subnet:Subnet"), count("routeTable:RouteTable"),
            count("routeTableAssociation:RouteTableAssociation"), count("route:Route"), count("eip:Eip"), count("natGateway:NatGateway")], [1, 1, 4, 4, 4, 4, 1, 1]);
        const cidrs = Object.fromEntries(children.filter((r) => r.type === "aws:ec2/subnet:Subnet").map((r) => [r.name, (r.inputs as Json).cidrBlock]));
        assert.deepStrictEqual(cidrs, {
            "red-auth-cache-vpc-public-1": "10.40.0.0/24", "red-auth-cache-vpc-private-1": "10.40.4.0/22",
            "red-auth-cache-vpc-public-2": "10.40.128.0/24", "red-auth-cache-vpc-private-2": "10.40.132.0/22",
        });
        const nat = children.find((r) => r.type === "aws:ec2/natGateway:NatGateway") as OfflineRun["resources"][number];
        for (const route of children.filter((r) => r.type === "aws:ec2/route:Route" && r.name.includes("private"))) assert.strictEqual((route.inputs as Json).natGatewayId, nat.id);
        assert.deepStrictEqual(red.outputs.privateSubnetIds, children.filter((r) => r.name.includes("-private-") && r.type === "aws:ec2/subnet:Subnet").map((r) => r.id));
    });

    it("names every ARN in the region's partition: a ring in cn-north-1 previews", () => {
        const run = previewStack("red", { overrides: { "aws:region": "cn-north-1" } });
        const arns = JSON.stringify(run.resources.map((r) => r.inputs)).match(/arn:aws[a-z-]*:/g) ?? [];
        assert.ok(arns.length > 0);
        assert.deepStrictEqual([...new Set(arns)], ["arn:aws-cn:"]);
    });
});
