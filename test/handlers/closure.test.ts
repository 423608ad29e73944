// The entry points must survive Pulumi's closure serialization (aws.lambda.CallbackFunction
// with callbackFactory). This serializes them the way CallbackFunction does, loads the text
// as a module, and runs the result against real Redis and the 3scale stand-in.
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { createAuthorizerHandler } from "../../handlers/authorizer";
import { createReporterHandler } from "../../handlers/reporter";
import { settingsToEnvironment } from "../../handlers/settings";
import { RedisServer, startRedis } from "../../dev-servers/redis-server";
import { METHOD_ARN, testSettings } from "../support/settings";
import { LocalSns, startLocalSns } from "../support/sns";
import { FakeThreescale, startThreescale } from "../../dev-servers/threescale";

const TOPIC = "arn:aws:sns:eu-west-1:123456789012:api-ring-usage";

type Handler = (event: unknown) => Promise<{ policyDocument?: { Statement: { Effect: string }[] }; context?: Record<string, string>; runs?: { hits: number }[] }>;

describe("handlers after Pulumi closure serialization", function () {
    this.timeout(60_000);
    let server: RedisServer;
    let fake: FakeThreescale;
    let sns: LocalSns;
    const dir = path.join(__dirname, "..", "..", ".closure-test");
    const saved = { ...process.env };

    before(async () => {
        server = await startRedis();
        fake = await startThreescale({ apps: [{ id: "app-9", userKey: "closure-key-0123456789ab", plan: "Enterprise" }] });
        sns = await startLocalSns();
        fs.mkdirSync(dir, { recursive: true });
    });
    after(async () => {
        process.env = saved;
        await fake.close();
        await sns.close();
        await server.close();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const load = async (factory: () => unknown, name: string): Promise<Handler> => {
        const serialized = await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true, allowSecrets: false });
        const file = path.join(dir, `${name}.js`);
        fs.writeFileSync(file, serialized.text);
        assert.ok(!/@pulumi\//.test(serialized.text), "no Pulumi module in the function text");
        Object.assign(process.env, settingsToEnvironment(testSettings(server, fake, { usageTopicArn: TOPIC })), {
            AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIDLOCAL", AWS_SECRET_ACCESS_KEY: "local", AWS_ENDPOINT_URL_SNS: sns.url,
        });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const mod = require(file) as Record<string, Handler>;
        return mod[serialized.exportName];
    };

    it("the serialized authorizer and reporter work against real Redis", async () => {
        const authorizer = await load(createAuthorizerHandler, "authorizer");
        const reporter = await load(createReporterHandler, "reporter");
        const event = { type: "TOKEN", authorizationToken: "Bearer closure-key-0123456789ab", methodArn: METHOD_ARN };
        const first = await authorizer(event);
        const second = await authorizer(event);
        const third = await authorizer(event);
        assert.strictEqual(first.context?.source, "3scale");
        assert.strictEqual(second.context?.source, "cache");
        assert.strictEqual(third.policyDocument?.Statement[0].Effect, "Allow");
        const unknown = await authorizer({ ...event, authorizationToken: "unknown-key-0123456789abcd" });
        assert.strictEqual(unknown.policyDocument?.Statement[0].Effect, "Deny");
        assert.strictEqual(unknown.context?.source, "3scale");
        assert.strictEqual(unknown.context?.reason, "user key invalid");
        assert.strictEqual((await authorizer({ ...event, authorizationToken: "unknown-key-0123456789abcd" })).context?.source, "cache");
        await assert.rejects(authorizer({ ...event, authorizationToken: "Bearer x" }), /Unauthorized/);
        const resources = (third.policyDocument?.Statement[0] as unknown as { Resource: string[] }).Resource;
        assert.deepStrictEqual(resources.map((r) => r.split("/red/")[1]), ["*/discovery/*", "GET/enterprise/v1/*"]);
        // The first cache hit opened the usage window: one Publish through the real SNS client.
        assert.strictEqual(sns.published.length, 1);
        assert.strictEqual(sns.published[0].topicArn, TOPIC);
        assert.deepStrictEqual({ ...JSON.parse(sns.published[0].message), at: "" }, { serviceId: fake.serviceId, reason: "window", at: "" });
        const delivery = { Records: [{ EventSource: "aws:sns", Sns: { MessageId: sns.published[0].messageId, Message: sns.published[0].message } }] };
        // All three allowed requests were counted in Redis (the first with its decision).
        const result = await reporter(delivery);
        assert.strictEqual(result.runs?.[0].hits, 3);
        assert.deepStrictEqual([...fake.reported], [["app-9", 3]]);
        const again = await reporter(delivery);
        assert.strictEqual(again.runs?.[0].hits, 0);
        assert.deepStrictEqual([...fake.reported], [["app-9", 3]]);
    });
});
