// The region's API Gateway account settings (components/gatewayAccount.ts) under the mock runtime:
// what the component registers, and the resource options that decide what `pulumi destroy` does.
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { GatewayAccount } from "../../components/gatewayAccount";
import { build, resolve } from "./harness";

/** Each child's resource options as the SDK hands them to the engine, by resource name. */
function recordingOptions(opts: pulumi.ComponentResourceOptions, seen: Map<string, pulumi.CustomResourceOptions>): pulumi.ComponentResourceOptions {
    const record: pulumi.ResourceTransformation = (a) => {
        seen.set(a.name, a.opts);
        return undefined;
    };
    return { ...opts, transformations: [...(opts.transformations ?? []), record] };
}

describe("GatewayAccount", () => {
    it("sets the region's CloudWatch role with a role API Gateway can assume, the policy attached first", async () => {
        const built = await build((opts) => new GatewayAccount("ga-basic", {}, opts));
        const role = built.one("aws:iam/role:Role");
        assert.match(JSON.stringify(role.inputs.assumeRolePolicy), /apigateway\.amazonaws\.com/);
        const push = built.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        assert.strictEqual(push.inputs.policyArn, "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs");
        const account = built.one("aws:apigateway/account:Account");
        assert.strictEqual(account.inputs.cloudwatchRoleArn, role.state.arn);
        assert.strictEqual(await resolve(built.component.cloudWatchRoleArn), role.state.arn);
    });

    // @pulumi/aws 7 is built on terraform-provider-aws v6, whose aws_api_gateway_account resets the
    // region's settings when it is deleted (hashicorp/terraform-provider-aws#42226, "remove
    // reset_on_delete"; the v6 upgrade guide: "The destroy operation will now always reset the API
    // Gateway account settings"). Deleting it, or the role it names, would stop the logs of every
    // REST API of the region, other stacks' included: all three are retained on delete.
    it("retains the account settings, the role and its policy when the stack destroys or drops them", async () => {
        const seen = new Map<string, pulumi.CustomResourceOptions>();
        await build((opts) => new GatewayAccount("ga-retained", {}, recordingOptions(opts, seen)));
        const retained = Object.fromEntries(["ga-retained-settings", "ga-retained-cloudwatch-role", "ga-retained-cloudwatch-push"]
            .map((name) => [name, seen.get(name)?.retainOnDelete]));
        assert.deepStrictEqual(retained, { "ga-retained-settings": true, "ga-retained-cloudwatch-role": true, "ga-retained-cloudwatch-push": true });
    });
});
