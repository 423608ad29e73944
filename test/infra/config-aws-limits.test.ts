// Config refuses early what AWS would refuse late (the rules of preview/aws-rules/): the Redis AUTH
// token's characters, slot names every resource named after them can carry, a regional
// certificate from another region, and who owns the account's CloudWatch role.
import * as assert from "assert";
import { ConfigError, readLivePointerConfig, readSlotConfig } from "../../config";
import { configSource } from "../../stack-config";
import { mapSource } from "./harness";

const BASE = {
    "gateway:hosts": JSON.stringify({ edxapp_host: "courses.example.edu", discovery_host: "discovery.example.edu" }),
    "threescale:serviceId": "2555417777820",
    "threescale:serviceToken": "s3rvice-token-0123456789",
};
const PRIMARY = { ...BASE, "cache:authToken": "redis-auth-token-0123456789" };
/** The live pointer's stack owns the custom domain (live/Pulumi.live.yaml). */
const LIVE_POINTER = { "domain:name": "api.example.edu" };
const SECRETS = ["threescale:serviceToken", "cache:authToken"];

function problems(stack: string, values: Record<string, string>, env: NodeJS.ProcessEnv = {}): { key: string; got: string; expected: string }[] {
    return refusals(() => readSlotConfig(mapSource(stack, values, SECRETS), env));
}

function livePointerProblems(values: Record<string, string>, env: NodeJS.ProcessEnv = {}): { key: string; got: string; expected: string }[] {
    return refusals(() => readLivePointerConfig(configSource({ project: "api-ring-live", stack: "live", values, secretKeys: [] }), env));
}

function refusals(read: () => unknown): { key: string; got: string; expected: string }[] {
    try {
        read();
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems;
    }
    return [];
}

