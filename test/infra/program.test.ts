import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { ACCOUNT_SETTINGS_OUTPUT_NAMES, PRIMARY_OUTPUT_NAMES, SECRET_OUTPUT_NAMES, SLOT_OUTPUT_NAMES } from "../../outputs";
import { OfflineRun, previewStack, renderPreview } from "../../preview/cli";
import { PreviewResource, SECRET_MASK } from "../../policy/stack-model";
import { listStacks, loadStackConfig } from "../../stack-config";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- asserting on preview data

const PROJECT = path.resolve(__dirname, "..", "..", "..");

function byType(run: OfflineRun, type: string): PreviewResource[] {
    return run.resources.filter((r) => r.type === type);
}
function only(run: OfflineRun, type: string): PreviewResource {
    const found = byType(run, type);
    assert.strictEqual(found.length, 1, `one ${type} in ${run.stack}`);
    return found[0];
}

describe("program: every stack of the project under the mock runtime", function () {
    this.timeout(120_000);
    const runs = new Map<string, OfflineRun>();
    const stacks = listStacks(PROJECT);
    before(() => {
        for (const stack of stacks) runs.set(stack, previewStack(stack));
    });

    it("has a red and a black stack, red being the primary", () => {
        assert.deepStrictEqual(stacks, ["black", "red"]);
    });

    for (const stack of ["red", "black"]) {
        describe(`stack ${stack}`, () => {
            const run = () => runs.get(stack) as OfflineRun;
            const config = () => loadStackConfig(PROJECT, stack).values;

            it("sets the stage's log level, metrics, caching and throttling from the stack config", () => {
                const c = config();
                const settings = (only(run(), "aws:apigateway/methodSettings:MethodSettings").inputs as Json).settings;
                assert.strictEqual(settings.loggingLevel, c["gateway:logLevel"]);
                assert.strictEqual(settings.metricsEnabled, c["gateway:metrics"] === "true");
                assert.strictEqual(settings.cachingEnabled, c["gateway:caching"] === "true");
                assert.strictEqual(settings.throttlingRateLimit, Number(c["gateway:rateLimit"]));
                assert.strictEqual(settings.throttlingBurstLimit, Number(c["gateway:burstLimit"]));
            });

            it("carries the stack's hosts and release id as stage variables on a stage named after the slot", () => {
                const c = config();
                const stage = only(run(), "aws:apigateway/stage:Stage").inputs as Json;
                assert.strictEqual(stage.stageName, stack);
                assert.deepStrictEqual(stage.variables, { ...JSON.parse(c["gateway:hosts"]), id: c["gateway:releaseId"] });
            });

            it("runs every function in private subnets, never with a managed FullAccess policy", () => {
                const r = run();
                const privateSubnets = stack === "red"
                    ? (only(r, "awsx:ec2:Vpc").state as Json).privateSubnetIds
                    : (byType(r, "pulumi:pulumi:StackReference").find((x) => x.name === "primary-red")?.state as Json).outputs.privateSubnetIds;
                const fns = byType(r, "aws:lambda/function:Function");
                assert.strictEqual(fns.length, 2);
                for (const f of fns) {
                    const subnets = (f.inputs as Json).vpcConfig.subnetIds as string[];
                    assert.ok(subnets.length > 0 && subnets.every((s) => privateSubnets.includes(s)), `${f.name} in ${subnets}`);
                }
                for (const a of byType(r, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")) {
                    assert.doesNotMatch((a.inputs as Json).policyArn, /FullAccess$/);
                }
            });

            it("exports exactly the documented outputs, secrets as secrets", () => {
                const r = run();
                // red owns the region's API Gateway CloudWatch role (gateway:cloudWatchRole: create).
                const expected: readonly string[] = stack === "red" ? [...PRIMARY_OUTPUT_NAMES, ...ACCOUNT_SETTINGS_OUTPUT_NAMES] : SLOT_OUTPUT_NAMES;
                assert.deepStrictEqual(Object.keys(r.outputs).sort(), [...expected].sort());
                assert.deepStrictEqual(r.secretOutputs, SECRET_OUTPUT_NAMES.filter((n) => expected.includes(n)));
                for (const name of r.secretOutputs) assert.strictEqual(r.outputs[name], SECRET_MASK);
                assert.strictEqual(r.outputs.slot, stack);
                assert.strictEqual(r.outputs.stageName, stack);
                assert.match(r.outputs.invokeUrl as string, new RegExp(`^https://[a-z0-9]{10}\\.execute-api\\.us-east-1\\.amazonaws\\.com/${stack}$`));
                assert.match(r.outputs.specSha256 as string, /^[0-9a-f]{64}$/);
            });

            it("watches the slot: alarms on its API, its authorizer, its dead-letter queue and rejected usage, thresholds from config, exported by name", () => {
                const r = run();
                const alarms = byType(r, "aws:cloudwatch/metricAlarm:MetricAlarm");
                const names = alarms.map((a) => (a.inputs as Json).name as string).sort();
                assert.deepStrictEqual(names, [
                    `api-ring-${stack}-5xx-rate`, `api-ring-${stack}-authorizer-errors`, `api-ring-${stack}-authorizer-throttles`,
                    `api-ring-${stack}-latency-p99`, `api-ring-${stack}-usage-dead-letters`, `api-ring-${stack}-usage-rejected`,
                ]);
                assert.deepStrictEqual([...(r.outputs.alarmNames as string[])].sort(), names.filter((n) => !n.includes("-usage-")));
                assert.strictEqual(r.outputs.deadLetterAlarmName, `api-ring-${stack}-usage-dead-letters`);
                const byName = (suffix: string) => alarms.find((a) => ((a.inputs as Json).name as string).endsWith(suffix))?.inputs as Json;
                const api = { ApiName: `api-ring-${stack}`, Stage: stack };
                assert.deepStrictEqual(byName("5xx-rate").metricQueries[1].metric.dimensions, api);
                assert.strictEqual(byName("5xx-rate").threshold, 0.05);
                assert.strictEqual(byName("latency-p99").threshold, 3000);
                const authorizer = byType(r, "aws:lambda/function:Function").find((f) => f.name.endsWith("-authorizer")) as PreviewResource;
                assert.deepStrictEqual(byName("authorizer-throttles").dimensions, { FunctionName: (authorizer.state as Json).name });
                const dlq = only(r, "aws:sqs/queue:Queue");
                assert.deepStrictEqual(byName("dead-letters").dimensions, { QueueName: (dlq.state as Json).name });
            });

            it("alarm thresholds follow alarms:* config", () => {
                const r = previewStack(stack, { overrides: { "alarms:serverErrorRate": "0.2", "alarms:latencyP99Ms": "1500", "alarms:periodSeconds": "300", "alarms:minRequests": "100" } });
                const rate = byType(r, "aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => (a.inputs as Json).name.endsWith("5xx-rate"))?.inputs as Json;
                assert.strictEqual(rate.threshold, 0.2);
                assert.strictEqual(rate.metricQueries[0].metric.period, 300);
                assert.strictEqual(rate.metricQueries[2].expression, "IF(requests >= 100, errors / requests, 0)");
                const latency = byType(r, "aws:cloudwatch/metricAlarm:MetricAlarm").find((a) => (a.inputs as Json).name.endsWith("latency-p99"))?.inputs as Json;
                assert.strictEqual(latency.threshold, 1500);
            });

            it("never prints a secret value", () => {
                const text = JSON.stringify(run());
                assert.ok(!text.includes("offline-placeholder-"), "placeholder secrets are masked everywhere");
                for (const key of run().secretConfig) assert.strictEqual(run().config[key], SECRET_MASK);
            });
        });
    }

    it("red owns Redis with encryption in transit and at rest and an AUTH token, reachable only from the Lambda group", () => {
        const r = runs.get("red") as OfflineRun;
        const redis = only(r, "aws:elasticache/replicationGroup:ReplicationGroup");
        const i = redis.inputs as Json;
        assert.strictEqual(i.transitEncryptionEnabled, true);
        assert.strictEqual(i.atRestEncryptionEnabled, true);
        assert.strictEqual(i.authToken, SECRET_MASK);
        assert.deepStrictEqual(redis.secretInputs, ["authToken"]);
        const groups = byType(r, "aws:ec2/securityGroup:SecurityGroup");
        const lambdaGroup = groups.find((g) => g.name.endsWith("-lambda-sg")) as PreviewResource;
        const redisGroups = groups.filter((g) => (i.securityGroupIds as string[]).includes(g.id));
        assert.strictEqual(redisGroups.length, 1);
        const ingress = (redisGroups[0].inputs as Json).ingress as Json[];
        assert.deepStrictEqual(ingress.map((rule) => [rule.protocol, rule.fromPort, rule.toPort, rule.securityGroups, rule.cidrBlocks]),
            [["tcp", 6379, 6379, [lambdaGroup.id], undefined]]);
        for (const f of byType(r, "aws:lambda/function:Function")) {
            assert.deepStrictEqual((f.inputs as Json).vpcConfig.securityGroupIds, ingress[0].securityGroups);
        }
    });

    it("no slot owns the live pointer: no mapping, no domain, no routing rule; each reads the live pointer's stack", () => {
        for (const stack of ["red", "black"]) {
            const r = runs.get(stack) as OfflineRun;
            for (const type of ["aws:apigateway/basePathMapping:BasePathMapping", "aws:apigateway/domainName:DomainName", "aws:apigatewayv2/routingRule:RoutingRule", "api-ring:ring:DomainFlip"]) {
                assert.strictEqual(byType(r, type).length, 0, `${stack}: ${type}`);
            }
            const pointer = byType(r, "pulumi:pulumi:StackReference").find((x) => x.name === "live-pointer");
            assert.strictEqual((pointer?.inputs as Json).name, "organization/api-ring-live/live");
        }
    });

    it("red builds the ring's dashboard, every slot of ring:order side by side", () => {
        const r = runs.get("red") as OfflineRun;
        const dashboard = only(r, "aws:cloudwatch/dashboard:Dashboard").inputs as Json;
        assert.strictEqual(dashboard.dashboardName, "api-ring");
        const widgets = JSON.parse(dashboard.dashboardBody).widgets as Json[];
        for (const slot of ["red", "black"]) {
            assert.ok(widgets.some((w) => JSON.stringify(w.properties.metrics ?? []).includes(`"ApiName","api-ring-${slot}","Stage","${slot}"`)), slot);
        }
        assert.strictEqual(r.outputs.dashboardName, "api-ring");
    });

    it("black reads the network from the primary and owns no network or mapping", () => {
        const r = runs.get("black") as OfflineRun;
        const references = byType(r, "pulumi:pulumi:StackReference").map((x) => [x.name, (x.inputs as Json).name]).sort();
        assert.deepStrictEqual(references, [["deployed-black", "organization/api-ring/black"], ["live-pointer", "organization/api-ring-live/live"], ["primary-red", "organization/api-ring/red"]]);
        assert.strictEqual(byType(r, "aws:elasticache/replicationGroup:ReplicationGroup").length, 0);
        assert.strictEqual(byType(r, "aws:apigateway/basePathMapping:BasePathMapping").length, 0);
        assert.strictEqual(byType(r, "awsx:ec2:Vpc").length, 0);
        assert.strictEqual(byType(r, "aws:cloudwatch/dashboard:Dashboard").length, 0);
    });

    it("prints the resource tree and outputs like pulumi preview", () => {
        const text = renderPreview(runs.get("red") as OfflineRun);
        assert.match(text, /^ \+ {3}pulumi:pulumi:Stack +api-ring-red$/m);
        assert.match(text, /├─ api-ring:ring:GatewayRing +red-gateway/);
        assert.match(text, /└─ aws:cloudwatch\/dashboard:Dashboard +ring-dashboard/);
        assert.match(text, /redisAuthToken: +\[secret\]/);
        assert.match(text, /\+ \d+ to create/);
    });
});

describe("program: the guard rails", function () {
    this.timeout(60_000);
    const pointer = (liveSlot: string | null) => ({ liveSlot, previousLive: null, ringHistory: [], cohorts: [], liveUrl: "https://api.example.edu/", domainName: "api.example.edu" });

    it("refuses a changed spec in the live slot unless ring:allowLiveUpdate is true", () => {
        const deployedRed = { slot: "red", specSha256: "0".repeat(64) };
        assert.throws(() => previewStack("red", { deployed: { red: deployedRed } }),
            (e: Error) => /slot "red" is live and its OpenAPI document changed.*ring:allowLiveUpdate true -s red/s.test(e.message));
        const allowed = previewStack("red", { deployed: { red: deployedRed }, overrides: { "ring:allowLiveUpdate": "true" } });
        assert.strictEqual(allowed.outputs.slot, "red");
    });

    it("knows which slot is live from the live pointer's stack: an idle red may change its document", () => {
        const deployedRed = { slot: "red", specSha256: "0".repeat(64) };
        const idle = previewStack("red", { deployed: { red: deployedRed, live: pointer("black") } });
        assert.strictEqual(idle.outputs.slot, "red");
        assert.throws(() => previewStack("black", { deployed: { black: { slot: "black", specSha256: "0".repeat(64) }, live: pointer("black") } }),
            /slot "black" is live and its OpenAPI document changed/);
    });

    it("refuses to update a primary whose last outputs show it held the mapping, until the live pointer has taken it over", () => {
        const old = { slot: "red", specSha256: "0".repeat(64), liveSlot: "red", liveUrl: "https://api.example.edu/", ringHistory: [] };
        assert.throws(() => previewStack("red", { deployed: { red: old, live: {} } }),
            (e: Error) => /stack "red" was deployed by a ring that kept the custom domain's mapping in the primary's state .*this update would delete the mapping.*npm run ring -- migrate/s.test(e.message));
        const moved = previewStack("red", { deployed: { red: old, live: pointer("red") }, overrides: { "ring:allowLiveUpdate": "true" } });
        assert.strictEqual(moved.outputs.liveSlot, undefined, "the primary exports no liveSlot any more");
    });

    it("lets the live slot redeploy when its spec is unchanged", () => {
        const first = previewStack("red");
        const again = previewStack("red", { deployed: { red: { slot: "red", specSha256: first.outputs.specSha256 } } });
        assert.strictEqual(again.outputs.specSha256, first.outputs.specSha256);
    });

    it("refuses to build a secondary before the primary, naming the fix", () => {
        assert.throws(() => previewStack("black", { deployed: { red: null } }),
            (e: Error) => /primary "red", which has never been deployed.*pulumi up -s red/s.test(e.message));
    });

    it("stops on bad config before creating anything, listing every bad key", () => {
        assert.throws(() => previewStack("red", { overrides: { "gateway:logLevel": "LOUD", "gateway:burstLimit": "x" } }),
            (e: Error) => /gateway:logLevel: got "LOUD"; expected one of OFF, ERROR, INFO/.test(e.message) &&
                /gateway:burstLimit: got "x"/.test(e.message) && !/at .*\.js:\d+/.test(e.message));
    });

    it("stops on a spec that references a missing file, naming the file", () => {
        assert.throws(() => previewStack("red", { overrides: { "gateway:spec": "test/fixtures/broken/missing-ref.yaml" } }),
            (e: Error) => /gateway:spec: cannot use test\/fixtures\/broken\/missing-ref.yaml: 1 \$ref cannot be read:\n {2}- test\/fixtures\/broken\/missing-ref.yaml#\/paths\/~1x: .*does-not-exist\.yaml/.test(e.message));
    });
});

describe("program: offline preview command", function () {
    this.timeout(120_000);
    it("writes each Lambda's deployment archive: its serialized factory, its bundle and only the packages the handlers load lazily", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "api-ring-archives-"));
        const r = previewStack("black", { archiveDir: dir });
        assert.strictEqual(r.archives.length, 2);
        for (const a of r.archives) {
            assert.ok(fs.existsSync(path.join(a.dir, "__index.js")));
            assert.ok(fs.existsSync(path.join(a.dir, ".lambda", a.function, `${a.function.endsWith("-authorizer") ? "authorizer" : "reporter"}.js`)), "the bundle");
            // ioredis is inside the bundle; what ships beside it is only what the handlers load when first needed.
            assert.deepStrictEqual(a.packages, ["@aws-lambda-powertools/metrics", "fast-xml-parser"]);
            assert.ok(a.bytes > 0 && a.deflatedBytes < a.bytes && a.zippedBytes > a.deflatedBytes && a.zippedBytes < a.bytes);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("previews all stacks as JSON from the command line", () => {
        const out = execFileSync(process.execPath, [path.join(PROJECT, "bin/preview/cli.js"), "--json"], { encoding: "utf8" });
        const runs = JSON.parse(out) as OfflineRun[];
        assert.deepStrictEqual(runs.map((r) => r.stack), ["black", "red", "live"], "the slots' stacks and the live pointer's");
        assert.ok(runs.every((r) => r.resources.every((x) => typeof x.inputs === "object" && x.urn.startsWith("urn:pulumi:"))));
    });
});