describe("config: what AWS would refuse, refused when config is read", () => {
    it("refuses a cache:authToken with a character ElastiCache refuses (only ! & # $ ^ < > - are allowed)", () => {
        for (const token of ["abcdefghij0123456789%", "abcdefghij0123456789*", "abcdefghij0123456789_", "abcdefghij 123456789"]) {
            const found = problems("red", { ...PRIMARY, "cache:authToken": token }).filter((p) => p.key === "cache:authToken");
            assert.strictEqual(found.length, 1, token);
            assert.match(found[0].expected, /! & # \$ \^ < > -/);
            assert.ok(!found[0].got.includes(token), "the secret is not echoed");
        }
        assert.deepStrictEqual(problems("red", { ...PRIMARY, "cache:authToken": "abc!&#$^<>-0123456789" }), []);
    });

    it("refuses slot names a stage, a function, a queue or the replication group cannot carry", () => {
        const order = (slots: string[]) => JSON.stringify(slots);
        for (const slot of ["red.1", "red/1", "red 1"]) {
            const found = problems("red", { ...PRIMARY, "ring:order": order(["red", slot]) }).filter((p) => p.key === "ring:order");
            assert.strictEqual(found.length, 1, slot);
            assert.match(found[0].got, new RegExp(slot.replace(/[./]/g, "\\$&")));
        }
        // Every name the program derives from a slot fits: the longest is the authorizer's IAM role (64 with pulumi-aws's suffix).
        const long = "b".repeat(25);
        assert.match(problems("red", { ...PRIMARY, "ring:order": order(["red", long]) }).map((p) => `${p.key}: ${p.expected}`).join("\n"), /ring:order: .*24 characters/);
        assert.deepStrictEqual(problems("red", { ...PRIMARY, "ring:order": order(["red", "b".repeat(24)]) }), []);
    });

    it("refuses a primary slot the replication group id cannot carry (a letter first, letters, digits and single hyphens, 15 characters)", () => {
        for (const primary of ["red_1", "1red", "red--a", "r".repeat(16)]) {
            const found = problems(primary, { ...PRIMARY, "ring:order": JSON.stringify([primary, "black"]) }).filter((p) => p.key === "ring:order");
            assert.strictEqual(found.length, 1, primary);
            assert.match(found[0].expected, /replication group/);
        }
        assert.deepStrictEqual(problems("r".repeat(15), { ...PRIMARY, "ring:order": JSON.stringify(["r".repeat(15), "black"]) }), []);
    });

    it("refuses a regional domain's certificate from another region than the API's", () => {
        const certificate = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/0a1b2c3d-0000-1111-2222-333344445555`;
        const found = livePointerProblems({ ...LIVE_POINTER, "aws:region": "us-east-1", "domain:certificateArn": certificate("eu-west-1") });
        assert.deepStrictEqual(found.map((p) => p.key), ["domain:certificateArn"]);
        assert.match(found[0].expected, /us-east-1/);
        assert.deepStrictEqual(livePointerProblems({ ...LIVE_POINTER, "aws:region": "us-east-1", "domain:certificateArn": certificate("us-east-1") }), []);
    });

    it("with no aws:region, judges the certificate by the region the AWS provider takes from the environment, and refuses nothing on it when none is known", () => {
        const certificate = (region: string) => `arn:aws:acm:${region}:123456789012:certificate/0a1b2c3d-0000-1111-2222-333344445555`;
        const withCertificate = { ...LIVE_POINTER, "domain:certificateArn": certificate("eu-west-1") };
        // @pulumi/aws config/vars.js: region = config aws:region ?? AWS_REGION ?? AWS_DEFAULT_REGION.
        assert.deepStrictEqual(livePointerProblems(withCertificate, { AWS_REGION: "eu-west-1" }), []);
        assert.deepStrictEqual(livePointerProblems(withCertificate, { AWS_DEFAULT_REGION: "eu-west-1" }), []);
        const found = livePointerProblems(withCertificate, { AWS_REGION: "us-west-2", AWS_DEFAULT_REGION: "eu-west-1" });
        assert.deepStrictEqual(found.map((p) => p.key), ["domain:certificateArn"]);
        assert.match(found[0].expected, /us-west-2 \(AWS_REGION\)/);
        assert.deepStrictEqual(livePointerProblems({ ...withCertificate, "aws:region": "eu-west-1" }, { AWS_REGION: "us-west-2" }), [], "aws:region wins over the environment");
        // No region known here: the provider finds it elsewhere (a profile's), so nothing is refused on it.
        assert.deepStrictEqual(livePointerProblems(withCertificate, {}), []);
    });

    it("authorizer:secretsExtensionLayerArn: a Lambda layer version ARN of at most 140 characters, in the stack's region when that is known", () => {
        const layer = (region: string, tail = "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:99") => `arn:aws:lambda:${region}:177933569100:layer:${tail}`;
        const key = "authorizer:secretsExtensionLayerArn";
        assert.deepStrictEqual(problems("red", { ...PRIMARY, "aws:region": "us-east-1", [key]: layer("us-east-1") }), []);
        assert.deepStrictEqual(problems("red", PRIMARY), [], "unset: the latest AWS publishes for the region");
        // CreateFunction, Layers: arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+, 1 to 140 characters.
        for (const bad of [layer("us-east-1", "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64"), "arn:aws:lambda:us-east-1:17793356910:layer:x:1",
            layer("us-east-1", "a.b:1"), layer("us-east-1", `${"x".repeat(100)}:1`), "AWS-Parameters-and-Secrets-Lambda-Extension-Arm64:99"]) {
            const found = problems("red", { ...PRIMARY, [key]: bad });
            assert.deepStrictEqual(found.map((p) => p.key), [key], bad);
            assert.match(found[0].expected, /a Lambda layer version ARN.*at most 140 characters/, bad);
        }
        const elsewhere = problems("red", { ...PRIMARY, "aws:region": "us-east-1", [key]: layer("eu-west-1") });
        assert.deepStrictEqual(elsewhere.map((p) => p.key), [key]);
        assert.match(elsewhere[0].expected, /a layer in us-east-1 \(aws:region\), the functions' region/);
        assert.deepStrictEqual(problems("red", { ...PRIMARY, [key]: layer("eu-west-1") }, { AWS_REGION: "us-east-1" }).map((p) => p.key), [key], "the region the provider takes from the environment");
        assert.deepStrictEqual(problems("red", { ...PRIMARY, [key]: layer("eu-west-1") }), [], "no region known: nothing refused on a guess");
    });

    it("lets only the primary own the account's CloudWatch role; any slot may say the account has one", () => {
        const black = { ...BASE };
        assert.deepStrictEqual(problems("red", { ...PRIMARY, "gateway:cloudWatchRole": "create" }), []);
        assert.deepStrictEqual(problems("black", { ...black, "gateway:cloudWatchRole": "existing" }), []);
        const found = problems("black", { ...black, "gateway:cloudWatchRole": "create" });
        assert.deepStrictEqual(found.map((p) => p.key), ["gateway:cloudWatchRole"]);
        assert.match(found[0].expected, /one per account and region/);
        assert.deepStrictEqual(problems("red", { ...PRIMARY, "gateway:cloudWatchRole": "yes" }).map((p) => p.key), ["gateway:cloudWatchRole"]);
    });
});
